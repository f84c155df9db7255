"""The session record through its services: pre-dose gate, BP rules, dose, monitoring, discharge, signing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from screening.models import SuicideRiskAlert
from screening.services import alert_clear, screening_start
from sessions.models import (
    AdverseEvent,
    DoseAdministration,
    DosingSession,
    RecordAmendment,
    RecordSignature,
    ScaleScore,
    VitalSign,
)
from sessions.models.record import bp_level
from sessions.record.discharge import discharge_record, record_amend, record_sign
from sessions.record.dose import dose_mg_for
from sessions.record.monitoring import (
    adverse_event_record,
    adverse_event_resolve,
    scale_score_record,
    vital_sign_record,
)
from sessions.record.predose import pre_dose_bp_acknowledge
from sessions.record.reading import session_record

from .record_helpers import ALL_MET, REASON, book_session, check, checked_and_dosed, discharged, dose, monitored

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(patient, clinician, time_machine):
    """Patient A's first IV session (0.1-1.0 mg/kg, 60 minutes' monitoring), weighing 70.0 kg; it is that morning."""
    booked = book_session(patient, clinician)
    time_machine.move_to(booked.starts_at + timedelta(minutes=5), tick=False)
    return booked


def _now():
    from django.utils import timezone

    return timezone.now()


# ---- Dose ----------------------------------------------------------------------------------------


def test_weight_based_dose_is_mg_per_kg_times_weight(session, clinician):
    check(session, clinician)

    given = dose(session, clinician, "0.5")

    assert given.dose_mg_given == Decimal("35.0")  # 0.5 mg/kg x 70.0 kg
    assert given.dose_mg_per_kg == Decimal("0.5")
    assert given.weight_kg == Decimal("70.0")
    assert given.dosed_by == clinician
    assert given.dosed_at == _now()
    session.refresh_from_db()
    assert session.status == DosingSession.Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("per_kg", "weight", "mg"),
    [("0.5", "70.0", "35.0"), ("0.35", "72.3", "25.3"), ("0.45", "71.0", "32.0"), ("0.75", "58.5", "43.9")],
)
def test_dose_in_mg_is_rounded_to_a_tenth_of_a_milligram(per_kg, weight, mg):
    assert dose_mg_for(dose_mg_per_kg=Decimal(per_kg), weight_kg=Decimal(weight)) == Decimal(mg)


def test_fixed_dose_protocol_records_the_milligrams_given(patient, clinician, time_machine):
    spravato = book_session(patient, clinician, route="intranasal", weight_kg=None)
    time_machine.move_to(spravato.starts_at + timedelta(minutes=5), tick=False)
    check(spravato, clinician)

    given = dose(spravato, clinician, "56")

    assert given.dose_mg_given == Decimal("56.0")
    assert given.dose_mg_per_kg is None
    assert given.weight_kg is None


def test_dose_outside_the_protocol_range_is_refused_without_an_override(session, clinician):
    check(session, clinician)

    with pytest.raises(ValidationError, match="outside IV ketamine induction's range of 0.1–1 mg/kg"):
        dose(session, clinician, "1.2")

    assert not DoseAdministration.objects.exists()


def test_clinician_may_give_a_dose_outside_the_range_with_a_written_reason(session, clinician):
    check(session, clinician)

    given = dose(session, clinician, "1.2", override_reason=REASON)

    assert given.dose_mg_given == Decimal("84.0")
    assert given.range_override_by == clinician
    assert given.range_override_reason == REASON


def test_a_range_override_needs_more_than_a_word(session, clinician):
    check(session, clinician)

    with pytest.raises(ValidationError, match="at least 20 characters"):
        dose(session, clinician, "1.2", override_reason="ok")


def test_intake_staff_record_the_check_in_but_never_the_dose(session, clinician, front_desk):
    """Least privilege: giving the drug is a clinician's act; intake staff check the patient in and take vitals."""
    check(session, front_desk)

    for amount in ("0.5", "1.2"):
        with pytest.raises(PermissionDenied):
            dose(session, front_desk, amount, override_reason=REASON)
    assert not DoseAdministration.objects.exists()

    assert dose(session, clinician, "0.5").dosed_by == clinician


def test_a_weight_based_protocol_refuses_a_dose_without_the_patients_weight(patient, clinician, time_machine):
    booked = book_session(patient, clinician, weight_kg=None)
    time_machine.move_to(booked.starts_at + timedelta(minutes=5), tick=False)
    check(booked, clinician)

    with pytest.raises(ValidationError, match="dosed by mg/kg: record the patient's weight"):
        dose(booked, clinician)


