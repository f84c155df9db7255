"""Submitting a request and sending its packet, exactly once.

`preauth_submit` (and `preauth_appeal`) move the authorization through the one transition table
(`billing.services.TRANSITIONS`, which records who and when) and write a `PreauthSubmission` in the same transaction,
with a unique key; its id is queued after the commit. A broker that is down loses nothing: the row stays pending and
the beat sweep (`release_submissions`) queues it again. Delivery claims the row with a conditional UPDATE and, in the
same transaction, renders the packet, hands it to the channel (which takes each key once) and marks it sent: a worker
killed half-way leaves the row pending for the next try, and a second run of the task finds it sent and does nothing.
"""

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kap_clinic.kernel import sending
from kap_clinic.kernel.accounts.models import User

from ..alerts import authorization_alert_raise
from ..models import PreauthSubmission, PreauthWorkItem, PriorAuthorization
from ..roles import WORKING_ROLES
from ..services import authorization_submitted_mark, authorization_transition
from .channels import channel, channel_label, channel_name_for
from .packet import request_packet_pdf

Status = PriorAuthorization.Status
Sub = PreauthSubmission.Status


def _submission_write(authorization: PriorAuthorization, *, by: User, purpose: str) -> PreauthSubmission:
    try:
        name = channel_name_for(authorization.payer)
    except LookupError as exc:
        raise ValidationError(str(exc)) from exc
    number = authorization.submissions.count() + 1
    submission = PreauthSubmission.objects.create(
        authorization=authorization,
        key=f"preauth-{authorization.pk}-{purpose}-{number}",
        channel=name,
        next_try_at=timezone.now(),
        submitted_by=by,
    )
    transaction.on_commit(lambda: enqueue([submission.pk]))
    return submission


@transaction.atomic
def preauth_submit(*, authorization: PriorAuthorization, by: User, note: str = "") -> PreauthSubmission:
    """Submit a reviewed draft: it is marked submitted (who and when) and its packet is queued for the payer's
    channel after the commit."""
    if not by.has_role(*WORKING_ROLES):
        raise PermissionDenied("Only intake staff and admins submit requests.")
    locked = authorization_submitted_mark(authorization=authorization, by=by, note=note or "Submitted")
    return _submission_write(locked, by=by, purpose="request")


@transaction.atomic
def preauth_record_sent(*, authorization: PriorAuthorization, by: User, note: str) -> PriorAuthorization:
    """Record a request staff sent outside the app (fax, phone, payer portal): the note says how. It needs the same
    request facts as one sent from the app, and is marked submitted with who and when; nothing is sent."""
    if not by.has_role(*WORKING_ROLES):
        raise PermissionDenied("Only intake staff and admins submit requests.")
    if not note.strip():
        raise ValidationError("Say how the request was sent (fax, phone or payer portal, and when).")
    return authorization_submitted_mark(authorization=authorization, by=by, note=note.strip())


@transaction.atomic
def preauth_appeal(*, authorization: PriorAuthorization, by: User, note: str) -> PreauthSubmission:
    """Appeal a denial: marked appealed with the reason, and the packet (with the appeal) is sent again."""
    locked = authorization_transition(authorization=authorization, to=Status.APPEALED, by=by, note=note)
    return _submission_write(locked, by=by, purpose="appeal")


# "Mark as: submitted outside the app": recorded as submitted (`preauth_record_sent`), nothing is sent.
SENT_OUTSIDE = "sent_outside"


def authorization_mark(*, authorization: PriorAuthorization, to: str, by: User, note: str) -> PriorAuthorization:
    """The authorization page's "Mark as", as it now stands: an appeal sends the packet again (`preauth_appeal`), a
    request sent outside the app is recorded (`SENT_OUTSIDE`), any other status is a plain transition."""
    if to == Status.APPEALED:
        preauth_appeal(authorization=authorization, by=by, note=note)
        authorization.refresh_from_db()
        return authorization
    if to == SENT_OUTSIDE:
        return preauth_record_sent(authorization=authorization, by=by, note=note)
    return authorization_transition(authorization=authorization, to=to, by=by, note=note)


def enqueue(ids: list[int]) -> int:
    """Queue submissions by id, tried once; when the broker is down they stay pending for the sweep."""
    from . import tasks  # the tasks module imports this one: loaded on first use

    queued = sending.enqueue(tasks.submit_preauth, ids, what="pre-authorization submission(s)")
    if queued:
        PreauthSubmission.objects.filter(pk__in=ids[:queued], status=Sub.PENDING).update(enqueued_at=timezone.now())
    return queued


def submissions_release(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Ids of pending submissions due and not queued in the last few minutes (the beat sweep queues them)."""
    return sending.release_due(PreauthSubmission, now=now or timezone.now(), limit=limit)


def submission_deliver(*, submission_id: int, now: datetime | None = None) -> PreauthSubmission | None:
    """Hand one due submission to its channel at most once; None when there is nothing to do."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            claimed = PreauthSubmission.objects.filter(
                pk=submission_id, status=Sub.PENDING, next_try_at__lte=now
            ).update(status=Sub.SENDING, claimed_at=now, attempts=F("attempts") + 1)
            if not claimed:
                return None  # sent, given up or not due: a second run of the task stops here
            submission = PreauthSubmission.objects.select_related("authorization__payer", "authorization__patient").get(
                pk=submission_id
            )
            pdf = request_packet_pdf(submission.authorization)
            reason = channel(submission.channel)(submission, pdf)
            submission.packet = pdf
            submission.packet_sha256 = hashlib.sha256(pdf).hexdigest()
            submission.status = Sub.SENT
            submission.sent_at = timezone.now()
            submission.status_reason = reason[:300]
            submission.save()
            return submission
    except Exception as exc:
        _failed(submission_id, now, exc)
        raise


def _failed(submission_id: int, now: datetime, exc: Exception) -> None:
    """The try rolled back: count it, and wait longer each time; after the last try, staff are told."""
    with transaction.atomic():
        row = PreauthSubmission.objects.select_for_update().filter(pk=submission_id, status=Sub.PENDING).first()
        if row is None:
            return
        row.attempts += 1
        reason = f"{type(exc).__name__}: {exc}"[:250]
        if row.attempts >= settings.PREAUTH_MAX_ATTEMPTS:
            row.status = Sub.FAILED
            row.status_reason = f"Gave up: {reason}"
            authorization_alert_raise(
                key=f"preauth-submission-{row.pk}-failed",
                authorization_id=row.authorization_id,
                patient_id=row.authorization.patient_id,
                summary=f"A pre-authorization packet could not be sent (via {channel_label(row.channel)}).",
            )
        else:
            row.next_try_at = now + sending.backoff(row.attempts)
            row.status_reason = f"Retrying: {reason}"
        row.save()


@transaction.atomic
def work_item_done(*, item: PreauthWorkItem, by: User, note: str = "") -> PreauthWorkItem:
    """Staff mark a work item done (the packet sent by fax or portal, the payer called)."""
    if not by.has_role(*WORKING_ROLES):
        raise PermissionDenied("Only intake staff and admins work pre-authorizations.")
    locked = PreauthWorkItem.objects.select_for_update().get(pk=item.pk)
    if locked.done_at is not None:
        raise ValidationError("Already done.")
    locked.done_at, locked.done_by, locked.done_note = timezone.now(), by, note.strip()[:300]
    locked.save()
    return locked
