from datetime import date, timedelta

from django.db.models import F, Q, QuerySet
from django.http import Http404

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from patients.selectors import visible_through

from .models import PriorAuthorization
from .services import warn_days, warn_units_percent

Status = PriorAuthorization.Status


def authorizations_visible_to(user: User) -> QuerySet[PriorAuthorization]:
    """Authorizations of the patients a staff member may open; none for patients (billing is staff-only)."""
    qs = PriorAuthorization.objects.select_related("patient", "payer")
    if not user.is_authenticated or user.role not in STAFF_ROLES:
        return qs.none()
    return qs.filter(visible_through(user, "patient"))


def get_authorization_for_user(user: User, pk: int) -> PriorAuthorization:
    """The authorization with this id if the user may see its patient; 404 otherwise, revealing nothing."""
    authorization = authorizations_visible_to(user).filter(pk=pk).first()
    if authorization is None:
        raise Http404("No such authorization.")
    return authorization


def running_out(qs: QuerySet[PriorAuthorization], *, today: date) -> QuerySet[PriorAuthorization]:
    """Approved authorizations ending within the warning window or with their units nearly used."""
    ends_soon = Q(ends_on__lte=today + timedelta(days=warn_days()))
    # units_used / units_authorized >= percent / 100, in whole numbers so no rounding lets one slip through.
    nearly_used = Q(used_x100__gte=F("units_authorized") * warn_units_percent(), units_authorized__gt=0)
    return (
        qs.filter(status=Status.APPROVED, ends_on__gte=today)  # ended ones drop out before the daily check marks them
        .alias(used_x100=F("units_used") * 100)
        .filter(ends_soon | nearly_used)
        .order_by("ends_on", "pk")
    )


def authorization_list(user: User, *, status: str = "", ending_soon: bool = False, today: date):
    qs = authorizations_visible_to(user)
    if ending_soon:
        qs = running_out(qs, today=today)
    if status:
        qs = qs.filter(status=status)
    else:
        # The working list: what is still open or running. Expired, cancelled and ended ones are found by status.
        qs = qs.exclude(status__in=(Status.EXPIRED, Status.CANCELLED)).exclude(
            status=Status.APPROVED, ends_on__lt=today
        )
    return qs