def test_a_dose_is_recorded_once(session, clinician):
    checked_and_dosed(session, clinician)

    with pytest.raises(ValidationError, match="already recorded"):
        dose(session, clinician)


def test_the_dose_time_is_on_the_session_day_and_not_in_the_future(session, clinician):
    check(session, clinician)

    with pytest.raises(ValidationError, match="in the future"):
        dose(session, clinician, dosed_at=_now() + timedelta(minutes=30))
    with pytest.raises(ValidationError, match="on the day of the session"):
        dose(session, clinician, dosed_at=_now() - timedelta(days=1))


# ---- Pre-dose gate -------------------------------------------------------------------------------


def test_dosing_is_refused_without_a_pre_dose_checklist(session, clinician):
    with pytest.raises(ValidationError, match="Complete the pre-dose checklist"):
        dose(session, clinician)


def test_dosing_is_refused_while_the_checklist_is_incomplete(session, clinician):
    check(session, clinician, escort_name="", rr=None)

    with pytest.raises(ValidationError) as refused:
        dose(session, clinician)

    message = " ".join(refused.value.messages)
    assert "driver or escort" in message
    assert "respiratory rate" in message
    session.refresh_from_db()
    assert session.status == DosingSession.Status.SCHEDULED


def test_an_open_high_suicide_risk_alert_stops_dosing_until_it_is_cleared(session, patient, clinician, front_desk):
    check(session, clinician)
    alert = SuicideRiskAlert.objects.create(
        patient=patient,
        screening=screening_start(patient=patient, by=front_desk),
        instrument_code="cssrs",
        level="high",
    )

    with pytest.raises(ValidationError, match="suicide-risk alert stops dosing"):
        dose(session, clinician, override_reason=REASON)
    assert not DoseAdministration.objects.exists()

    alert_clear(alert=alert, by=clinician, note="Seen today; safety plan in place, no current intent.")
    assert dose(session, clinician).dose_mg_given == Decimal("35.0")


def test_the_checklist_cannot_change_after_the_dose(session, clinician):
    checked_and_dosed(session, clinician)

    with pytest.raises(ValidationError, match="dose has been given"):
        check(session, clinician, sbp=130)


def test_pre_dose_checks_are_made_on_the_session_day(patient, clinician):
    booked = book_session(patient, clinician)  # tomorrow or later; today is not its day

    with pytest.raises(ValidationError, match="on the day of the session"):
        check(booked, clinician)


# ---- Blood-pressure rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sbp", "dbp", "level"),
    [
        (140, 90, ""),
        (141, 80, "flag"),
        (120, 91, "flag"),
        (150, 95, "flag"),
        (180, 110, "flag"),
        (181, 80, "hold"),
        (150, 111, "hold"),
        (185, 100, "hold"),
    ],
)
def test_pre_dose_blood_pressure_rules(sbp, dbp, level):
    assert bp_level(sbp, dbp) == level


def test_bp_150_over_95_needs_a_clinicians_acknowledgement_before_dosing(session, clinician, front_desk):
    check(session, front_desk, sbp=150, dbp=95)

    with pytest.raises(ValidationError, match="150/95 is raised: a clinician must acknowledge it"):
        dose(session, clinician)
    with pytest.raises(PermissionDenied):
        pre_dose_bp_acknowledge(session=session, by=front_desk, symptom_check="None", reason=REASON)

    acknowledged = pre_dose_bp_acknowledge(
        session=session, by=clinician, symptom_check="No headache, chest pain or visual change.", reason=REASON
    )

    assert acknowledged.bp_acknowledged_level == "flag"
    assert acknowledged.bp_acknowledged_by == clinician
    assert dose(session, clinician).dose_mg_given == Decimal("35.0")


def test_bp_185_over_100_is_a_hard_hold_only_a_clinicians_written_override_lifts(session, clinician, front_desk):
    check(session, front_desk, sbp=185, dbp=100)

    with pytest.raises(ValidationError, match="185/100 is on hard hold"):
        dose(session, clinician)
    with pytest.raises(PermissionDenied):
        pre_dose_bp_acknowledge(session=session, by=front_desk, symptom_check="None", reason=REASON, override_hold=True)
    with pytest.raises(ValidationError, match="unless you explicitly override"):
        pre_dose_bp_acknowledge(session=session, by=clinician, symptom_check="None", reason=REASON)
    with pytest.raises(ValidationError, match="at least 20 characters"):
        pre_dose_bp_acknowledge(session=session, by=clinician, symptom_check="None", reason="fine", override_hold=True)
    with pytest.raises(ValidationError, match="Record the symptom check"):
        pre_dose_bp_acknowledge(session=session, by=clinician, symptom_check=" ", reason=REASON, override_hold=True)

    pre_dose_bp_acknowledge(session=session, by=clinician, symptom_check="None", reason=REASON, override_hold=True)

    assert session.pre_dose_check.bp_acknowledged_level == "hold"
    assert dose(session, clinician).dose_mg_given == Decimal("35.0")


