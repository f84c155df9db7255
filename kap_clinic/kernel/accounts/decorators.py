"""Access checks for views, backed by the permissions roles.py gives each role's group."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .roles import ROLE_PERMISSION


def permission_required(*perms):
    """Signed-in users holding any of these permissions only; others get 403 (anonymous users go to sign-in).

    Unlike Django's decorator of the same name, a signed-in user without the permission is refused, not sent to
    sign in again.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.is_active and any(user.has_perm(perm) for perm in perms)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_required(*roles):
    """Signed-in users of the given roles only: they hold the role's `accounts.role_<role>` permission."""
    return permission_required(*(ROLE_PERMISSION[role] for role in roles))
