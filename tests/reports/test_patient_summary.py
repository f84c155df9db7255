"""The patient treatment summary: what it prints, for whom, and the read it records."""

from dataclasses import astuple
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftercare.models import CheckIn, CheckInResponse
from kap_clinic.reports import selectors
from kap_clinic.reports.kinds import KINDS
from kap_clinic.reports.selectors import patient_summary
from sessions.models import RemsMonitoringForm
from tests.reports.clinic import integration
from tests.reports.helpers import more_checkins, pdf_pages, pdf_text, seed_course

pytestmark = pytest.mark.django_db


def _summary(patient) -> bytes:
    return KINDS["patient_summary"].render({"patient": patient.pk, "format": "pdf"}, "pdf").content


def test_summary_prints_the_patients_course_and_nobody_elses(
    patient, other_patient, clinician, other_clinician, front_desk
):
    seed_course(patient, clinician, front_desk=front_desk)
    seed_course(other_patient, other_clinician, front_desk=front_desk, icd10="F41.1", sessions=1, phq9_after=(18,))
    pdf = _summary(patient)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Ada Quill" in text and patient.mrn in text
    assert "F33.2" in text  # the diagnosis
    assert "35.0 mg (0.500 mg/kg)" in text  # each dose
    assert "122–141/80" in text and "122–143/80" in text  # the blood-pressure range of the first and third doses
    assert "lowest 3" in text and "peak 19" in text  # MOAA/S and CADSS
    assert "Nausea (moderate)" in text
    assert "Remission" in text and "from baseline 20" in text  # PHQ-9 4 after a baseline of 20
    assert "Page 1 of" in text
    # Nothing of patient B: not the name, the MRN, the diagnosis, their check-in score.
    assert "Holt" not in text and other_patient.mrn not in text and "F41.1" not in text


def test_summary_chart_is_the_same_svg_with_doses_marked(patient, clinician, front_desk):
    seed_course(patient, clinician, front_desk=front_desk)
    chart = str(patient_summary(patient)["chart"])
    assert chart.startswith("<svg") and chart.count('class="dose"') == 1  # one dashed path for all dose days
    dose_path = chart.split('class="dose"')[0].rsplit("<path", 1)[1]
    assert dose_path.count("M") == 3 and "3 dose days" in chart
    assert "PHQ-9 20" in chart and "Baseline 20" in chart and "style=" not in chart


def test_summary_grows_a_page_with_more_data(patient, clinician, front_desk):
    seed_course(patient, clinician, front_desk=front_desk)
    before = pdf_pages(_summary(patient))
    more_checkins(patient, 90)
    assert pdf_pages(_summary(patient)) > before


def test_chart_link_opens_the_summary_and_records_a_read(client_for, patient, clinician, front_desk):
    seed_course(patient, clinician, front_desk=front_desk)
    client = client_for(clinician)
    chart = client.get(reverse("homes:patient_chart", args=[patient.pk])).content.decode()
    url = reverse("reports:patient_summary", args=[patient.pk])
    assert url in chart
    reads = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=clinician, additional_data__patient_id=patient.pk
    )
    before = reads.count()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert reads.count() == before + 1


def test_clinicians_read_their_own_patients_summaries_only(client_for, patient, other_patient, clinician, admin_user):
    assert client_for(clinician).get(reverse("reports:patient_summary", args=[other_patient.pk])).status_code == 404
    assert client_for(admin_user).get(reverse("reports:patient_summary", args=[other_patient.pk])).status_code == 200


def test_reports_page_produces_the_summary_by_mrn(client_for, patient, other_patient, clinician):
    client = client_for(clinician)
    page = client.get(reverse("reports:index"))
    assert page.status_code == 200 and "Patient treatment summary" in page.content.decode()
    assert "Audit report" not in page.content.decode()  # admins only
    response = client.post(reverse("reports:run", args=["patient_summary"]), {"patient": patient.mrn, "format": "pdf"})
    assert response.status_code == 200 and "Ada Quill" in pdf_text(response.content)
    # Another clinician's patient, named by MRN, is as if unknown.
    response = client.post(
        reverse("reports:run", args=["patient_summary"]), {"patient": other_patient.mrn, "format": "pdf"}
    )
    assert response.status_code == 404


def test_the_summary_on_screen_shows_the_same_chart(client_for, patient, clinician, front_desk):
    seed_course(patient, clinician, front_desk=front_desk)
    client = client_for(clinician)
    reads = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=clinician, additional_data__patient_id=patient.pk
    )
    before = reads.count()
    page = client.get(reverse("reports:patient_summary_page", args=[patient.pk])).content.decode()
    assert reads.count() == before + 1
    assert str(patient_summary(patient)["chart"]) in page  # the very SVG the PDF prints
    assert "Nausea (moderate)" in page and reverse("reports:patient_summary", args=[patient.pk]) in page


def test_reports_are_one_click_from_the_admin_and_clinician_homes(client_for, admin_user, clinician, front_desk):
    for user in (admin_user, clinician):
        home = client_for(user).get(reverse("homes:home")).content.decode()
        assert 'data-testid="reports-link"' in home and reverse("reports:index") in home
    assert reverse("reports:index") not in client_for(front_desk).get(reverse("homes:home")).content.decode()


