"""Which reminders exist for an occasion: written in the booking's transaction, kept matching it.

The database holds the future. `reminders_sync` runs in the same transaction as every booking, move, cancellation
and no-show of a session, and every change to a check-in, so a target's pending reminders always match it. What
each kind of target is reminded of comes from the occasion its app registered (`occasions.py`); the rules (when,
before the event) are edited by admins, and quiet hours move a reminder out of the night. Sending is in
`delivery.py`.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.rules import reminder_timing as rules

from . import occasions
from .models import NOTICE_EVENTS, Reminder, ReminderRule
from .tasks import enqueue_on_commit

Status = Reminder.Status


def quiet_hours() -> rules.QuietHours:
    """The configured quiet hours; an unreadable time falls back to the default (`manage.py check` reports it)."""
    return rules.QuietHours(
        start=rules.parse_clock_or(settings.REMINDER_QUIET_START, rules.DEFAULT_QUIET_START),
        end=rules.parse_clock_or(settings.REMINDER_QUIET_END, rules.DEFAULT_QUIET_END),
    )


def reminders_sync_for_patient(patient, *, now: datetime | None = None) -> None:
    """Re-plan everything upcoming for a patient, after a change of contact details or consent."""
    now = now or timezone.now()
    for occasion in occasions.registered():
        for target in occasion.upcoming_for_patient(patient, now):
            reminders_sync(target, now=now)


def reminders_sync(target, *, now: datetime | None = None) -> list[Reminder]:
    """Make a target's reminders match it, in the caller's transaction: new ones written, stale pending ones
    cancelled. Reminders already written for the target's current times are kept (sent ones are never redone).
    Returns the reminders now pending for it."""
    now = now or timezone.now()
    occasion = occasions.occasion_for(target)
    # Locked, so a move racing a change of the patient's consent cannot plan from the old time.
    target = occasion.model.objects.select_for_update(of=("self",)).select_related("patient").get(pk=target.pk)
    by_target = {occasion.field: target}
    # Notices of a change are the change's own messages, not reminders of the event: planning leaves them alone.
    existing = list(Reminder.objects.select_for_update().filter(notice_key__isnull=True, **by_target))
    anchors = occasion.anchors(target)
    gone = occasion.not_needed(target)
    wanted: dict[tuple[int, str], tuple[datetime, datetime]] = {}
    anchor_of: dict[int, datetime] = {}
    live_keys: set[tuple[int, str]] = set()
    if not gone:
        patient = target.patient
        channels = rules.channels_for(
            consents_to_email=patient.consents_to_email,
            email=patient.email,
            consents_to_sms=patient.consents_to_sms,
            phone=patient.phone,
        )
        active = list(ReminderRule.objects.filter(event__in=occasion.events, is_active=True))
        for event in occasion.events:
            anchor = anchors[event]
            event_rules = [rule for rule in active if rule.event == event]
            anchor_of.update({rule.pk: anchor.at for rule in event_rules})
            live_keys |= {(rule.pk, channel) for rule in event_rules for channel in channels}
            planned = rules.plan_reminders(
                anchor.at,
                {rule.pk: anchor.offset(rule.offset_minutes) for rule in event_rules},
                now=now,
                tz=timezone.get_current_timezone(),
                quiet=quiet_hours(),
                until=anchor.until,
            )
            wanted.update({(p.rule_key, channel): (p.due_at, anchor.at) for p in planned for channel in channels})
    reason = (
        f"Not needed: {gone}." if gone else f"Replaced: the {occasion.noun} was moved, or the rule or consent changed."
    )
    covered = set()
    for row in existing:
        key = (row.rule_id, row.channel)
        current = key in live_keys and row.event_at == anchor_of.get(row.rule_id)
        if current and row.status != Status.CANCELLED:
            covered.add(key)
        elif row.status == Status.PENDING:
            row.status, row.status_reason = Status.CANCELLED, reason
            row.save(update_fields=["status", "status_reason", "updated_at"])
    due_now = []
    for (rule_id, channel), (due_at, anchor_at) in wanted.items():
        if (rule_id, channel) in covered:
            continue
        # The same key cancelled earlier (a session moved away and back) is revived: the key stays unique.
        same_key = [r for r in existing if (r.rule_id, r.channel, r.scheduled_for) == (rule_id, channel, due_at)]
        row = next((r for r in same_key if r.status == Status.CANCELLED), None)
        if row is None:
            row = Reminder(patient=target.patient, rule_id=rule_id, channel=channel, scheduled_for=due_at, **by_target)
        row.status, row.status_reason, row.event_at, row.next_try_at = Status.PENDING, "", anchor_at, due_at
        row.save()
        if due_at <= now:
            due_now.append(row.pk)
    if due_now:
        enqueue_on_commit(due_now)
    return list(Reminder.objects.filter(status=Status.PENDING, **by_target).order_by("scheduled_for"))


def notice_write(target, *, change: str, now: datetime | None = None) -> list[Reminder]:
    """Tell the patient that staff moved (`change` = appointment_moved) or cancelled (appointment_cancelled) an
    appointment, in the caller's transaction (right after the change was saved), on each channel the patient
    consents to.

    At most once per change and channel: the row's `notice_key`, which names the change (the target as saved by it),
    is unique in the database. Like a reminder, a notice waits for the end of quiet hours, unless that would be after
    the appointment (then it goes at once); it is checked again when sent (consent, and that the appointment has not
    changed since). An earlier notice still waiting for the same appointment is replaced. Nothing is written for an
    appointment already started, or when the clinic has switched the notice's rule off. Returns the notices written.
    """
    now = now or timezone.now()
    if change not in NOTICE_EVENTS:
        raise ValueError(f"not a notice: {change}")
    occasion = occasions.occasion_for(target)
    at = next(iter(occasion.anchors(target).values())).at
    rule = ReminderRule.objects.filter(event=change, is_active=True).order_by("offset_minutes", "pk").first()
    if rule is None or at <= now:
        return []
    by_target = {occasion.field: target}
    change_id = f"{at.astimezone(UTC):%Y%m%d%H%M}-{target.updated_at.astimezone(UTC):%Y%m%d%H%M%S%f}"
    waiting = Reminder.objects.filter(notice_key__isnull=False, status=Status.PENDING, **by_target)
    waiting.exclude(notice_key__contains=f"-{change}-{change_id}-").update(
        status=Status.CANCELLED, status_reason="Replaced: a later change was made.", updated_at=now
    )
    patient = target.patient
    channels = rules.channels_for(
        consents_to_email=patient.consents_to_email,
        email=patient.email,
        consents_to_sms=patient.consents_to_sms,
        phone=patient.phone,
    )
    minute = now.replace(second=0, microsecond=0)
    due = max(quiet_hours().adjust(minute, at, timezone.get_current_timezone()), minute)
    written = []
    for channel in channels:
        row, created = Reminder.objects.get_or_create(
            notice_key=f"{occasion.field}-{target.pk}-{change}-{change_id}-{channel}",
            defaults={
                "patient": patient,
                "rule": rule,
                "channel": channel,
                "scheduled_for": due,
                "event_at": at,
                "next_try_at": due,
                **by_target,
            },
        )
        if created:
            written.append(row)
    due_now = [row.pk for row in written if row.next_try_at <= now]
    if due_now:
        enqueue_on_commit(due_now)
    return written


@transaction.atomic
def reminder_resend(*, reminder: Reminder, by) -> Reminder:
    """Staff send a failed reminder again by hand (after checking a flagged one with the patient): it is pending
    again, due now."""
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.status != Status.FAILED:
        raise ValidationError("Only a failed reminder can be sent again.")
    now = timezone.now()
    reminder.status, reminder.next_try_at, reminder.needs_attention = Status.PENDING, now, False
    reminder.status_reason = f"Resent by hand by user #{by.pk}."
    reminder.enqueued_at = None
    reminder.save(update_fields=["status", "next_try_at", "needs_attention", "status_reason", "enqueued_at"])
    enqueue_on_commit([reminder.pk])
    return reminder