def test_new_pre_dose_readings_need_a_new_acknowledgement(session, clinician):
    check(session, clinician, sbp=150, dbp=95)
    pre_dose_bp_acknowledge(session=session, by=clinician, symptom_check="None", reason=REASON)

    check(session, clinician, sbp=185, dbp=100)

    with pytest.raises(ValidationError, match="hard hold"):
        dose(session, clinician)


def test_a_normal_pressure_has_nothing_to_acknowledge(session, clinician):
    check(session, clinician)

    with pytest.raises(ValidationError, match="no raised pre-dose blood pressure"):
        pre_dose_bp_acknowledge(session=session, by=clinician, symptom_check="None", reason=REASON)


# ---- Monitoring ----------------------------------------------------------------------------------


def test_vital_signs_are_timed_in_minutes_from_the_dose(session, clinician, front_desk, time_machine):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=40, seconds=20), tick=False)

    vital = vital_sign_record(session=session, by=front_desk, taken_at=_now(), sbp=152, dbp=88, hr=80)

    assert vital.minutes_from_dose == 40
    assert vital.bp_level == "flag"
    assert vital.recorded_by == front_desk


def test_monitoring_waits_for_the_dose(session, clinician):
    check(session, clinician)

    with pytest.raises(ValidationError, match="Record the dose first"):
        vital_sign_record(session=session, by=clinician, taken_at=_now(), sbp=120, dbp=80)
    with pytest.raises(ValidationError, match="Record the dose first"):
        scale_score_record(session=session, by=clinician, scale="moaas", score=5, taken_at=_now())


def test_a_reading_before_the_dose_belongs_to_the_checklist(session, clinician):
    given = checked_and_dosed(session, clinician)

    with pytest.raises(ValidationError, match="before the dose"):
        vital_sign_record(session=session, by=clinician, taken_at=given.dosed_at - timedelta(minutes=5), sbp=120)


def test_a_vitals_row_needs_a_reading_within_plausible_limits(session, clinician):
    checked_and_dosed(session, clinician)

    with pytest.raises(ValidationError, match="at least one reading"):
        vital_sign_record(session=session, by=clinician, taken_at=_now())
    with pytest.raises(ValidationError):
        vital_sign_record(session=session, by=clinician, taken_at=_now(), spo2=104)
    assert not VitalSign.objects.exists()


@pytest.mark.parametrize(
    ("scale", "score", "accepted"),
    [
        ("moaas", 0, True),
        ("moaas", 5, True),
        ("moaas", 6, False),
        ("cadss", 92, True),
        ("cadss", 93, False),
        ("cadss6", 24, True),
        ("cadss6", 25, False),
    ],
)
def test_scale_scores_stay_within_the_scale(session, clinician, scale, score, accepted):
    checked_and_dosed(session, clinician)

    if accepted:
        row = scale_score_record(session=session, by=clinician, scale=scale, score=score, taken_at=_now())
        assert row.minutes_from_dose == 0
    else:
        with pytest.raises(ValidationError, match="runs from 0 to"):
            scale_score_record(session=session, by=clinician, scale=scale, score=score, taken_at=_now())


def test_moaas_scores_carry_their_domain_labels(session, clinician):
    checked_and_dosed(session, clinician)

    row = scale_score_record(session=session, by=clinician, scale="moaas", score=2, taken_at=_now())

    assert row.label == "Responds only after mild prodding or shaking"


def test_adverse_events_are_coded_and_resolved(session, clinician, time_machine):
    checked_and_dosed(session, clinician)
    onset = _now()
    event = adverse_event_record(
        session=session,
        by=clinician,
        kind="nausea",
        onset_at=onset,
        severity="moderate",
        intervention="Ondansetron 4 mg",
        is_reportable=False,
    )
    time_machine.move_to(onset + timedelta(minutes=25), tick=False)

    with pytest.raises(ValidationError, match="cannot resolve before its onset"):
        adverse_event_resolve(
            session=session, by=clinician, event_id=event.pk, resolved_at=onset - timedelta(minutes=1)
        )
    adverse_event_resolve(session=session, by=clinician, event_id=event.pk, resolved_at=_now())

    event.refresh_from_db()
    assert event.resolved_at == onset + timedelta(minutes=25)
    assert event.name == "Nausea"


