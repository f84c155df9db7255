"""Rows sent at most once: the queue mechanics the reminders, the email outbox and pre-authorization submissions
share (report jobs use its broker hand-off).

A row (a reminder, an outbox email) goes pending -> sending -> sent | failed, or -> cancelled, and carries
`attempts`, `next_try_at`, `enqueued_at`, `claimed_at`, `status_reason`, `needs_attention` and `updated_at`.

- The beat sweep takes due rows by id (`release_due`) and hands them to the broker (`enqueue`); a broker that is down
  loses nothing, the rows stay pending and a later sweep queues them again.
- A worker claims a row with one conditional UPDATE (`claim`): of two deliveries of the same id, one wins.
- Each later change is made only while the worker's attempt still holds the row (`move`); a refused send is retried
  with a growing wait or failed (`retry_or_fail`).
- A row left in `sending` by a worker that died is taken for settling once (`stale_rows`); what settling means (asking
  the backend about the attempt's key) belongs to each kind of row.
"""

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Model, Q
from django.utils import timezone

log = logging.getLogger(__name__)

PENDING, SENDING, FAILED = "pending", "sending", "failed"


def release_due(model: type[Model], *, now: datetime, limit: int) -> list[int]:
    """Ids of pending rows that are due and not queued in the last few minutes; marks them queued."""
    requeue_before = now - timedelta(seconds=settings.REMINDER_REQUEUE_SECONDS)
    ids = list(
        model.objects.filter(status=PENDING, next_try_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
        .order_by("next_try_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        model.objects.filter(pk__in=ids, status=PENDING).update(enqueued_at=now)
    return ids


def enqueue(task, ids: list[int], *, what: str) -> int:
    """Queue `task` once per id over one broker connection; returns how many were queued.

    The connection is tried once, without kombu's retries: a request whose transaction committed while the broker is
    down answers at once (its rows wait for the sweep) instead of waiting seconds on reconnects.
    """
    if not ids:
        return 0
    app = task.app
    queued, conn = 0, None
    try:
        if not app.conf.task_always_eager:
            conn = app.connection_for_write()
            conn.ensure_connection(max_retries=0)
        for pk in ids:
            task.apply_async((pk,), retry=False, connection=conn)
            queued += 1
    except Exception as exc:  # noqa: BLE001 - any broker failure: the rows stay pending for the sweep
        log.warning("broker unavailable, %s %s left for the sweep: %s", len(ids) - queued, what, type(exc).__name__)
    finally:
        if conn is not None:
            conn.release()
    return queued


def claim(model: type[Model], pk: int, now: datetime) -> bool:
    """pending -> sending, in one conditional UPDATE (committed at once): of two deliveries, one wins."""
    return bool(
        model.objects.filter(pk=pk, status=PENDING, next_try_at__lte=now).update(
            status=SENDING, claimed_at=now, attempts=F("attempts") + 1, enqueued_at=None
        )
    )


def move(model: type[Model], pk: int, number: int, **fields) -> bool:
    """Update the row only while it is still in our attempt's hands (`sending`, with our attempt number)."""
    fields["updated_at"] = timezone.now()
    return bool(model.objects.filter(pk=pk, status=SENDING, attempts=number).update(**fields))


def backoff(number: int) -> timedelta:
    """The wait before the next try after attempt `number` failed: doubling from the base, at most an hour."""
    return timedelta(seconds=min(settings.REMINDER_RETRY_BASE_SECONDS * 2 ** (number - 1), 3600))


def retry_or_fail(model: type[Model], pk: int, number: int, reason: str, *, permanent: bool) -> None:
    """After a refused send: failed for good (a permanent refusal, or the last attempt), else pending again later."""
    if permanent or number >= settings.REMINDER_MAX_ATTEMPTS:
        move(model, pk, number, status=FAILED, status_reason=reason[:300])
    else:
        retry_at = timezone.now() + backoff(number)
        move(model, pk, number, status=PENDING, next_try_at=retry_at, status_reason=f"Retrying: {reason}"[:300])


def stale_rows(model: type[Model], *, now: datetime) -> Iterator[Model]:
    """Rows left in `sending` longer than the lease (a worker killed mid-send), each taken for settling by one sweep
    only (its claim time moved to now)."""
    lease = timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS)
    for row in model.objects.filter(status=SENDING, claimed_at__lt=now - lease):
        if model.objects.filter(pk=row.pk, status=SENDING, claimed_at=row.claimed_at).update(claimed_at=now):
            yield row
