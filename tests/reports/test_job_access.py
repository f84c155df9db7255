"""A background report's file is handed out only while the person who asked may still have it, and only while kept."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.services import staff_update
from kap_clinic.reports import services
from kap_clinic.reports.models import ReportJob
from patients.models import Patient
from patients.services import patient_create
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
JOB_PAGES = ("reports:job", "reports:job_progress", "reports:job_download")


def _produced(user, kind: str, parameters: dict, key: str) -> ReportJob:
    job = ReportJob.objects.create(
        requested_by=user,
        kind=kind,
        parameters=parameters,
        idempotency_key=key,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE
    return job


def _answers(client, job) -> dict[str, int]:
    return {name: client.get(reverse(name, args=[job.pk])).status_code for name in JOB_PAGES}


def test_an_admin_moved_to_another_role_no_longer_gets_the_audit_report(client_for, patient, admin_user):
    asker = make_user("admin2", "admin")
    job = _produced(asker, "audit", {"patient": patient.pk, "format": "csv"}, "access-1")
    client = client_for(asker)
    assert _answers(client, job) == dict.fromkeys(JOB_PAGES, 200)

    staff_update(by=admin_user, staff=asker, role="clinician")  # clinicians do not produce audit reports
    asker.refresh_from_db()
    client = client_for(asker)
    assert _answers(client, job) == dict.fromkeys(JOB_PAGES, 404)

    staff_update(by=admin_user, staff=asker, role="intake")  # out of the reports altogether
    asker.refresh_from_db()
    client = client_for(asker)
    assert _answers(client, job) == dict.fromkeys(JOB_PAGES, 403)


def test_a_clinician_who_no_longer_has_the_patient_no_longer_gets_their_summary(
    client_for, patient, clinician, other_clinician
):
    job = _produced(clinician, "patient_summary", {"patient": patient.pk, "format": "pdf"}, "access-2")
    client = client_for(clinician)
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "no-store" in download["Cache-Control"]

    Patient.objects.filter(pk=patient.pk).update(primary_clinician=other_clinician)
    assert _answers(client, job) == dict.fromkeys(JOB_PAGES, 404)


def test_the_file_is_private_and_goes_at_its_expiry_even_before_the_sweep(client_for, patient, admin_user):
    job = _produced(admin_user, "audit", {"patient": patient.pk, "format": "pdf"}, "access-3")
    path = services.job_path(job)
    assert services.reports_folder() in path.parents and oct(path.stat().st_mode)[-3:] == "600"
    assert len(path.stem.split("-", 1)[1]) == 24  # a name nobody can guess, not the job's number alone
    client = client_for(admin_user)
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 200

    ReportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert path.is_file()  # the sweep has not run yet
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 404


def _asked(user, kind: str, parameters: dict, key: str) -> ReportJob:
    return ReportJob.objects.create(
        requested_by=user,
        kind=kind,
        parameters=parameters,
        idempotency_key=key,
        expires_at=timezone.now() + timedelta(hours=1),
    )


def _listed(client) -> list[int]:
    page = client.get(reverse("reports:index"))
    assert page.status_code == 200
    return [job.pk for job in page.context["jobs"]]


def test_recent_reports_list_only_the_jobs_the_person_may_still_open(client_for, patient, other_patient, clinician):
    mine = _asked(clinician, "patient_summary", {"patient": patient.pk, "format": "pdf"}, "list-1")
    moved = _asked(clinician, "patient_summary", {"patient": other_patient.pk, "format": "pdf"}, "list-2")
    own_outcomes = _asked(clinician, "outcomes", {"clinician_id": clinician.pk, "format": "csv"}, "list-3")
    others_outcomes = _asked(clinician, "outcomes", {"clinician_id": clinician.pk + 1, "format": "csv"}, "list-4")
    audit = _asked(clinician, "audit", {"patient": patient.pk, "format": "csv"}, "list-5")  # admins' report
    retired = _asked(clinician, "no_longer_offered", {}, "list-6")
    client = client_for(clinician)

    listed = _listed(client)
    assert listed == [own_outcomes.pk, mine.pk]  # newest first
    page = client.get(reverse("reports:index")).content.decode()
    for job in (moved, others_outcomes, audit, retired):
        assert reverse("reports:job", args=[job.pk]) not in page
        assert client.get(reverse("reports:job", args=[job.pk])).status_code == 404  # as its page answers
    for pk in listed:
        assert client.get(reverse("reports:job", args=[pk])).status_code == 200

    Patient.objects.filter(pk=patient.pk).update(primary_clinician=None)  # no longer theirs: gone from the list too
    assert _listed(client) == [own_outcomes.pk]


def test_recent_reports_cost_as_many_queries_for_many_jobs_as_for_one(
    client_for, patient, clinician, other_clinician, django_assert_max_num_queries
):
    client = client_for(clinician)
    _asked(clinician, "patient_summary", {"patient": patient.pk, "format": "pdf"}, "budget-0")
    client.get(reverse("reports:index"))  # warm the per-process caches
    with django_assert_max_num_queries(50) as one:
        assert len(_listed(client)) == 1

    for index in range(1, 30):
        other = patient_create(
            created_by=None,
            given_name=f"Given{index}",
            family_name=f"Family{index}",
            date_of_birth=patient.date_of_birth,
            primary_clinician=clinician if index % 2 else other_clinician,
        )
        _asked(clinician, "patient_summary", {"patient": other.pk, "format": "pdf"}, f"budget-{index}")
        _asked(clinician, "outcomes", {"clinician_id": clinician.pk, "format": "pdf"}, f"budget-o{index}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(_listed(client)) == 10
