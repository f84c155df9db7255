"""Guessing another record's number gets nothing: another clinician's patient, another person's report job."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kap_clinic.reports.models import ReportJob
from kap_clinic.reports.services import report_job_run

pytestmark = pytest.mark.django_db


def test_a_clinician_cannot_reach_another_clinicians_patient_by_id_or_mrn(
    client_for, patient, other_patient, clinician
):
    client = client_for(clinician)
    assert client.get(reverse("reports:patient_summary", args=[other_patient.pk])).status_code == 404
    assert client.get(reverse("reports:patient_summary", args=[other_patient.pk + 1000])).status_code == 404
    response = client.post(
        reverse("reports:run", args=["patient_summary"]), {"patient": other_patient.mrn, "format": "pdf"}
    )
    assert response.status_code == 404


def test_report_jobs_answer_only_their_owner(client_for, patient, other_patient, clinician, other_clinician):
    job = ReportJob.objects.create(
        requested_by=other_clinician,
        kind="patient_summary",
        parameters={"patient": other_patient.pk, "format": "pdf"},
        rows_total=1,
        idempotency_key="idor",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    report_job_run(job_id=job.pk)
    owner = client_for(other_clinician)
    assert owner.get(reverse("reports:job_download", args=[job.pk])).status_code == 200
    intruder = client_for(clinician)
    for name in ("reports:job", "reports:job_progress", "reports:job_download"):
        assert intruder.get(reverse(name, args=[job.pk])).status_code == 404, name
