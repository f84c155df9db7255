from datetime import datetime

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.patient_scope import visible_through
from kap_clinic.kernel.accounts.roles import STAFF_ROLES

from .models import Reminder


def reminders_visible_to(user: User) -> QuerySet[Reminder]:
    if user.role not in STAFF_ROLES:
        return Reminder.objects.none()
    return Reminder.objects.filter(visible_through(user, "patient")).select_related("patient", "rule")


def nearest_first(reminders: QuerySet[Reminder], *, now: datetime | None = None) -> QuerySet[Reminder]:
    """Upcoming reminders first, the soonest at the top; then the rest (due, sent, cancelled), the latest first."""
    now = now or timezone.now()
    return reminders.annotate(
        upcoming_at=Case(When(scheduled_for__gte=now, then=F("scheduled_for"))),
        past_at=Case(When(scheduled_for__lt=now, then=F("scheduled_for"))),
    ).order_by(F("upcoming_at").asc(nulls_last=True), F("past_at").desc(nulls_last=True), "-pk")


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
