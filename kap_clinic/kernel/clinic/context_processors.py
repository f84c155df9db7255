from django.conf import settings

from .navigation import menu_for


def clinic(request):
    user = getattr(request, "user", None)
    nav_items, nav_more = menu_for(user) if user is not None else ([], [])
    return {
        "clinic_name": settings.CLINIC_NAME,
        "nav_items": nav_items,
        "nav_more": nav_more,
    }
