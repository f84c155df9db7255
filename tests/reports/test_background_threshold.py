"""Whether a clinic-wide report runs in the request or in the background follows a count of the rows it reads (the
period's dosing sessions, for the route or clinician asked for; the operations report adds the approved
authorizations it checks), against the clinic's threshold: the same kind of report goes either way."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Payer, PriorAuthorization
from kap_clinic.reports import tasks
from kap_clinic.reports.models import ReportJob
from patients.services import patient_create
from tests.reports.helpers import pdf_text

from .clinic import at, checked_in, dosing, integration, plan, room

pytestmark = pytest.mark.django_db
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def march(patient, clinician, other_patient, other_clinician):
    """Four IV sessions and one Spravato session in March, one IV session in April; one approved authorization."""
    a_plan = plan(patient, clinician, route="iv", on=date(2026, 3, 1))
    for day in (2, 5, 9):
        dosing(a_plan, at(date(2026, 3, day)), chair=room("Chair 1"))
    dosing(a_plan, at(date(2026, 4, 2)), chair=room("Chair 1"))
    b_plan = plan(other_patient, other_clinician, route="iv", on=date(2026, 3, 1))
    dosing(b_plan, at(date(2026, 3, 3)), chair=room("Chair 2"))
    c = patient_create(
        created_by=None,
        given_name="Cleo",
        family_name="Marsh",
        date_of_birth=date(1990, 1, 1),
        primary_clinician=clinician,
    )
    c_plan = plan(c, clinician, route="intranasal", on=date(2026, 3, 10))
    dosing(c_plan, at(date(2026, 3, 12)), chair=room("Chair 2"), mg="56")
    PriorAuthorization.objects.create(
        patient=patient,
        payer=Payer.objects.create(name="Acme Health"),
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 6, 30),
        units_authorized=10,
        status="approved",
    )


def _run(client, kind, data, request_id):
    return client.post(reverse("reports:run", args=[kind]), {**data, "request_id": request_id})


@pytest.mark.parametrize(
    "kind, data, rows",
    [
        ("outcomes", {**MARCH, "format": "pdf"}, 5),  # every March session
        ("outcomes", {**MARCH, "route": "iv", "format": "pdf"}, 4),  # the IV ones only
        ("operations", {**MARCH, "format": "csv"}, 6),  # five sessions and one authorization
    ],
)
def test_a_report_at_the_threshold_comes_at_once_and_one_row_more_goes_to_the_background(
    march, client_for, admin_user, settings, django_capture_on_commit_callbacks, kind, data, rows
):
    client = client_for(admin_user)
    settings.REPORT_BACKGROUND_ROWS = rows
    at_once = _run(client, kind, data, "at-once")
    assert at_once.status_code == 200 and not ReportJob.objects.exists()

    settings.REPORT_BACKGROUND_ROWS = rows - 1
    with django_capture_on_commit_callbacks(execute=True):  # the worker's task runs once the request commits
        queued = _run(client, kind, data, "queued")
    job = ReportJob.objects.get()
    assert queued.status_code == 302 and queued["Location"] == reverse("reports:job", args=[job.pk])
    assert (job.kind, job.rows_total, job.status) == (kind, rows, ReportJob.Status.DONE)
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body == at_once.content or data["format"] == "pdf"  # the CSV is the same file either way
    if data["format"] == "pdf":
        assert "Clinic outcomes" in pdf_text(body)


def test_the_same_report_runs_in_the_request_for_a_narrower_choice(march, client_for, admin_user, settings):
    settings.REPORT_BACKGROUND_ROWS = 2
    client = client_for(admin_user)
    narrow = _run(client, "outcomes", {**MARCH, "route": "intranasal", "format": "pdf"}, "narrow")  # one session
    assert narrow.status_code == 200 and narrow["Content-Type"] == "application/pdf"
    wide = _run(client, "outcomes", {**MARCH, "format": "pdf"}, "wide")  # five sessions
    assert wide.status_code == 302 and ReportJob.objects.get().rows_total == 5


PROGRESS_WRITE = re.compile(r'UPDATE "reports_reportjob" SET "rows_done" = (\d+)')


@pytest.mark.parametrize(
    "kind, data, counts",
    [
        ("outcomes", {**MARCH, "format": "pdf"}, [1, 2, 3, 5]),  # four stages over the five March sessions
        ("operations", {**MARCH, "format": "csv"}, [2, 4, 6]),  # three stages over five sessions and one authorization
    ],
)
def test_a_background_clinic_report_advances_its_progress_stage_by_stage(
    march, client_for, admin_user, settings, kind, data, counts
):
    settings.REPORT_BACKGROUND_ROWS = 1
    queued = _run(client_for(admin_user), kind, data, "staged")
    job = ReportJob.objects.get()
    assert queued.status_code == 302 and (job.status, job.rows_done, job.rows_total) == ("queued", 0, counts[-1])

    with CaptureQueriesContext(connection) as queries:
        tasks.run_report_job.apply(args=(job.pk,))
    # The worker wrote the rows done after each stage, rising to the whole, before it marked the job ready.
    written = [int(match[1]) for query in queries.captured_queries if (match := PROGRESS_WRITE.search(query["sql"]))]
    assert written == counts
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE and job.rows_done == job.rows_total == counts[-1]


@pytest.fixture
def course(patient, clinician):
    """Patient A: three dosing sessions, one integration session, two check-ins: six rows."""
    treatment = plan(patient, clinician, route="iv", on=date(2026, 3, 1))
    for day in (2, 5, 9):
        dosing(treatment, at(date(2026, 3, day)), chair=room("Chair 1"))
    integration(patient, clinician, at(date(2026, 3, 6), 14))
    for day in (12, 19):
        checked_in(patient, at(date(2026, 3, day)), {"phq9": 8})


def test_a_treatment_summary_goes_to_the_background_by_the_length_of_the_course(
    course, patient, client_for, clinician, settings, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    data = {"patient": patient.mrn, "format": "pdf"}
    settings.REPORT_BACKGROUND_ROWS = 6
    at_once = _run(client, "patient_summary", data, "at-once")
    assert at_once.status_code == 200 and at_once["Content-Type"] == "application/pdf"
    assert not ReportJob.objects.exists()

    settings.REPORT_BACKGROUND_ROWS = 5
    with django_capture_on_commit_callbacks(execute=True):
        queued = _run(client, "patient_summary", data, "queued")
    job = ReportJob.objects.get()
    assert queued.status_code == 302 and (job.rows_total, job.status) == (6, ReportJob.Status.DONE)
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert patient.mrn in pdf_text(b"".join(download.streaming_content))


def test_the_summary_opened_from_the_chart_follows_the_same_threshold(
    course, patient, client_for, clinician, settings, django_capture_on_commit_callbacks
):
    client = client_for(clinician)
    url = reverse("reports:patient_summary", args=[patient.pk])
    settings.REPORT_BACKGROUND_ROWS = 6  # the course's six rows: at once, in the browser
    at_once = client.get(url)
    assert at_once.status_code == 200 and at_once["Content-Type"] == "application/pdf"
    assert at_once["Content-Disposition"].startswith("inline") and not ReportJob.objects.exists()

    settings.REPORT_BACKGROUND_ROWS = 5  # one row fewer: a job, and its progress page
    queued = client.get(url)
    job = ReportJob.objects.get()
    assert queued.status_code == 302 and queued["Location"] == reverse("reports:job", args=[job.pk])
    assert (job.kind, job.parameters, job.rows_total) == (
        "patient_summary",
        {"patient": patient.pk, "format": "pdf"},
        6,
    )
    page = client.get(queued["Location"]).content.decode()
    assert "<progress" in page
    # A second click while it waits follows the same job.
    assert client.get(url)["Location"] == queued["Location"] and ReportJob.objects.count() == 1

    tasks.run_report_job.apply(args=(job.pk,))
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE and job.rows_done == job.rows_total == 6
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert patient.mrn in pdf_text(b"".join(download.streaming_content))
    # Once it is ready, the chart's link asks for a fresh one.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.get(url)
    assert again.status_code == 302 and ReportJob.objects.count() == 2


def test_a_long_summary_of_another_clinicians_patient_is_not_queued(
    course, other_patient, client_for, clinician, settings
):
    settings.REPORT_BACKGROUND_ROWS = 0
    assert client_for(clinician).get(reverse("reports:patient_summary", args=[other_patient.pk])).status_code == 404
    assert not ReportJob.objects.exists()
