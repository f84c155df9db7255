from celery import shared_task
from django.db import DatabaseError, InterfaceError

from . import services


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
    services.reminder_deliver(reminder_id=reminder_id)


@shared_task
def release_due_reminders() -> int:
    """Beat, every minute: settle sends a crash interrupted, then queue due reminders by id."""
    services.reminders_settle_stale()
    ids = services.reminders_release()
    return services.enqueue(ids)
