from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.patient_scope import visible_through
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.labels import day_time_label
from kap_clinic.kernel.paging import Concatenated

from .models import Reminder


def reminders_visible_to(user: User) -> QuerySet[Reminder]:
    if user.role not in STAFF_ROLES:
        return Reminder.objects.none()
    return Reminder.objects.filter(visible_through(user, "patient")).select_related("patient", "rule")


def nearest_first(reminders: QuerySet[Reminder], *, now: datetime | None = None) -> Concatenated:
    """Upcoming reminders first, the soonest at the top; then the rest (due, sent, cancelled), the latest first.

    Two queries in the order of the `scheduled_for` index, read one after the other, so a page costs the same with
    years of reminders as with a week's.
    """
    now = now or timezone.now()
    return Concatenated(
        reminders.filter(scheduled_for__gte=now).order_by("scheduled_for", "-pk"),
        reminders.filter(scheduled_for__lt=now).order_by("-scheduled_for", "-pk"),
    )


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


def _when(moment: datetime | None) -> str:
    return day_time_label(moment) if moment else ""


def with_display_dates(reminders: list[Reminder]) -> list[Reminder]:
    """The reminders shown on a page, each with its times written out once in the clinic's time (`due_label`,
    `event_label`, `sent_label`): a row prints some of them twice (for wide and narrow screens)."""
    for reminder in reminders:
        reminder.due_label = _when(reminder.scheduled_for)
        reminder.event_label = _when(reminder.event_at)
        reminder.sent_label = _when(reminder.sent_at)
    return reminders
