from celery import shared_task
from django.db import DatabaseError, InterfaceError

from . import services


@shared_task(
    bind=True, acks_late=True, autoretry_for=(DatabaseError, InterfaceError), retry_backoff=True, max_retries=5
)
def send_outbox_email(self, email_id: int) -> None:
    """Send one outbox email; a second delivery of this task finds the row claimed or sent and does nothing."""
    services.outbox_email_deliver(email_id=email_id)


@shared_task
def release_outbox_emails() -> int:
    """Beat, every minute: settle sends a crash interrupted, then queue due emails by id."""
    services.outbox_settle_stale()
    return services.enqueue(services.outbox_release())
