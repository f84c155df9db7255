"""The worker's side of the reminder outbox, and the hand-off of due reminders to it."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError, transaction

from kap_clinic.kernel import sending

from . import delivery


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
    """Queue reminders by id, tried once; returns how many were queued (the sweep finds the rest)."""
    return sending.enqueue(send_reminder, ids, what="reminder(s)")
