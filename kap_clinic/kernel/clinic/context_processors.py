from functools import partial

from django.conf import settings
from django.template.backends.utils import csrf_input
from django.utils.functional import SimpleLazyObject

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
        # The form token as a hidden input, worked out on first use and then printed as it is: a list whose every row
        # has a form writes `{{ csrf_input }}` in it rather than `{% csrf_token %}`, which renders again per row.
        "csrf_input": SimpleLazyObject(partial(csrf_input, request)),
    }
