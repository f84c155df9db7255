from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from patients.selectors import visible_through
from sessions.models import DosingSession
from sessions.selectors import sessions_between

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


def unconfirmed_tomorrow(user: User) -> list[dict]:
    """Tomorrow's booked sessions whose patient has not confirmed, or has not named a driver home."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    sessions = sessions_between(user, tomorrow).filter(status=DosingSession.Status.SCHEDULED)
    missing = []
    for session in sessions:
        confirmation = getattr(session, "confirmation", None)
        if confirmation is None or confirmation.confirmed_start != session.starts_at:
            missing.append({"session": session, "problem": "Not confirmed; no driver named"})
        elif not confirmation.driver_name:
            missing.append({"session": session, "problem": "No driver named"})
    return missing


def reminder_problems() -> dict:
    """Counts for the admin's home page: failed reminders, and those a crash left for staff to check."""
    return Reminder.objects.filter(status=Reminder.Status.FAILED).aggregate(
        failed=Count("pk"), attention=Count("pk", filter=Q(needs_attention=True))
    )
