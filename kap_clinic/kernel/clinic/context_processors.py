from django.conf import settings

from .contact import clinic_phone
from .navigation import items_for


def clinic(request):
    user = getattr(request, "user", None)
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": clinic_phone(),
        "nav_items": items_for(user) if user is not None else [],
    }
