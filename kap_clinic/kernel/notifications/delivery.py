"""Delivery: each due reminder sent at most once, on its channel.

The sweep (tasks.release_due_reminders) queues due rows by id (`reminders_release`); `reminder_deliver` claims a row
with a conditional UPDATE, checks under its target's lock that it is still wanted (through the occasion its app
registered, see `occasions.py`), records the attempt (with its idempotency key) before handing the message to the
backend, and marks the row sent only when the backend accepted. A row left in `sending` by a crash is settled by
asking the backend about that key, or flagged for staff (`reminders_settle_stale`).
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from kap_clinic.kernel import sending

from . import content, occasions
from .backends import Message, channel_for
from .models import NOTICE_EVENTS, Channel, DeliveryAttempt, Reminder, ReminderRule, StaffAlert

log = logging.getLogger(__name__)

Status = Reminder.Status
Outcome = DeliveryAttempt.Outcome


def reminders_release(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending reminders that are due and not queued in the last few minutes; marks them queued."""
    return sending.release_due(Reminder, now=now or timezone.now(), limit=limit)


def _skip_reason(reminder: Reminder, now: datetime) -> str:
    """Why a claimed reminder must not go out after all ("" when it should). Its target is locked by the caller."""
    if reminder.alert_id is not None:
        return _alert_skip_reason(reminder)
    occasion = occasions.occasion_of(reminder)
    target = getattr(reminder, occasion.field)
    if reminder.rule.event in NOTICE_EVENTS:
        return _notice_skip_reason(reminder, occasion, target, now) or _consent_skip_reason(reminder, target.patient)
    gone = occasion.not_needed(target)
    if gone:
        return f"Not sent: {gone}."
    anchor = occasion.anchors(target)[reminder.rule.event]
    if anchor.at != reminder.event_at:
        return f"Not sent: the {occasion.noun} was moved."
    if anchor.until <= now:
        return f"Not sent: {occasion.too_late(reminder.rule.event)}."
    consent = _consent_skip_reason(reminder, target.patient)
    if consent:
        return consent
    # Another rule's reminder of the same event, due later than this one and already due, says it more recently.
    superseded = (
        Reminder.objects.filter(
            **{occasion.field: target},
            channel=reminder.channel,
            event_at=reminder.event_at,
            rule__event=reminder.rule.event,
            scheduled_for__gt=reminder.scheduled_for,
            scheduled_for__lte=now,
        )
        .exclude(rule=reminder.rule_id)
        .exclude(status=Status.CANCELLED)
        .exists()
    )
    if superseded:
        return f"Not sent: a later reminder for this {occasion.noun} is already due."
    return ""


def _consent_skip_reason(reminder: Reminder, patient) -> str:
    if reminder.channel == Channel.EMAIL and not (patient.consents_to_email and patient.email):
        return "Not sent: no consent to email, or no address."
    if reminder.channel == Channel.SMS and not (patient.consents_to_sms and patient.phone):
        return "Not sent: no consent to text messages, or no number."
    return ""


def _notice_skip_reason(reminder: Reminder, occasion, target, now: datetime) -> str:
    """A notice of a change is of no use once the appointment changed again or has started."""
    at = next(iter(occasion.anchors(target).values())).at
    if reminder.event_at <= now:
        return f"Not sent: the {occasion.noun} time has passed."
    cancelled = bool(occasion.not_needed(target))
    if reminder.rule.event == ReminderRule.Event.APPOINTMENT_CANCELLED:
        return "" if cancelled else f"Not sent: the {occasion.noun} is no longer cancelled."
    if cancelled or at != reminder.event_at:
        return f"Not sent: the {occasion.noun} was changed again."
    return ""


def _alert_skip_reason(reminder: Reminder) -> str:
    if reminder.alert.acknowledged_at is not None:
        return "Not sent: the alert was already acknowledged."
    if not reminder.staff_user.is_active or not reminder.staff_user.email:
        return "Not sent: the staff account is inactive or has no email address."
    return ""


def reminder_message(reminder: Reminder) -> Message:
    """The message for a reminder: time, place and preparation, with no clinical detail (checked before sending)."""
    if reminder.alert_id is not None:
        alert = reminder.alert
        ctx = {"alert": alert, "home_url": occasions.portal_url(), "clinic_name": settings.CLINIC_NAME}
        return Message(
            to=reminder.staff_user.email,
            subject=" ".join(render_to_string("notifications/email/staff_alert_subject.txt", ctx).split()),
            text=render_to_string("notifications/email/staff_alert_body.txt", ctx),
            html=render_to_string("notifications/email/staff_alert_body.html", ctx),
        )
    occasion = occasions.occasion_of(reminder)
    if reminder.rule.event in NOTICE_EVENTS:
        # One wording for every kind of appointment: it says when, never what the appointment is for.
        ctx = {
            "starts_at": reminder.event_at,
            "moved": reminder.rule.event == ReminderRule.Event.APPOINTMENT_MOVED,
            "portal_url": occasions.portal_url(),
        }
        target = getattr(reminder, occasion.field)
        return occasions.render_message("appointment_changed", ctx, patient=target.patient, channel=reminder.channel)
    return occasion.message(reminder, reminder.channel)


def _too_revealing(reminder: Reminder, message: Message) -> str:
    """A message to a patient that would carry clinical detail is refused (a template or text was edited badly)."""
    if reminder.alert_id is not None:
        return ""
    subject, body = (content.without_links(text) for text in (message.subject, message.text + " " + message.html))
    words = content.clinical_words(subject, sms_or_subject=True)
    words += content.clinical_words(body, sms_or_subject=reminder.channel == Channel.SMS)
    if words:
        return f"Not sent: the message would carry clinical detail ({', '.join(sorted(set(words)))})."
    return ""


