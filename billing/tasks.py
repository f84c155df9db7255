from celery import shared_task
from django.utils import timezone

from .models import PriorAuthorization
from .services import authorization_check


@shared_task
def check_authorizations() -> int:
    """Daily sweep: queue one check per approved authorization; returns how many were queued."""
    ids = list(
        PriorAuthorization.objects.filter(status=PriorAuthorization.Status.APPROVED).values_list("pk", flat=True)
    )
    for pk in ids:
        check_authorization.delay(pk)
    return len(ids)


@shared_task
def check_authorization(authorization_id: int) -> None:
    authorization = PriorAuthorization.objects.filter(
        pk=authorization_id, status=PriorAuthorization.Status.APPROVED
    ).first()
    if authorization is None:
        return  # expired, cancelled or deleted since it was queued: nothing to warn about
    # The clinic's local date: an authorization's last day ends at midnight where the clinic is.
    authorization_check(authorization=authorization, today=timezone.localdate())


from .preauth.tasks import follow_ups, release_submissions, submit_preauth  # noqa: E402,F401 - found by the worker
