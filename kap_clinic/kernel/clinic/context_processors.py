from django.conf import settings

from .contact import clinic_phone
from .navigation import menu_for


def clinic(request):
    user = getattr(request, "user", None)
    nav_items, nav_more = menu_for(user) if user is not None else ([], [])
    return {
        "clinic_name": settings.CLINIC_NAME,
        # Called only by a page that shows it ("please call the clinic at ..."), so other pages make no query.
        "clinic_phone": clinic_phone,
        "nav_items": nav_items,
        "nav_more": nav_more,
    }
