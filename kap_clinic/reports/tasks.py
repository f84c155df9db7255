from celery import shared_task
from django.db import DatabaseError, InterfaceError

from . import services


@shared_task(
    bind=True, acks_late=True, autoretry_for=(DatabaseError, InterfaceError), retry_backoff=True, max_retries=3
)
def run_report_job(self, job_id: int) -> None:
    """Produce one report job's file; a finished job is left alone, an interrupted one starts again from the top."""
    services.report_job_run(job_id=job_id)


@shared_task
def report_jobs_sweep() -> int:
    """Beat: delete expired report files, and queue again jobs a broker outage left waiting."""
    services.report_jobs_expire()
    return services.enqueue(services.report_jobs_stalled())
