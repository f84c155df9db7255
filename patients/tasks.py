from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import PatientInvite
from .services import invite_send


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_patient_invite(self, invite_id: int) -> None:
    """Kept for invitations queued before the email outbox: writes one to the outbox once (new invitations are
    written there by `patient_invite` itself, in its transaction).

    An invitation that lapsed before the task ran (a newer one was sent, or it expired) is not
    emailed: its link would only lead the patient to "not valid".
    """
    invite = (
        PatientInvite.objects.select_related("patient")
        .filter(pk=invite_id, emailed_at__isnull=True, used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if invite is None:
        return
    invite_send(invite=invite, base_url=settings.SITE_URL)
