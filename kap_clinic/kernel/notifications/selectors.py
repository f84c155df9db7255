from django.db.models import Count, Q, QuerySet
from django.http import Http404

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.patient_scope import visible_through
from kap_clinic.kernel.accounts.roles import STAFF_ROLES

from .models import Reminder


def reminders_visible_to(user: User) -> QuerySet[Reminder]:
    if user.role not in STAFF_ROLES:
        return Reminder.objects.none()
    return Reminder.objects.filter(visible_through(user, "patient")).select_related("patient", "rule")


def get_reminder_for_user(user: User, pk: int) -> Reminder:
    reminder = reminders_visible_to(user).filter(pk=pk).first()
    if reminder is None:
        raise Http404("No such reminder.")
    return reminder


def reminder_problems() -> dict:
    """Counts for the admin's home page: failed reminders, and those a crash left for staff to check."""
    return Reminder.objects.filter(status=Reminder.Status.FAILED).aggregate(
        failed=Count("pk"), attention=Count("pk", filter=Q(needs_attention=True))
    )
