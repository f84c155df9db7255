from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat

KEEP_HEARTBEATS = timedelta(days=7)


@shared_task(bind=True)
def record_worker_heartbeat(self, source: str, requested_by_id: int | None = None) -> None:
    """Record that a worker ran; old heartbeats are pruned so the table stays small."""
    WorkerHeartbeat.objects.create(
        source=source, requested_by_id=requested_by_id, worker_hostname=self.request.hostname or ""
    )
    WorkerHeartbeat.objects.filter(recorded_at__lt=timezone.now() - KEEP_HEARTBEATS).delete()
