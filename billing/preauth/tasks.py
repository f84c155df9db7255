"""The pre-authorization tasks: they take ids, and running one twice does nothing more."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from django.utils import timezone

from . import followup, lifecycle


@shared_task(
    name="billing.preauth.submit",
    bind=True,
    acks_late=True,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def submit_preauth(self, submission_id: int) -> bool:
    """Hand one submission's packet to its channel; a second delivery of this task finds it sent."""
    return lifecycle.submission_deliver(submission_id=submission_id) is not None


@shared_task(name="billing.preauth.release_submissions")
def release_submissions() -> int:
    """Beat, every minute: queue pending submissions (the broker was down, or a retry is due)."""
    return lifecycle.enqueue(lifecycle.submissions_release())


@shared_task(name="billing.preauth.follow_ups")
def follow_ups() -> int:
    """Daily: follow-up items for unanswered requests, and renewal items for authorizations ending soon."""
    today = timezone.localdate()
    return len(followup.follow_ups_create(today=today)) + len(followup.renewals_prompt(today=today))
