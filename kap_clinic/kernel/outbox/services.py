"""The email outbox: every email that is not a reminder leaves through here, exactly once.

`email_outbox_send` writes the message in the caller's transaction (plain values only: recipient, subject, text,
kind and an idempotency key) and queues its id after the commit. A broker that is down loses nothing: the request
still answers, the row stays pending and the beat sweep (`tasks.release_outbox_emails`) queues it later. Delivery
claims the row with a conditional UPDATE, stores the attempt's key before the mail backend sees the message, and a
row left in `sending` by a crash is settled through that key (or flagged) rather than sent again blind.
"""

import logging
import smtplib
from datetime import datetime

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel import sending

from .models import OutboxEmail

log = logging.getLogger(__name__)
Status = OutboxEmail.Status
KEY_HEADER = "X-Outbox-Key"


def email_outbox_send(
    *, to: str, subject: str, text: str, kind: str, key: str, html: str = "", send_at: datetime | None = None
) -> OutboxEmail:
    """Write one email to the outbox in the caller's transaction; the same key writes it once only."""
    now = timezone.now()
    row, created = OutboxEmail.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "to": to,
            "subject": " ".join(subject.split())[:200],
            "text": text,
            "html": html,
            "next_try_at": send_at or now,
        },
    )
    if created and row.next_try_at <= now:
        transaction.on_commit(lambda: enqueue([row.pk]))
    return row


def email_outbox_cancel(*, key: str, reason: str) -> int:
    """Cancel the email with this key if it is still waiting (an invitation replaced by a newer one)."""
    return OutboxEmail.objects.filter(key=key, status=Status.PENDING).update(
        status=Status.CANCELLED, status_reason=reason[:300], text="", html="", updated_at=timezone.now()
    )


def enqueue(ids: list[int]) -> int:
    """Queue outbox emails by id, tried once; on failure the sweep finds them."""
    from . import tasks  # the tasks module imports this one: loaded on first use

    return sending.enqueue(tasks.send_outbox_email, ids, what="outbox email(s)")


def outbox_release(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending emails that are due and not queued in the last few minutes; marks them queued."""
    return sending.release_due(OutboxEmail, now=now or timezone.now(), limit=limit)


def _send(row: OutboxEmail, key: str) -> tuple[bool, str, bool]:
    """(accepted, reason, permanent)."""
    if not settings.EMAIL_BACKEND or not settings.DEFAULT_FROM_EMAIL:
        return False, "Email is not configured (EMAIL_BACKEND / DEFAULT_FROM_EMAIL).", True
    email = EmailMultiAlternatives(
        row.subject, row.text, settings.DEFAULT_FROM_EMAIL, [row.to], headers={KEY_HEADER: key}
    )
    if row.html:
        email.attach_alternative(row.html, "text/html")
    try:
        count = email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused:
        return False, "The mail server refused the address.", True
    except (smtplib.SMTPException, OSError) as exc:
        return False, f"Mail server error: {type(exc).__name__}", False
    return (True, "", False) if count == 1 else (False, "The mail backend did not accept the message.", False)


def _was_accepted(key: str) -> bool | None:
    """Whether the mail backend has the message with this key; None when it keeps no record (SMTP, console)."""
    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.locmem.EmailBackend":
        return any(m.extra_headers.get(KEY_HEADER) == key for m in getattr(mail, "outbox", []))
    return None


def outbox_email_deliver(*, email_id: int, now: datetime | None = None) -> OutboxEmail | None:
    """Send one due email at most once: claim it, send it with the attempt's key, settle. None if not claimed."""
    now = now or timezone.now()
    if not sending.claim(OutboxEmail, email_id, now):
        return None  # sent, being sent, cancelled or not due: a duplicate delivery stops here
    row = OutboxEmail.objects.get(pk=email_id)
    number = row.attempts
    try:
        accepted, reason, permanent = _send(row, row.attempt_key(number))
    except Exception as exc:  # noqa: BLE001 - cannot tell whether it left: leave it to the stale sweep
        log.exception("outbox email %s: backend raised %s", row.pk, type(exc).__name__)
        return OutboxEmail.objects.get(pk=email_id)
    if accepted:
        sent = {"status": Status.SENT, "sent_at": timezone.now(), "status_reason": "", "text": "", "html": ""}
        sending.move(OutboxEmail, row.pk, number, **sent)
    else:
        sending.retry_or_fail(OutboxEmail, row.pk, number, reason, permanent=permanent)
    return OutboxEmail.objects.get(pk=email_id)


def outbox_settle_stale(*, now: datetime | None = None) -> dict[int, str]:
    """Settle rows left in `sending` longer than the lease (a worker killed mid-send), through the attempt's key."""
    now = now or timezone.now()
    settled = {}
    for row in sending.stale_rows(OutboxEmail, now=now):
        verdict = _was_accepted(row.attempt_key(row.attempts))
        if verdict is True:
            settled[row.pk] = "sent"
            fields = {"status": Status.SENT, "sent_at": now, "text": "", "html": ""}
        elif verdict is False:
            settled[row.pk] = "retry"
            fields = {"status": Status.PENDING, "next_try_at": now, "status_reason": "Retrying after a crash."}
        else:
            settled[row.pk] = "flagged"
            reason = "Interrupted send; the mail server cannot say whether it was delivered."
            fields = {"status": Status.FAILED, "needs_attention": True, "status_reason": reason}
        sending.move(OutboxEmail, row.pk, row.attempts, **fields)
    return settled
