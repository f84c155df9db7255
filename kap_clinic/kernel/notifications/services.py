"""Reminders: written in the booking's transaction, released by the beat sweep, each sent at most once.

The database holds the future. `reminders_sync` runs in the same transaction as every booking, move, cancellation
and no-show of a dosing or integration session, and every change to a check-in, so a target's pending reminders
always match it (what each kind of target is reminded of is in `occasions.py`); staff-alert emails are written
with the alert. The sweep (tasks.release_due_reminders)
queues due rows by id; `reminder_deliver` claims a row with a conditional UPDATE, records the attempt (with its
idempotency key) before handing the message to the backend, and marks the row sent only when the backend accepted.
A row left in `sending` by a crash is settled by asking the backend about that key, or flagged for staff.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from aftercare.models import CheckIn, IntegrationSession
from kap_clinic.rules import reminder_timing as rules
from sessions.models import DosingSession

from . import content, occasions
from .backends import Message, channel_for
from .models import Channel, DeliveryAttempt, Reminder, ReminderRule, SessionConfirmation, StaffAlert

log = logging.getLogger(__name__)

CONFIRM_SALT = "notifications.confirm"
Status = Reminder.Status
Outcome = DeliveryAttempt.Outcome


def quiet_hours() -> rules.QuietHours:
    """The configured quiet hours; an unreadable time falls back to the default (`manage.py check` reports it)."""
    return rules.QuietHours(
        start=rules.parse_clock_or(settings.REMINDER_QUIET_START, rules.DEFAULT_QUIET_START),
        end=rules.parse_clock_or(settings.REMINDER_QUIET_END, rules.DEFAULT_QUIET_END),
    )


# ---- Planning ------------------------------------------------------------------------------------


def reminders_sync_for_patient(patient, *, now: datetime | None = None) -> None:
    """Re-plan everything upcoming for a patient, after a change of contact details or consent."""
    now = now or timezone.now()
    upcoming = [
        *DosingSession.objects.filter(patient=patient, status=DosingSession.Status.SCHEDULED, starts_at__gt=now),
        *IntegrationSession.objects.filter(
            patient=patient, status=IntegrationSession.Status.SCHEDULED, starts_at__gt=now
        ),
        *CheckIn.objects.filter(patient=patient, status=CheckIn.Status.OPEN, closes_at__gt=now),
    ]
    for target in upcoming:
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
    existing = list(Reminder.objects.select_for_update().filter(**by_target))
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
                {rule.pk: rule.offset for rule in event_rules},
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


def alert_emails_create(alert: StaffAlert) -> list[Reminder]:
    """One email per recipient of a staff alert, through the outbox: each sent once, at once (staff alerts do not
    wait for quiet hours). Runs in the transaction that raised the alert."""
    from .alerts import alert_recipients

    now = timezone.now()
    rows = [
        Reminder(
            patient=alert.patient,
            alert=alert,
            staff_user=user,
            channel=Channel.EMAIL,
            scheduled_for=now,
            event_at=alert.created_at,
            next_try_at=now,
        )
        for user in alert_recipients(alert).exclude(email="")
    ]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(Reminder.objects.filter(alert=alert, status=Status.PENDING))
    enqueue_on_commit([row.pk for row in created])
    return created


def enqueue_on_commit(ids: list[int]) -> None:
    """After commit, hand due reminders to the broker. A broker that is down loses nothing: the sweep finds them."""
    transaction.on_commit(lambda: enqueue(ids))


def enqueue(ids: list[int]) -> int:
    """Queue reminders by id over one broker connection; returns how many were queued.

    The connection is tried once, without kombu's retries: a booking whose transaction committed while the broker is
    down answers at once (its reminders wait for the sweep) instead of waiting seconds per session on reconnects.
    """
    from . import tasks

    if not ids:
        return 0
    app = tasks.send_reminder.app
    queued, conn = 0, None
    try:
        if not app.conf.task_always_eager:
            conn = app.connection_for_write()
            conn.ensure_connection(max_retries=0)
        for pk in ids:
            tasks.send_reminder.apply_async((pk,), retry=False, connection=conn)
            queued += 1
    except Exception as exc:  # noqa: BLE001 - any broker failure: the rows stay pending for the sweep
        log.warning("broker unavailable, %s reminder(s) left for the sweep: %s", len(ids) - queued, type(exc).__name__)
    finally:
        if conn is not None:
            conn.release()
    return queued


def reminders_release(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending reminders that are due and not queued in the last few minutes; marks them queued."""
    now = now or timezone.now()
    requeue_before = now - timedelta(seconds=settings.REMINDER_REQUEUE_SECONDS)
    ids = list(
        Reminder.objects.filter(status=Status.PENDING, next_try_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
        .order_by("next_try_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        Reminder.objects.filter(pk__in=ids, status=Status.PENDING).update(enqueued_at=now)
    return ids


# ---- Delivery ------------------------------------------------------------------------------------


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(settings.REMINDER_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 3600))


def _skip_reason(reminder: Reminder, now: datetime) -> str:
    """Why a claimed reminder must not go out after all ("" when it should). Its target is locked by the caller."""
    if reminder.alert_id is not None:
        return _alert_skip_reason(reminder)
    occasion = occasions.occasion_of(reminder)
    target = getattr(reminder, occasion.field)
    patient = target.patient
    gone = occasion.not_needed(target)
    if gone:
        return f"Not sent: {gone}."
    anchor = occasion.anchors(target)[reminder.rule.event]
    if anchor.at != reminder.event_at:
        return f"Not sent: the {occasion.noun} was moved."
    if anchor.until <= now:
        return f"Not sent: {occasion.too_late(reminder.rule.event)}."
    if reminder.channel == Channel.EMAIL and not (patient.consents_to_email and patient.email):
        return "Not sent: no consent to email, or no address."
    if reminder.channel == Channel.SMS and not (patient.consents_to_sms and patient.phone):
        return "Not sent: no consent to text messages, or no number."
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
    return occasions.occasion_of(reminder).message(reminder, reminder.channel)


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
    if not _claim(reminder_id, now):
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


def _claim(reminder_id: int, now: datetime) -> bool:
    """pending -> sending, in one conditional UPDATE (committed at once): of two deliveries, one wins."""
    return bool(
        Reminder.objects.filter(pk=reminder_id, status=Status.PENDING, next_try_at__lte=now).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, enqueued_at=None
        )
    )


def _reload(reminder: Reminder) -> Reminder:
    return Reminder.objects.get(pk=reminder.pk)


def _finish(attempt: DeliveryAttempt, outcome: str, reason: str, provider_id: str = "") -> None:
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        outcome=outcome, reason=reason[:300], provider_id=provider_id[:120], finished_at=timezone.now()
    )