def reminder_deliver(*, reminder_id: int, now: datetime | None = None) -> Reminder | None:
    """Send one due reminder, at most once: claim it, record the attempt, send, settle. None if not claimed.

    Runs outside any transaction, so the claim and the attempt (with its idempotency key) are committed before the
    backend sees the message: a crash after that leaves evidence the settle step reads.
    """
    now = now or timezone.now()
    if not sending.claim(Reminder, reminder_id, now):
        return None  # sent, being sent, cancelled or not due: a duplicate delivery stops here
    with transaction.atomic():
        # The session is checked after the claim, under its row lock: a move or cancellation (which lock the session
        # too) either committed before this check and is seen, or waits until the attempt is recorded.
        reminder = Reminder.objects.select_related("rule", "staff_user").get(pk=reminder_id)
        _lock_target(reminder)
        number = reminder.attempts
        skip = _skip_reason(reminder, now)
        channel = channel_for(reminder.channel)
        attempt = DeliveryAttempt.objects.create(
            reminder=reminder,
            number=number,
            idempotency_key=reminder.idempotency_key(number),
            backend=channel.describe(),
        )
    if skip:
        _finish(attempt, Outcome.SKIPPED, skip)
        _move(reminder, number, status=Status.CANCELLED, status_reason=skip)
        return _reload(reminder)
    message = reminder_message(reminder)
    refused = _too_revealing(reminder, message)
    if refused:
        _fail(reminder, attempt, refused, permanent=True)
        return _reload(reminder)
    try:
        result = channel.send(message, attempt.idempotency_key)
    except Exception as exc:  # noqa: BLE001 - we cannot tell whether it left: settle through the key, never resend blind
        log.exception("reminder %s: backend raised %s", reminder.pk, type(exc).__name__)
        _settle(reminder, attempt, now=timezone.now(), cause=f"Backend error: {type(exc).__name__}")
        return _reload(reminder)
    if result.accepted:
        _finish(attempt, Outcome.ACCEPTED, "", provider_id=result.provider_id)
        _move(reminder, number, status=Status.SENT, sent_at=timezone.now(), recipient=message.to, status_reason="")
    else:
        _fail(reminder, attempt, result.reason, permanent=result.permanent)
    return _reload(reminder)


def _lock_target(reminder: Reminder) -> None:
    """Load the reminder's target under a row lock: a move or cancellation (which lock it too) either committed
    before the send-time checks and is seen, or waits until the attempt is recorded."""
    if reminder.alert_id is not None:
        reminder.alert = StaffAlert.objects.select_for_update().get(pk=reminder.alert_id)
        return
    occasion = occasions.occasion_of(reminder)
    locked = occasion.model.objects.select_for_update(of=("self",)).select_related("patient")
    setattr(reminder, occasion.field, locked.get(pk=getattr(reminder, f"{occasion.field}_id")))


def _reload(reminder: Reminder) -> Reminder:
    return Reminder.objects.get(pk=reminder.pk)


def _finish(attempt: DeliveryAttempt, outcome: str, reason: str, provider_id: str = "") -> None:
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        outcome=outcome, reason=reason[:300], provider_id=provider_id[:120], finished_at=timezone.now()
    )


def _move(reminder: Reminder, number: int, **fields) -> bool:
    """Update the reminder only while our attempt still holds it (see `sending.move`)."""
    return sending.move(Reminder, reminder.pk, number, **fields)


def _fail(reminder: Reminder, attempt: DeliveryAttempt, reason: str, *, permanent: bool) -> None:
    _finish(attempt, Outcome.FAILED, reason)
    sending.retry_or_fail(Reminder, reminder.pk, attempt.number, reason, permanent=permanent)


def _settle(reminder: Reminder, attempt: DeliveryAttempt | None, *, now: datetime, cause: str) -> str:
    """Decide a `sending` row whose sender is gone: sent if the backend has the key, retried if it surely has not,
    otherwise failed and flagged for staff."""
    number = reminder.attempts
    if attempt is None:  # claimed, then gone before the attempt was written: nothing reached a backend
        _move(reminder, number, status=Status.PENDING, next_try_at=now, status_reason=cause[:300])
        return "retry"
    if attempt.outcome == Outcome.ACCEPTED:
        _move(reminder, number, status=Status.SENT, sent_at=attempt.finished_at or now, status_reason="")
        return "sent"
    if attempt.outcome == Outcome.FAILED:
        _fail(reminder, attempt, attempt.reason, permanent=False)
        return "retry"
    verdict = channel_for(reminder.channel).was_accepted(attempt.idempotency_key)
    if verdict is True:
        _finish(attempt, Outcome.SETTLED_SENT, cause)
        _move(reminder, number, status=Status.SENT, sent_at=now, status_reason="Settled after an interrupted send.")
        return "sent"
    if verdict is False:
        _finish(attempt, Outcome.SETTLED_NOT_SENT, cause)
        _move(reminder, number, status=Status.PENDING, next_try_at=now, status_reason="Retrying after a crash.")
        return "retry"
    reason = f"{cause}; the backend cannot say whether it was delivered. Check with the patient before resending."
    _finish(attempt, Outcome.UNKNOWN, reason)
    _move(reminder, number, status=Status.FAILED, needs_attention=True, status_reason=reason[:300])
    return "flagged"


def reminders_settle_stale(*, now: datetime | None = None) -> dict[int, str]:
    """Settle rows left in `sending` longer than the lease (a worker killed mid-send)."""
    now = now or timezone.now()
    settled = {}
    for row in sending.stale_rows(Reminder, now=now):
        attempt = row.attempts_made.filter(number=row.attempts).first()
        settled[row.pk] = _settle(row, attempt, now=now, cause="Interrupted send")
    return settled
