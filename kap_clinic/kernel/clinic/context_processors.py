from django.conf import settings

from .navigation import items_for


def clinic(request):
    user = getattr(request, "user", None)
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "nav_items": items_for(user) if user is not None else [],
    }
