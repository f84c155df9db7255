"""Report jobs: asked for in the request's transaction, produced by a Celery worker, kept privately, then deleted.

`report_job_request` writes the job (the same idempotency key gives the same job) and queues its id after the
commit; a broker that is down loses nothing, the beat sweep queues it later. `report_job_run` claims the job with a
conditional UPDATE (a finished job is left alone; one a crash interrupted starts again from the top, its counter
reset), writes the file under a temporary name and moves it into place, then marks the job done only if no newer
attempt has claimed it meanwhile.
"""

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kap_clinic.kernel import sending
from kap_clinic.kernel.accounts.models import User

from .kinds import get_kind
from .models import ReportJob

log = logging.getLogger(__name__)
Status = ReportJob.Status
EXTENSIONS = {"application/pdf": "pdf", "text/csv; charset=utf-8": "csv"}


def reports_folder() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "reports"


def job_path(job: ReportJob) -> Path | None:
    return reports_folder() / job.file_name if job.file_name else None


def job_file(job: ReportJob, *, now: datetime | None = None) -> Path | None:
    """The finished job's file, while it is kept: none once the job has expired, even before the sweep deletes it."""
    now = now or timezone.now()
    path = job_path(job)
    if job.status != Status.DONE or job.expires_at <= now or path is None or not path.is_file():
        return None
    return path


def keep_for() -> timedelta:
    return timedelta(hours=getattr(settings, "REPORT_KEEP_HOURS", 24))


def report_job_request(*, user: User, kind: str, params: dict, key: str, rows_total: int | None = None) -> ReportJob:
    """The background job producing this report for this user; the same key gives the same job once only.
    `rows_total`: the report's size when the caller has just counted it (counted here otherwise)."""
    report = get_kind(kind)
    job, created = ReportJob.objects.get_or_create(
        idempotency_key=f"{user.pk}:{key}"[:80],
        defaults={
            "requested_by": user,
            "kind": kind,
            "parameters": params,
            "rows_total": report.rows_total(params) if rows_total is None else rows_total,
            "expires_at": timezone.now() + keep_for(),
        },
    )
    if created:
        transaction.on_commit(lambda: enqueue([job.pk]))
    return job


def report_job_pending(*, user: User, kind: str, params: dict) -> ReportJob | None:
    """This user's job for this very report still waiting or in progress, if any (the newest)."""
    jobs = ReportJob.objects.filter(
        requested_by=user, kind=kind, status__in=(Status.QUEUED, Status.RUNNING), expires_at__gt=timezone.now()
    )
    return next((job for job in jobs[:20] if job.parameters == params), None)


def enqueue(ids: list[int]) -> int:
    """Queue report jobs by id, tried once; on failure the beat sweep finds them."""
    from . import tasks  # the tasks module imports this one: loaded on first use

    return sending.enqueue(tasks.run_report_job, ids, what="report job(s)")


def report_jobs_stalled(*, now: datetime | None = None, older_than: timedelta = timedelta(minutes=5)) -> list[int]:
    """Jobs still waiting for a worker a while after they were asked for (the broker was down when they were)."""
    now = now or timezone.now()
    return list(
        ReportJob.objects.filter(status=Status.QUEUED, created_at__lt=now - older_than).values_list("pk", flat=True)[
            :100
        ]
    )


def _claim(job_id: int) -> ReportJob | None:
    now = timezone.now()
    claimed = ReportJob.objects.filter(
        pk=job_id, status__in=(Status.QUEUED, Status.RUNNING), expires_at__gt=now
    ).update(status=Status.RUNNING, attempt=F("attempt") + 1, rows_done=0, started_at=now, error="")
    return ReportJob.objects.get(pk=job_id) if claimed else None


def report_job_run(*, job_id: int) -> ReportJob | None:
    """Produce the job's file. Nothing happens for a job that is done, failed, expired or unknown."""
    job = _claim(job_id)
    if job is None:
        return None
    attempt = job.attempt
    mine = ReportJob.objects.filter(pk=job.pk, attempt=attempt, status=Status.RUNNING)

    def progress(done: int) -> None:
        mine.update(rows_done=done)

    report = get_kind(job.kind)
    params = job.parameters
    folder = reports_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = folder / f".{job.pk}-{attempt}.part"
    try:
        output = report.render(params, params.get("format", "pdf"), progress)
        # Written as it is produced (a long CSV never sits whole in memory), readable by the clinic's user only.
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
            for chunk in output.stream():
                file.write(chunk)
    except Exception:  # noqa: BLE001 - any failure of the report: the job says so, the worker carries on
        log.exception("report job %s failed", job.pk)
        temporary.unlink(missing_ok=True)
        mine.update(status=Status.FAILED, error="The report could not be produced.", finished_at=timezone.now())
        return ReportJob.objects.get(pk=job.pk)
    name = ReportJob.new_file_name(job.pk, EXTENSIONS.get(output.content_type, "bin"))
    os.replace(temporary, folder / name)
    now = timezone.now()
    finished = mine.update(
        status=Status.DONE,
        file_name=name,
        download_name=output.filename[:120],
        content_type=output.content_type,
        rows_done=F("rows_total"),
        finished_at=now,
        expires_at=now + keep_for(),
    )
    if not finished:  # a newer attempt took the job over: its file stands, this one goes
        (folder / name).unlink(missing_ok=True)
    return ReportJob.objects.get(pk=job.pk)


def report_jobs_expire(*, now: datetime | None = None) -> int:
    """Delete the files of jobs past their expiry and mark the jobs expired."""
    now = now or timezone.now()
    count = 0
    for job in ReportJob.objects.filter(expires_at__lte=now).exclude(status=Status.EXPIRED):
        path = job_path(job)
        if path is not None:
            path.unlink(missing_ok=True)
        ReportJob.objects.filter(pk=job.pk).update(status=Status.EXPIRED, file_name="")
        count += 1
    return count
