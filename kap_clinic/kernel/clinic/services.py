from django.db import transaction

from kap_clinic.kernel.accounts.models import User

from . import tasks
from .models import WorkerHeartbeat


def worker_check_request(*, requested_by: User) -> None:
    """Ask a worker to write a heartbeat once this request's transaction has committed."""
    transaction.on_commit(lambda: tasks.record_worker_heartbeat.delay(WorkerHeartbeat.Source.CHECK, requested_by.pk))
