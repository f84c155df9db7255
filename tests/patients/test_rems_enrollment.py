"""Spravato REMS enrollment as a fact on the patient (date and who recorded it), recorded from the chart, audited,
and required by the pre-dose check before a Spravato dose."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from patients.models import Patient
from patients.services import patient_rems_enrollment_record
from sessions.models import PreDoseCheck
from sessions.record.predose import dosing_problems
from sessions.rems.delivery import rems_form_start
from tests.sessions.record_helpers import book_session, check, dose, ready_to_dose

pytestmark = pytest.mark.django_db


def test_staff_record_the_enrollment_date_and_who_recorded_it(front_desk, patient):
    recorded = patient_rems_enrollment_record(patient=patient, enrolled_on=date(2026, 11, 30), by=front_desk)

    assert recorded.rems_enrolled_on == date(2026, 11, 30)
    assert recorded.rems_enrolled_by == front_desk
    assert recorded.rems_enrollment_recorded_at is not None
    change = LogEntry.objects.get_for_object(recorded).order_by("-timestamp").first()
    assert "rems_enrolled_on" in change.changes_dict


def test_an_enrollment_in_the_future_or_by_a_patient_is_refused(front_desk, patient, patient_user):
    with pytest.raises(ValidationError, match="in the future"):
        patient_rems_enrollment_record(
            patient=patient, enrolled_on=timezone.localdate() + timedelta(days=1), by=front_desk
        )
    with pytest.raises(PermissionDenied):
        patient_rems_enrollment_record(patient=patient, enrolled_on=date(2026, 11, 30), by=patient_user)
    patient.refresh_from_db()
    assert patient.rems_enrolled_on is None


def test_the_chart_records_the_enrollment(client_for, clinician, patient):
    client = client_for(clinician)
    page = client.get(f"/patients/{patient.pk}/")
    assert "Record REMS enrollment" in page.content.decode()

    response = client.post(f"/patients/{patient.pk}/rems-enrollment/", {"enrolled_on": "2026-11-30"})

    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.rems_enrolled_on, patient.rems_enrolled_by) == (date(2026, 11, 30), clinician)
    shown = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Enrolled 2026-11-30, recorded by" in shown


def test_a_bad_date_is_refused_with_the_chart_shown_again(client_for, front_desk, patient):
    response = client_for(front_desk).post(f"/patients/{patient.pk}/rems-enrollment/", {"enrolled_on": ""})
    assert response.status_code == 400
    patient.refresh_from_db()
    assert patient.rems_enrolled_on is None


def test_another_clinicians_patient_gives_404(client_for, other_clinician, patient):
    response = client_for(other_clinician).post(
        f"/patients/{patient.pk}/rems-enrollment/", {"enrolled_on": "2026-11-30"}
    )
    assert response.status_code == 404
    assert Patient.objects.get(pk=patient.pk).rems_enrolled_on is None


def test_a_spravato_dose_waits_for_rems_enrollment(patient, clinician, time_machine):
    """spravatorems.com (docs/clinical-references.md#clinical-review): "Outpatient Healthcare Settings are required to
    enroll patients prior to patient treatment"; before, the missing enrollment was only a warning on the REMS form
    after the dose."""
    session = book_session(patient, clinician, route="intranasal", ready=False)
    time_machine.move_to(session.starts_at + timedelta(minutes=5), tick=False)
    ready_to_dose(session, clinician)  # consent accepted, REMS enrollment recorded...
    Patient.objects.filter(pk=patient.pk).update(rems_enrolled_on=None, rems_enrolled_by=None)  # ...but not REMS
    session.patient.refresh_from_db()
    check(session, clinician)

    problems = dosing_problems(session, PreDoseCheck.objects.get(session=session))
    assert any("not enrolled in the Spravato REMS" in p for p in problems)
    with pytest.raises(ValidationError, match="not enrolled in the Spravato REMS"):
        dose(session, clinician, "56")

    patient_rems_enrollment_record(patient=patient, enrolled_on=timezone.localdate(), by=clinician)
    session.patient.refresh_from_db()
    assert dose(session, clinician, "56").dose_mg_given == 56


def test_iv_sessions_do_not_ask_for_rems_enrollment(patient, clinician, time_machine):
    session = book_session(patient, clinician)
    time_machine.move_to(session.starts_at + timedelta(minutes=5), tick=False)
    check(session, clinician)
    problems = dosing_problems(session, PreDoseCheck.objects.get(session=session))
    assert not any("REMS" in p for p in problems)


def test_the_rems_form_takes_the_enrollment_from_the_chart(patient, clinician):
    """docs/clinical-references.md#rems: the monitoring form asks whether the patient is enrolled; the chart answers
    it."""
    session = book_session(patient, clinician, route="intranasal")
    form = rems_form_start(session=session, by=clinician)
    assert form.is_enrolled_in_rems is True
