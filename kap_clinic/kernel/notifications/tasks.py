"""The worker's side of the reminder outbox, and the hand-off of due reminders to it."""

import logging

from celery import shared_task
from django.db import DatabaseError, InterfaceError, transaction

from . import delivery

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,  # the broker never holds a reminder for more than a few minutes; the database does
    max_retries=5,
)
def send_reminder(self, reminder_id: int) -> None:
    """Send one due reminder; a second delivery of this task finds the row claimed or sent and does nothing."""
    delivery.reminder_deliver(reminder_id=reminder_id)


@shared_task
def release_due_reminders() -> int:
    """Beat, every minute: settle sends a crash interrupted, then queue due reminders by id."""
    delivery.reminders_settle_stale()
    ids = delivery.reminders_release()
    return enqueue(ids)


def enqueue_on_commit(ids: list[int]) -> None:
    """After commit, hand due reminders to the broker. A broker that is down loses nothing: the sweep finds them."""
    transaction.on_commit(lambda: enqueue(ids))


def enqueue(ids: list[int]) -> int:
    """Queue reminders by id over one broker connection; returns how many were queued.

    The connection is tried once, without kombu's retries: a booking whose transaction committed while the broker is
    down answers at once (its reminders wait for the sweep) instead of waiting seconds per session on reconnects.
    """
    if not ids:
        return 0
    app = send_reminder.app
    queued, conn = 0, None
    try:
        if not app.conf.task_always_eager:
            conn = app.connection_for_write()
            conn.ensure_connection(max_retries=0)
        for pk in ids:
            send_reminder.apply_async((pk,), retry=False, connection=conn)
            queued += 1
    except Exception as exc:  # noqa: BLE001 - any broker failure: the rows stay pending for the sweep
        log.warning("broker unavailable, %s reminder(s) left for the sweep: %s", len(ids) - queued, type(exc).__name__)
    finally:
        if conn is not None:
            conn.release()
    return queued
