from celery import shared_task
from django.utils import timezone

from .ledger.estimate import estimates_due_alert
from .models import PriorAuthorization
from .sweep import SWEEP_BATCH, authorizations_check


@shared_task
def check_authorizations() -> int:
    """Daily sweep: queue one check per batch of approved authorizations; returns how many authorizations were
    queued. Each batch is checked in a few queries however many authorizations it holds (`sweep.py`)."""
    ids = list(
        PriorAuthorization.objects.filter(status=PriorAuthorization.Status.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), SWEEP_BATCH):
        check_authorization_batch.delay(ids[start : start + SWEEP_BATCH])
    return len(ids)


@shared_task
def check_authorization_batch(authorization_ids: list[int]) -> int:
    """Check a batch of authorizations (those no longer approved since they were queued are passed over)."""
    # The clinic's local date: an authorization's last day ends at midnight where the clinic is.
    return len(authorizations_check(ids=authorization_ids, today=timezone.localdate()))


@shared_task
def alert_estimates_due() -> int:
    """Daily: the front office is alerted to each self-pay patient's booked plan whose good-faith estimate is due
    (the clinic's local date) and not given; returns how many are owed."""
    return len(estimates_due_alert(today=timezone.localdate()))


from .preauth.tasks import follow_ups, release_submissions, submit_preauth  # noqa: E402,F401 - found by the worker
