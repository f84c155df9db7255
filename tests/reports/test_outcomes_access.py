"""The clinic outcomes report: admins for the whole clinic or the clinician they choose, clinicians for their own
patients only, on screen, as a PDF or CSV, and as a background report."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kap_clinic.reports import services
from kap_clinic.reports.models import ReportJob
from tests.reports.helpers import pdf_text

from .clinic import at, dosing, plan, room

pytestmark = pytest.mark.django_db
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
IV = "Sessions delivered: Intravenous (IV) ketamine"


@pytest.fixture
def march(patient, clinician, other_patient, other_clinician):
    """Patient A (clinician 1): 2 IV sessions held in March. Patient B (clinician 2): 3."""
    mine = plan(patient, clinician, route="iv", on=date(2026, 3, 1))
    for day in (2, 5):
        dosing(mine, at(date(2026, 3, day)), chair=room("Chair 1"))
    theirs = plan(other_patient, other_clinician, route="iv", on=date(2026, 3, 1))
    for day in (3, 6, 10):
        dosing(theirs, at(date(2026, 3, day)), chair=room("Chair 2"))


def _csv(client, **data) -> str:
    response = client.post(reverse("reports:run", args=["outcomes"]), {**MARCH, "format": "csv", **data})
    assert response.status_code == 200
    return response.content.decode("utf-8-sig")


def test_a_clinician_is_offered_the_outcomes_of_their_own_patients_with_no_choice_of_clinician(
    client_for, clinician, admin_user
):
    mine = client_for(clinician).get(reverse("reports:index")).content.decode()
    assert 'data-testid="report-outcomes"' in mine and "covers their own patients" in mine
    assert 'name="clinician"' not in mine
    assert 'data-testid="report-audit"' not in mine and 'data-testid="report-operations"' not in mine
    admins = client_for(admin_user).get(reverse("reports:index")).content.decode()
    assert 'name="clinician"' in admins


def test_a_clinicians_outcomes_count_their_own_patients_only(march, client_for, clinician, other_clinician, admin_user):
    client = client_for(clinician)
    assert f"{IV},2\r\n" in _csv(client)
    assert f"{IV},2\r\n" in _csv(client, clinician=other_clinician.pk)  # no way to another clinician's patients
    pdf = client.post(reverse("reports:run", args=["outcomes"]), {**MARCH, "format": "pdf"})
    assert pdf.status_code == 200
    assert f"2026-03-01 to 2026-03-31, patients of {clinician.get_full_name()}" in pdf_text(pdf.content)

    client = client_for(admin_user)
    assert f"{IV},5\r\n" in _csv(client)
    assert f"{IV},3\r\n" in _csv(client, clinician=other_clinician.pk)


def test_a_background_outcomes_report_is_handed_only_to_whom_it_may_go(
    march, client_for, clinician, other_clinician, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_BACKGROUND_ROWS = 1
    client = client_for(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:run", args=["outcomes"]), {**MARCH, "format": "csv", "request_id": "mine"}
        )
    job = ReportJob.objects.get()
    assert response.status_code == 302 and job.parameters["clinician_id"] == clinician.pk and job.rows_total == 2
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert f"{IV},2\r\n" in b"".join(download.streaming_content).decode("utf-8-sig")

    # A job naming someone else's patients (however it came to be) is not handed to a clinician.
    stray = ReportJob.objects.create(
        requested_by=clinician,
        kind="outcomes",
        parameters={**MARCH, "format": "csv", "clinician_id": other_clinician.pk},
        idempotency_key="stray",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    services.report_job_run(job_id=stray.pk)
    assert client.get(reverse("reports:job_download", args=[stray.pk])).status_code == 404