def test_summary_reads_sessions_in_chunks_into_plain_lines(monkeypatch, patient, clinician, front_desk):
    """A long course is read a chunk of sessions at a time; each line keeps plain values, never the session object."""
    monkeypatch.setattr(selectors, "SESSION_CHUNK", 2)
    seed_course(patient, clinician, front_desk=front_desk)
    lines = patient_summary(patient)["sessions"]
    assert [line.bp for line in lines[:3]] == ["122–141/80", "122–142/80", "122–143/80"]  # across two chunks
    assert [line.cadss for line in lines[:3]] == ["peak 17", "peak 18", "peak 19"]
    assert [line.starts_at for line in lines] == sorted(line.starts_at for line in lines)
    assert all(line.dosed_at is not None for line in lines[:3]) and all(line.dosed_at is None for line in lines[3:])
    assert not any(isinstance(value, Model) for line in lines for value in astuple(line))


def _rems_forms(clinician, doses) -> None:
    """REMS forms for the first two doses: one with its treatment date, one falling back on the session's day."""
    RemsMonitoringForm.objects.create(
        session=doses[0], dose="56", treatment_date=date(2026, 3, 4), created_by=clinician,
        signed_at=timezone.now(), signed_by=clinician,
    )  # fmt: skip
    RemsMonitoringForm.objects.create(session=doses[1], dose="other", dose_other_mg=70, created_by=clinician)


def _aftercare(patient, clinician, *, after, visits: int, checkins: int) -> None:
    """`visits` integration sessions and `checkins` check-ins answered with a PHQ-9 then a GAD-7, from `after` on."""
    for index in range(visits):
        integration(patient, clinician, after + timedelta(days=2, hours=index))
    start = after + timedelta(days=100)
    for index in range(checkins):
        opens = start + timedelta(days=index)
        checkin = CheckIn.objects.create(
            patient=patient, instruments=["phq9", "gad7"], opens_at=opens, due_at=opens + timedelta(days=3),
            closes_at=opens + timedelta(days=10), status=CheckIn.Status.COMPLETED, completed_at=opens,
        )  # fmt: skip
        CheckInResponse.objects.create(checkin=checkin, code="phq9", answers=[], total=11, band="")
        CheckInResponse.objects.create(checkin=checkin, code="gad7", answers=[], total=6, band="")


def test_summary_prints_rems_forms_integration_sessions_and_every_score_of_a_checkin(patient, clinician, front_desk):
    doses = seed_course(patient, clinician, front_desk=front_desk)
    _rems_forms(clinician, doses)
    _aftercare(patient, clinician, after=doses[-1].starts_at, visits=1, checkins=1)
    text = pdf_text(_summary(patient))
    second_day = timezone.localtime(doses[1].starts_at).date().isoformat()
    assert "2026-03-04 56 mg" in text  # the treatment date the form gives
    assert f"{second_day} Other 70 mg Not signed Not submitted" in text  # else the session's day
    assert "Mindfulness-based cognitive therapy (MBCT)" in text
    assert (clinician.get_full_name() or clinician.username) in text
    assert "PHQ-9 11; GAD-7 6" in text  # both scores of the check-in, in the order they were entered
    summary = patient_summary(patient)
    lines = [*summary["rems_forms"], *summary["integration_sessions"], *summary["checkins"]]
    assert len(lines) == 2 + 1 + 3
    assert not any(isinstance(value, Model) for line in lines for value in astuple(line))


def test_summary_queries_do_not_grow_with_aftercare(patient, clinician, front_desk, django_assert_max_num_queries):
    """REMS forms, integration sessions and check-ins are read in one streamed query each, however many there are."""
    doses = seed_course(patient, clinician, front_desk=front_desk)
    _rems_forms(clinician, doses)
    _aftercare(patient, clinician, after=doses[-1].starts_at, visits=1, checkins=1)
    with CaptureQueriesContext(connection) as few:
        _summary(patient)
    _aftercare(patient, clinician, after=doses[-1].starts_at + timedelta(days=200), visits=30, checkins=40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        pdf = _summary(patient)
    text = pdf_text(pdf)
    assert text.count("PHQ-9 11; GAD-7 6") == 41 and text.count("(MBCT)") == 31


def test_summary_of_a_patient_without_a_primary_clinician_says_so(patient, admin_user, client_for):
    """A referred patient not yet given a clinician: the summary page and its PDF open, naming nobody."""
    patient.primary_clinician = None
    patient.save(update_fields=["primary_clinician"])
    page = client_for(admin_user).get(reverse("reports:patient_summary_page", args=[patient.pk]))
    assert page.status_code == 200
    assert "None assigned" in page.content.decode()
    assert "None assigned" in pdf_text(_summary(patient))


def test_summary_names_each_check_in_questionnaire_as_the_clinic_writes_it(patient, clinician, front_desk):
    seed_course(patient, clinician, front_desk=front_desk)
    lines = [line.scores for line in selectors.checkin_lines(patient) if line.scores]
    assert lines and all(score.startswith("PHQ-9 ") for score in lines)
    assert "PHQ9" not in pdf_text(_summary(patient))
