"""Signed screenings and signed REMS forms are read-only in the database itself, as signed session records are: the
services refuse first, and a write that gets past them (a bug, a shell, a raw query) is refused by the database."""

import pytest
from django.db import DatabaseError, transaction

from screening.models import Diagnosis, InstrumentResponse, MedicalHistory, Medication, Screening
from sessions.models import RemsEvent, RemsMonitoringForm
from sessions.rems import delivery
from tests.screening.test_services import fill_screening, signed_off_screening
from tests.sessions import test_rems
from tests.sessions.test_rems import after, filled_form

pytestmark = pytest.mark.django_db

# The REMS tests' fixtures: a booked intranasal session and the clinic's REMS setting.
_rems_setting, room, rems_session = test_rems._rems_setting, test_rems.room, test_rems.rems_session


def refused(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except DatabaseError:
        return True
    return False


def test_a_signed_off_screening_and_its_parts_cannot_be_changed_or_removed(patient, clinician):
    screening = signed_off_screening(patient, clinician)
    one = Screening.objects.filter(pk=screening.pk)
    parts = {"screening": screening}

    assert refused(lambda: one.update(final_outcome="ineligible"))
    assert refused(lambda: one.update(sign_off_note="written afterwards"))
    assert refused(lambda: one.delete())
    assert refused(lambda: InstrumentResponse.objects.filter(**parts).update(total=0))
    assert refused(lambda: InstrumentResponse.objects.filter(**parts).delete())
    assert refused(lambda: MedicalHistory.objects.filter(**parts).update(bp_systolic=200))
    assert refused(lambda: Diagnosis.objects.filter(**parts).update(description="changed"))
    assert refused(lambda: Medication.objects.create(screening=screening, name="Added later"))
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SIGNED_OFF and screening.final_outcome == "eligible"


def test_a_screening_awaiting_sign_off_can_still_be_corrected(patient, clinician, front_desk):
    screening = fill_screening(patient, front_desk)
    Screening.objects.filter(pk=screening.pk).update(sign_off_note="draft note")
    Medication.objects.create(screening=screening, name="Sertraline")
    InstrumentResponse.objects.filter(screening=screening, code="phq9").update(total=12)
    assert Screening.objects.get(pk=screening.pk).sign_off_note == "draft note"


def test_a_signed_rems_form_is_read_only_except_for_recording_its_submission_once(rems_session, clinician, front_desk):
    with after(rems_session):
        form = delivery.rems_form_sign(form=filled_form(rems_session, clinician), by=clinician)
    one = RemsMonitoringForm.objects.filter(pk=form.pk)
    events = RemsEvent.objects.filter(form=form)

    assert refused(lambda: one.update(lot_number="OTHER"))
    assert refused(lambda: one.update(signed_by=front_desk))
    assert refused(lambda: one.delete())
    assert refused(lambda: events.update(details="changed"))
    assert refused(lambda: events.delete())
    assert refused(lambda: RemsEvent.objects.create(form=form, event_type="other_adverse_event", occurred=False))

    delivery.rems_form_mark_submitted(form=form, by=front_desk, reference="FAX-0042")
    assert refused(lambda: one.update(submission_reference="FAX-9999"))
    assert refused(lambda: one.update(submitted_at=None, submitted_by=None))
    form.refresh_from_db()
    assert (form.lot_number, form.submission_reference) != ("OTHER", "FAX-9999")
    assert form.submission_reference == "FAX-0042"


def test_an_unsigned_rems_form_can_still_be_edited(rems_session, clinician):
    with after(rems_session):
        form = filled_form(rems_session, clinician)
    RemsMonitoringForm.objects.filter(pk=form.pk).update(lot_number="LOT-2")
    RemsEvent.objects.filter(form=form).update(details="noted")
    assert RemsMonitoringForm.objects.get(pk=form.pk).lot_number == "LOT-2"
