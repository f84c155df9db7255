"""Large reports run in the background: progress, a private file for the person who asked, expiry, idempotence."""

from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from kap_clinic.reports import services, tasks
from kap_clinic.reports.models import ReportJob
from tests.conftest import make_user
from tests.reports.helpers import pdf_text, seed_course

pytestmark = pytest.mark.django_db


def _reads(client_for, clinician, patient, times):
    client = client_for(clinician)
    for _ in range(times):
        client.get(reverse("homes:patient_chart", args=[patient.pk]))


def _ask(client, patient, fmt="csv", request_id="r1"):
    return client.post(
        reverse("reports:run", args=["audit"]), {"patient": patient.mrn, "format": fmt, "request_id": request_id}
    )


def test_a_large_report_runs_as_a_job_with_progress_and_a_private_download(
    client_for, settings, patient, clinician, admin_user, other_clinician, django_capture_on_commit_callbacks
):
    settings.REPORT_BACKGROUND_ROWS = 3
    _reads(client_for, clinician, patient, 5)
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):  # the task runs in-process once the request commits
        response = _ask(client, patient)
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:job", args=[job.pk])
    assert job.status == ReportJob.Status.DONE and job.rows_done == job.rows_total >= 5
    path = services.job_path(job)
    assert path.is_file() and Path(settings.PRIVATE_MEDIA_ROOT) in path.parents
    assert settings.STATIC_URL not in str(path) and oct(path.stat().st_mode)[-3:] == "600"

    page = client.get(reverse("reports:job", args=[job.pk])).content.decode()
    assert "<progress" in page and reverse("reports:job_download", args=[job.pk]) in page
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffWhen") and "clinician1,Access" in body

    # Nobody else gets the job, its progress or its file: not even another admin.
    for other in (make_user("admin2", "admin"), other_clinician):
        other_client = client_for(other)
        for name in ("reports:job", "reports:job_progress", "reports:job_download"):
            assert other_client.get(reverse(name, args=[job.pk])).status_code == 404, name


def test_the_progress_bar_polls_until_the_job_is_done(client_for, patient, admin_user):
    job = ReportJob.objects.create(
        requested_by=admin_user,
        kind="audit",
        parameters={"patient": patient.pk, "format": "csv"},
        rows_total=400,
        rows_done=100,
        status=ReportJob.Status.RUNNING,
        idempotency_key="k1",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    partial = client_for(admin_user).get(reverse("reports:job_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in partial and 'value="25"' in partial and "100 of 400 rows" in partial


def test_the_same_request_makes_one_job_and_a_finished_job_is_not_run_again(
    client_for, settings, patient, clinician, admin_user, django_capture_on_commit_callbacks
):
    settings.REPORT_BACKGROUND_ROWS = 1
    _reads(client_for, clinician, patient, 3)
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, patient, request_id="same")
        _ask(client, patient, request_id="same")  # a double click
    job = ReportJob.objects.get()
    first_file, finished = job.file_name, job.finished_at
    tasks.run_report_job.delay(job.pk)  # delivered again
    job.refresh_from_db()
    assert (job.file_name, job.finished_at, job.attempt) == (first_file, finished, 1)


def test_a_job_interrupted_mid_way_starts_again_cleanly(patient, admin_user, clinician, client_for):
    _reads(client_for, clinician, patient, 2)
    job = ReportJob.objects.create(
        requested_by=admin_user,
        kind="audit",
        parameters={"patient": patient.pk, "format": "pdf"},
        rows_total=2,
        rows_done=1,  # the worker died here
        status=ReportJob.Status.RUNNING,
        attempt=1,
        idempotency_key="k2",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    folder = services.reports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE and job.attempt == 2
    assert "Audit report" in pdf_text(services.job_path(job).read_bytes())
    assert not list(folder.glob(".*.part"))


def test_expired_files_are_deleted_by_the_sweep(patient, admin_user, client_for):
    job = ReportJob.objects.create(
        requested_by=admin_user,
        kind="audit",
        parameters={"patient": patient.pk, "format": "csv"},
        idempotency_key="k3",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    path = services.job_path(job)
    assert path.is_file()
    tasks.report_jobs_sweep()
    assert path.is_file()  # not yet
    ReportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    tasks.report_jobs_sweep()
    job.refresh_from_db()
    assert job.status == ReportJob.Status.EXPIRED and not path.exists()
    assert client_for(admin_user).get(reverse("reports:job_download", args=[job.pk])).status_code == 404
    assert "report_jobs_sweep" in str(settings.CELERY_BEAT_SCHEDULE)


def test_the_command_writes_a_report_file(tmp_path, patient, clinician, front_desk, admin_user):
    seed_course(patient, clinician, front_desk=front_desk, sessions=1, phq9_after=(12,))
    summary = tmp_path / "summary.pdf"
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__patient_id=patient.pk)
    before = reads.count()
    call_command("report", "patient_summary", "--patient", patient.mrn, "--output", str(summary))
    assert "Ada Quill" in pdf_text(summary.read_bytes())
    assert reads.count() == before + 1  # the export is recorded as a read of the record
    audit = tmp_path / "audit.csv"
    call_command(
        "report",
        "audit",
        "--user",
        "intake1",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--format",
        "csv",
        "--output",
        str(audit),
    )
    assert audit.read_text(encoding="utf-8").startswith("\ufeffWhen")


def test_the_command_explains_what_it_cannot_do(tmp_path, patient):
    with pytest.raises(CommandError, match="No patient"):
        call_command("report", "patient_summary", "--patient", "KAP-NOPE", "--output", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError, match="Unknown report"):
        call_command("report", "nonsense", "--output", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("report", "audit", "--from", "yesterday", "--output", str(tmp_path / "x.pdf"))


def test_the_command_exports_fhir_when_the_export_is_installed(tmp_path, patient):
    output = tmp_path / "bundle.json"
    if find_spec("kap_clinic.reports.fhir") is None:
        with pytest.raises(CommandError, match="FHIR export is not available"):
            call_command(
                "report", "patient_summary", "--patient", patient.mrn, "--format", "fhir", "--output", str(output)
            )
    else:
        call_command("report", "patient_summary", "--patient", patient.mrn, "--format", "fhir", "--output", str(output))
        assert '"Bundle"' in output.read_text(encoding="utf-8")
