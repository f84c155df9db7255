from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User
from .roles import MANAGE_STAFF, STAFF_ROLES


def staff_list_for_user(user: User) -> QuerySet[User]:
    """Staff accounts a clinic admin manages (break-glass superusers are kept in the Django admin)."""
    if not user.has_perm(MANAGE_STAFF):
        return User.objects.none()
    qs = User.objects.filter(role__in=STAFF_ROLES)
    if not user.is_superuser:
        qs = qs.filter(is_superuser=False)
    has_device = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return qs.annotate(has_authenticator=Exists(has_device)).order_by("-is_active", "last_name", "first_name", "pk")


def get_staff_for_user(user: User, pk: int) -> User:
    """One staff account the user may manage; 404 for anything else (patients' accounts, superusers, unknown ids)."""
    staff = staff_list_for_user(user).filter(pk=pk).first()
    if staff is None:
        raise Http404
    return staff