def _move(reminder: Reminder, number: int, **fields) -> bool:
    """Update the row only if it is still in our attempt's hands (`sending`, with our attempt number)."""
    fields["updated_at"] = timezone.now()
    return bool(Reminder.objects.filter(pk=reminder.pk, status=Status.SENDING, attempts=number).update(**fields))


def _fail(reminder: Reminder, attempt: DeliveryAttempt, reason: str, *, permanent: bool) -> None:
    _finish(attempt, Outcome.FAILED, reason)
    number = attempt.number
    if permanent or number >= settings.REMINDER_MAX_ATTEMPTS:
        _move(reminder, number, status=Status.FAILED, status_reason=reason[:300])
    else:
        retry_at = timezone.now() + _backoff(number)
        _move(reminder, number, status=Status.PENDING, next_try_at=retry_at, status_reason=f"Retrying: {reason}"[:300])


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
    lease = timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS)
    settled = {}
    for row in Reminder.objects.filter(status=Status.SENDING, claimed_at__lt=now - lease):
        # Claim the settling itself, so two sweeps never settle one row twice.
        if not Reminder.objects.filter(pk=row.pk, status=Status.SENDING, claimed_at=row.claimed_at).update(
            claimed_at=now
        ):
            continue
        attempt = row.attempts_made.filter(number=row.attempts).first()
        settled[row.pk] = _settle(row, attempt, now=now, cause="Interrupted send")
    return settled


@transaction.atomic
def reminder_resend(*, reminder: Reminder, by) -> Reminder:
    """Staff send a failed reminder again by hand (after checking a flagged one with the patient)."""
    from django.core.exceptions import ValidationError

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


# ---- Confirmation --------------------------------------------------------------------------------


def confirm_token(session: DosingSession) -> str:
    return signing.dumps({"s": session.pk, "t": int(session.starts_at.timestamp())}, salt=CONFIRM_SALT)


def confirm_url(session: DosingSession) -> str:
    path = reverse("notifications:confirm", args=[confirm_token(session)])
    return settings.SITE_URL.rstrip("/") + path


def session_for_confirm_token(token: str) -> DosingSession | None:
    """The session a confirmation link names, if the link is genuine, unexpired and the session still as booked."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=settings.REMINDER_CONFIRM_LINK_DAYS))
    except signing.BadSignature:
        return None
    session = DosingSession.objects.filter(pk=data.get("s"), status=DosingSession.Status.SCHEDULED).first()
    if session is None or int(session.starts_at.timestamp()) != data.get("t") or session.starts_at <= timezone.now():
        return None
    return session


@transaction.atomic
def session_confirm(*, session: DosingSession, driver_name: str) -> SessionConfirmation:
    """The patient confirms they will come, and names the adult who drives them home."""
    confirmation, _ = SessionConfirmation.objects.update_or_create(
        session=session, defaults={"confirmed_start": session.starts_at, "driver_name": driver_name.strip()}
    )
    return confirmation