def test_an_other_adverse_event_needs_a_description(session, clinician):
    with pytest.raises(ValidationError, match="Describe the event"):
        adverse_event_record(session=session, by=clinician, kind="other", onset_at=_now(), severity="mild")

    event = adverse_event_record(
        session=session, by=clinician, kind="other", other_description="Jaw tension", onset_at=_now(), severity="mild"
    )
    assert event.name == "Jaw tension"


def test_an_adverse_event_of_another_session_cannot_be_resolved_here(
    session, clinician, other_patient, other_clinician
):
    elsewhere = book_session(other_patient, other_clinician)
    foreign = AdverseEvent.objects.create(
        session=elsewhere, kind="nausea", onset_at=_now(), severity="mild", recorded_by=other_clinician
    )

    with pytest.raises(ValidationError, match="unresolved adverse event of this session"):
        adverse_event_resolve(session=session, by=clinician, event_id=foreign.pk, resolved_at=_now())


# ---- Discharge -----------------------------------------------------------------------------------


def test_discharge_waits_for_the_protocols_monitoring_time_after_the_infusion_ends(session, clinician, time_machine):
    """docs/clinical-references.md#discharge, #clinical-review (Andrade 2017): observation counts from the end of
    dosing. A 40-minute infusion with 60 minutes' monitoring: not at 99 minutes after the start (formerly allowed at 60,
    21 minutes after the end)."""
    given = checked_and_dosed(session, clinician)
    monitored(session, clinician, time_machine, minutes=99)

    with pytest.raises(ValidationError, match="at least 60 minutes of monitoring after the end of dosing"):
        discharge_record(session=session, by=clinician, criteria=ALL_MET)

    time_machine.move_to(given.dosed_at + timedelta(minutes=100), tick=False)
    discharge = discharge_record(session=session, by=clinician, criteria=ALL_MET)

    assert discharge.discharged_at == given.dosed_at + timedelta(minutes=100)
    assert discharge.discharged_by == clinician
    session.refresh_from_db()
    assert session.status == DosingSession.Status.COMPLETED


def test_discharge_is_refused_while_a_criterion_is_unmet(session, clinician, time_machine):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(hours=2), tick=False)

    with pytest.raises(ValidationError) as refused:
        discharge_record(
            session=session, by=clinician, criteria={**ALL_MET, "is_escort_present": False, "is_nausea_minimal": False}
        )

    assert refused.value.messages == [
        "Discharge criteria not yet met:",
        "No or minimal nausea",
        "Responsible adult escort present",
    ]
    session.refresh_from_db()
    assert session.status == DosingSession.Status.IN_PROGRESS


def test_only_a_clinician_discharges(session, clinician, front_desk, time_machine):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(hours=2), tick=False)

    with pytest.raises(PermissionDenied):
        discharge_record(session=session, by=front_desk, criteria=ALL_MET)


def test_discharge_needs_a_dose(session, clinician):
    with pytest.raises(ValidationError, match="Record the dose first"):
        discharge_record(session=session, by=clinician, criteria=ALL_MET)


# ---- Signing and amendments ----------------------------------------------------------------------


def test_the_record_is_signed_after_discharge_by_a_clinician(session, clinician, front_desk, time_machine):
    checked_and_dosed(session, clinician)
    with pytest.raises(ValidationError, match="once the patient has been discharged"):
        record_sign(session=session, by=clinician)

    monitored(session, clinician, time_machine)
    discharge_record(session=session, by=clinician, criteria=ALL_MET)
    with pytest.raises(PermissionDenied):
        record_sign(session=session, by=front_desk)

    signature = record_sign(session=session, by=clinician)
    assert signature.signed_by == clinician


@pytest.fixture
def signed(session, clinician, time_machine):
    """A record signed after a full session, with one reading, one score and an open adverse event."""
    given = checked_and_dosed(session, clinician)
    vital_sign_record(session=session, by=clinician, taken_at=given.dosed_at, sbp=130, dbp=80)
    scale_score_record(session=session, by=clinician, scale="moaas", score=4, taken_at=given.dosed_at)
    adverse_event_record(session=session, by=clinician, kind="headache", onset_at=given.dosed_at, severity="mild")
    time_machine.move_to(given.dosed_at + timedelta(minutes=101), tick=False)
    # The only MOAA/S is 4: the clinician discharges over it in writing.
    discharge_record(session=session, by=clinician, criteria=ALL_MET, override_reason=REASON)
    record_sign(session=session, by=clinician)
    return session


