from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html_join

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.patient_scope import visible_through
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.labels import day_time_label
from kap_clinic.kernel.paging import Concatenated
from kap_clinic.kernel.urltags import row_address

from .models import Channel, DeliveryAttempt, Reminder, ReminderRule


def reminders_visible_to(user: User) -> QuerySet[Reminder]:
    if user.role not in STAFF_ROLES:
        return Reminder.objects.none()
    return Reminder.objects.filter(visible_through(user, "patient")).select_related("patient", "rule")


# How far the reminders list counts each way from now: twenty pages of fifty ("Page 1 of 20+" beyond). Staff look
# for the next reminders, or narrow the list by status (failed, needs checking), rather than page further.
COUNTED = 1000


def nearest_first(reminders: QuerySet[Reminder], *, now: datetime | None = None, cap: int = COUNTED) -> Concatenated:
    """Upcoming reminders first, the soonest at the top; then the rest (due, sent, cancelled), the latest first.

    Two queries in the order of the `scheduled_for` index, read one after the other, each counted no further than
    `cap`, so a page costs the same with years of reminders as with a week's.
    """
    now = now or timezone.now()
    return Concatenated(
        reminders.filter(scheduled_for__gte=now).order_by("scheduled_for", "-pk"),
        reminders.filter(scheduled_for__lt=now).order_by("-scheduled_for", "-pk"),
        cap=cap,
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


# What the reminders list reads of each row, its patient and its rule: the columns it shows, no more.
LISTED_COLUMNS = (
    "patient_id",
    "alert_id",
    "rule_id",
    "channel",
    "scheduled_for",
    "event_at",
    "status",
    "attempts",
    "sent_at",
    "needs_attention",
    "status_reason",
    "recipient",
    "patient__mrn",
    "rule__event",
    "rule__name",
)

_CHANNELS = dict(Channel.choices)
_STATUSES = dict(Reminder.Status.choices)
_OUTCOMES = dict(DeliveryAttempt.Outcome.choices)
_EVENTS = dict(ReminderRule.Event.choices)
STAFF_ALERT = "Staff alert, emailed to a member of staff"


def reminders_listed(user: User, *, status: str = "") -> QuerySet[Reminder]:
    """The reminders `user` may see, narrowed to a status ("attention": those flagged for staff to check), reading
    only the columns the list shows."""
    reminders = reminders_visible_to(user).only(*LISTED_COLUMNS)
    if status == "attention":
        return reminders.filter(needs_attention=True)
    if status in Reminder.Status.values:
        return reminders.filter(status=status)
    return reminders


def with_display(reminders: list[Reminder]) -> list[Reminder]:
    """The reminders shown on a page, each with what its row prints worked out once: its times in the clinic's time
    (`due_label`, `event_label`, `sent_label`), what it was about (`about`), its channel and status in words, and its
    delivery attempts, a line each (`attempt_lines`), read in one query for the rows that made any (a claim counts
    `attempts` up before the attempt is written under that number: a reminder with none counted has none), and the
    addresses it links to (`chart_url`; `resend_url` for a failed one)."""
    tried = [reminder.pk for reminder in reminders if reminder.attempts]
    lines: dict[int, list[tuple[str]]] = {}
    if tried:
        attempts = (
            DeliveryAttempt.objects.filter(reminder_id__in=tried)
            .order_by("reminder_id", "number")
            .values_list("reminder_id", "number", "outcome", "reason")
        )
        for reminder_id, number, outcome, reason in attempts:
            line = f"{number}: {_OUTCOMES.get(outcome, outcome)}" + (f" — {reason}" if reason else "")
            lines.setdefault(reminder_id, []).append((line,))
    chart, resend = row_address("homes:patient_chart"), row_address("notifications:resend")
    for reminder in reminders:
        reminder.chart_url = chart(reminder.patient_id)
        reminder.resend_url = resend(reminder.pk) if reminder.status == Reminder.Status.FAILED else ""
        reminder.due_label = _when(reminder.scheduled_for)
        reminder.event_label = _when(reminder.event_at)
        reminder.sent_label = _when(reminder.sent_at)
        reminder.channel_label = _CHANNELS.get(reminder.channel, reminder.channel)
        reminder.status_label = _STATUSES.get(reminder.status, reminder.status)
        rule = reminder.rule
        if reminder.alert_id is not None or rule is None:
            reminder.about = STAFF_ALERT
        else:
            reminder.about = f"{_EVENTS.get(rule.event, rule.event)}: {rule.name}"
        reminder.attempt_lines = format_html_join("", "<br><small>{}</small>", lines.get(reminder.pk, ()))
    return reminders