STEPS = {
    "checklist": lambda s, by: check(s, by),
    "acknowledge": lambda s, by: pre_dose_bp_acknowledge(
        session=s, by=by, symptom_check="None", reason=REASON, override_hold=True
    ),
    "dose": lambda s, by: dose(s, by),
    "vitals": lambda s, by: vital_sign_record(session=s, by=by, taken_at=_now(), sbp=120, dbp=80),
    "score": lambda s, by: scale_score_record(session=s, by=by, scale="cadss", score=3, taken_at=_now()),
    "adverse event": lambda s, by: adverse_event_record(
        session=s, by=by, kind="nausea", onset_at=_now(), severity="mild"
    ),
    "resolve": lambda s, by: adverse_event_resolve(
        session=s, by=by, event_id=s.adverse_events.get().pk, resolved_at=_now()
    ),
    "discharge": lambda s, by: discharge_record(session=s, by=by, criteria=ALL_MET),
    "sign": lambda s, by: record_sign(session=s, by=by),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_signed_record_refuses_every_step(signed, clinician, step):
    with pytest.raises(ValidationError, match="record is signed"):
        STEPS[step](signed, clinician)

    assert VitalSign.objects.count() == 1
    assert ScaleScore.objects.count() == 1
    assert AdverseEvent.objects.get().resolved_at is None
    assert RecordSignature.objects.count() == 1


def test_a_signed_record_takes_dated_amendments(signed, clinician, front_desk):
    first = record_amend(session=signed, by=clinician, text="Headache resolved at 11:40 by phone check.")
    second = record_amend(session=signed, by=front_desk, text="Escort's phone number confirmed.")

    assert [a.author for a in signed.record_amendments.all()] == [clinician, front_desk]
    assert first.created_at == _now()
    assert second.text == "Escort's phone number confirmed."


def test_an_unsigned_record_is_corrected_directly_not_amended(session, clinician):
    with pytest.raises(ValidationError, match="not signed yet"):
        record_amend(session=session, by=clinician, text="Too early.")


def test_signed_rows_refuse_save_and_delete(signed):
    vital = signed.vital_signs.get()
    vital.sbp = 110

    with pytest.raises(ValidationError, match="record is signed"):
        vital.save()
    with pytest.raises(ValidationError, match="record is signed"):
        vital.delete()
    with pytest.raises(ValidationError, match="cannot be removed"):
        signed.record_signature.delete()


def test_the_database_refuses_to_change_a_signed_record(signed, clinician):
    with pytest.raises(DatabaseError), transaction.atomic():
        VitalSign.objects.filter(session=signed).update(sbp=110)
    with pytest.raises(DatabaseError), transaction.atomic():
        DoseAdministration.objects.filter(session=signed).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        VitalSign.objects.bulk_create(
            [VitalSign(session=signed, taken_at=_now(), minutes_from_dose=70, hr=70, recorded_by=clinician)]
        )
    with pytest.raises(DatabaseError), transaction.atomic():
        RecordSignature.objects.filter(session=signed).delete()

    assert signed.vital_signs.get().sbp == 130


def test_amendments_are_append_only(signed, clinician):
    amendment = record_amend(session=signed, by=clinician, text="Added later.")

    with pytest.raises(ValidationError):
        amendment.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        RecordAmendment.objects.filter(pk=amendment.pk).update(text="Rewritten.")


def test_record_rows_are_audited_against_the_patient(session, clinician, patient):
    checked_and_dosed(session, clinician)

    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(DoseAdministration))

    assert entry.additional_data == {"patient_id": patient.pk}
    assert entry.changes["dose_mg_given"][1] == "35.0"


def test_a_whole_session_from_checks_to_signature(patient, clinician, time_machine):
    session = book_session(patient, clinician)
    time_machine.move_to(session.starts_at, tick=False)

    discharged(session, clinician, time_machine)
    record_sign(session=session, by=clinician)

    record = session_record(session)
    assert record.is_signed
    assert record.dose.dose_mg_given == Decimal("35.0")
    assert record.discharge is not None


def test_a_spravato_record_is_not_signed_until_its_rems_form_is_complete(patient, clinician, time_machine):
    spravato = book_session(patient, clinician, route="intranasal")
    time_machine.move_to(spravato.starts_at + timedelta(minutes=5), tick=False)
    check(spravato, clinician)
    dose(spravato, clinician, amount="56")
    monitored(spravato, clinician, time_machine)
    discharge_record(session=spravato, by=clinician, criteria=ALL_MET)

    with pytest.raises(ValidationError, match="REMS Patient Monitoring Form"):
        record_sign(session=spravato, by=clinician)
    assert not RecordSignature.objects.filter(session=spravato).exists()
