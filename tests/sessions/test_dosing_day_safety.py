"""Dosing-day safety through the services and pages: every open suicide-risk alert reaches the pre-dose checks, the
dosing-day re-screen, observation from the end of dosing, post-dose alerts, discharge against the record, the
Spravato 2-hour floor and the clinic's thresholds (clinical review of 2026-12-01, items 2-8)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from aftercare.services import checkin_submit
from kap_clinic.kernel.clinic.forms import ClinicSettingsForm
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.models import StaffAlert
from patients.models import Patient
from screening.models import SuicideRiskAlert
from screening.services import alert_clear
from sessions.models import Discharge, DoseTopUp, DosingSession, Protocol
from sessions.record.discharge import discharge_earliest_at, discharge_record, end_of_dosing_at
from sessions.record.dose import dose_record, dosing_end_record, top_up_record
from sessions.record.monitoring import adverse_event_record, scale_score_record, vital_sign_record
from sessions.record.predose import pre_dose_risk_acknowledge
from sessions.record.reading import session_record
from tests.aftercare.helpers import GAD7_CALM, open_checkin, phq9_total

from .record_helpers import (
    ALL_MET,
    GOOD_VITALS,
    REASON,
    book_session,
    check,
    checked_and_dosed,
    dose,
    monitored,
)

pytestmark = pytest.mark.django_db

REVIEW = "Seen in person this morning; passive thoughts only, no plan or intent; safety plan reviewed."


@pytest.fixture
def session(patient, clinician, time_machine):
    """Patient A's first IV session (60 minutes' monitoring), 70.0 kg; it is that morning."""
    booked = book_session(patient, clinician)
    time_machine.move_to(booked.starts_at + timedelta(minutes=5), tick=False)
    return booked


def record_url(session, name="record_detail"):
    return reverse(f"sessions:{name}", kwargs={"pk": session.pk})


def _risk_alert(patient, level, **fields):
    return SuicideRiskAlert.objects.create(
        patient=patient, source="dosing_day", source_ref=f"test-{level}", instrument_code="cssrs", level=level, **fields
    )


# ---- 2. Every open risk alert reaches the dosing day -------------------------------------------------------------


def test_a_check_in_item_9_answer_holds_dosing_until_a_clinician_reviews_it(session, patient, patient_user, clinician):
    """PHQ-9 item 9 above 0 on a check-in (docs/clinical-references.md#instruments, #relapse) is a moderate risk:
    same-day clinician review before dosing (C-SSRS triage, docs/clinical-references.md#c-ssrs, #clinical-review).
    Before, only a high screening alert blocked."""
    checkin_submit(
        checkin=open_checkin(patient), answers={"phq9": phq9_total(4, item9=1), "gad7": GAD7_CALM}, by=patient_user
    )
    alert = SuicideRiskAlert.objects.get(patient=patient)
    assert (alert.level, alert.source, alert.screening) == ("moderate", "checkin", None)
    assert StaffAlert.objects.get(kind="suicide_risk").urgent
    check(session, clinician)

    with pytest.raises(ValidationError, match="moderate suicide-risk alert .* needs a clinician's review today"):
        dose(session, clinician)

    alert_clear(alert=alert, by=clinician, note=REVIEW)
    assert dose(session, clinician).dose_mg_given == Decimal("35.0")


def test_the_record_page_lists_every_open_risk_alert_before_the_dose(client_for, session, patient, clinician):
    _risk_alert(patient, "low")
    _risk_alert(patient, "moderate")
    check(session, clinician)

    page = client_for(clinician).get(record_url(session)).content.decode()

    blocked = page.split('data-testid="dosing-blocked"')[1].split("</div>")[0]
    assert "open moderate suicide-risk alert" in blocked
    assert "open low suicide-risk alert" in blocked
    assert "Acknowledge a low suicide-risk alert before this dose" in page


def test_a_low_alert_needs_a_clinicians_acknowledgement_for_this_dose(session, patient, clinician, front_desk):
    """C-SSRS triage (docs/clinical-references.md#c-ssrs): low -> flag for clinician review before the next dose."""
    low = _risk_alert(patient, "low")
    check(session, clinician)
    with pytest.raises(ValidationError, match="low suicide-risk alert .* needs a clinician's acknowledgement"):
        dose(session, clinician)
    with pytest.raises(PermissionDenied):
        pre_dose_risk_acknowledge(session=session, by=front_desk, alert_id=low.pk, note=REVIEW)
    with pytest.raises(ValidationError, match="Write what you reviewed"):
        pre_dose_risk_acknowledge(session=session, by=clinician, alert_id=low.pk, note="  ")

    ack = pre_dose_risk_acknowledge(session=session, by=clinician, alert_id=low.pk, note=REVIEW)

    assert (ack.acknowledged_by, ack.alert) == (clinician, low)
    assert dose(session, clinician)
    low.refresh_from_db()
    assert low.status == "open"  # acknowledged for this dose, still open for its review


def test_a_moderate_or_high_alert_is_not_acknowledged_away(session, patient, clinician):
    moderate = _risk_alert(patient, "moderate")
    check(session, clinician)

    with pytest.raises(ValidationError, match="reviews and clears it first"):
        pre_dose_risk_acknowledge(session=session, by=clinician, alert_id=moderate.pk, note=REVIEW)


def test_the_risk_acknowledgement_page_step(client_for, session, patient, clinician):
    low = _risk_alert(patient, "low")
    check(session, clinician)

    response = client_for(clinician).post(
        record_url(session, "record_risk_acknowledge"), {"risk-alert": low.pk, "risk-note": REVIEW}
    )

    assert response.status_code == 302
    page = client_for(clinician).get(record_url(session)).content.decode()
    assert 'data-testid="risk-acknowledged"' in page
    assert 'data-testid="dosing-blocked"' not in page


# ---- 3. The dosing-day re-screen --------------------------------------------------------------------------------


def test_the_checklist_is_incomplete_without_the_rescreen_and_the_pregnancy_question(session, clinician):
    """Clinical review item 3: PHQ-9 item 9 or the C-SSRS "since last visit" screener, and where it applies a
    pregnancy question, recorded in the pre-dose checks."""
    saved = check(session, clinician, rescreen_code="", rescreen_answers=[], is_possibly_pregnant=None)

    assert "the suicide-risk re-screen (PHQ-9 item 9 or C-SSRS since last visit)" in saved.missing()
    assert "the pregnancy question" in saved.missing()
    with pytest.raises(ValidationError, match="pre-dose checklist is missing"):
        dose(session, clinician)


def test_the_pregnancy_question_is_not_asked_of_a_male_patient(session, patient, clinician):
    Patient.objects.filter(pk=patient.pk).update(sex_for_scoring="male")

    saved = check(session, clinician, is_possibly_pregnant=True)

    assert saved.is_possibly_pregnant is None
    assert saved.is_complete


def test_a_possible_pregnancy_holds_the_dose(session, clinician):
    """Spravato label 8.1: not recommended in pregnancy. The safer course: no dose until it is ruled out."""
    check(session, clinician, is_possibly_pregnant=True)

    with pytest.raises(ValidationError, match="may be pregnant"):
        dose(session, clinician)


@pytest.mark.parametrize(
    ("code", "answers", "level", "instrument"),
    [
        ("cssrs_slv", [1, 0, None, None, None, 0], "low", "cssrs"),
        ("cssrs_slv", [1, 1, 1, 0, 0, 0], "moderate", "cssrs"),
        ("cssrs_slv", [0, 0, None, None, None, 1], "high", "cssrs"),
        ("phq9_item9", [2], "moderate", "phq9"),
    ],
)
def test_a_positive_rescreen_raises_the_alert_of_its_level_there_and_then(
    session, patient, clinician, code, answers, level, instrument
):
    """C-SSRS screener triage (docs/clinical-references.md#c-ssrs): the alert is raised when the checklist is saved, and
    the staff told."""
    saved = check(session, clinician, rescreen_code=code, rescreen_answers=answers)

    alert = SuicideRiskAlert.objects.get(patient=patient, status="open")
    assert (alert.level, alert.instrument_code, alert.source) == (level, instrument, "dosing_day")
    assert alert.source_ref == f"session-{session.pk}"
    assert saved.rescreen_level == level
    assert StaffAlert.objects.filter(kind="suicide_risk", key__startswith=f"suicide-risk-{alert.pk}-").exists()
    with pytest.raises(ValidationError, match="suicide-risk alert"):
        dose(session, clinician)


def test_answering_the_rescreen_again_does_not_undo_the_alert(session, patient, clinician):
    check(session, clinician, rescreen_code="phq9_item9", rescreen_answers=[1])
    check(session, clinician, rescreen_code="phq9_item9", rescreen_answers=[0])

    assert SuicideRiskAlert.objects.filter(patient=patient, status="open").count() == 1
    with pytest.raises(ValidationError, match="moderate suicide-risk alert"):
        dose(session, clinician)


def test_a_malformed_rescreen_is_refused(session, clinician):
    with pytest.raises(ValidationError, match="not asked when question 2 is no"):
        check(session, clinician, rescreen_code="cssrs_slv", rescreen_answers=[1, 0, 1, None, None, 0])


def test_the_rescreen_through_the_page(client_for, session, patient, front_desk):
    from .test_record_views import CHECKLIST

    data = {**CHECKLIST, "check-rescreen_code": "cssrs_slv", "check-phq9_item9": ""}
    data.update({"check-cssrs_q1": "1", "check-cssrs_q2": "1", "check-cssrs_q3": "1", "check-cssrs_q4": "0"})
    data.update({"check-cssrs_q5": "0", "check-cssrs_q6": "0"})

    response = client_for(front_desk).post(record_url(session, "record_check"), data)

    assert response.status_code == 302
    assert SuicideRiskAlert.objects.get(patient=patient).level == "moderate"
    page = client_for(front_desk).get(record_url(session)).content.decode()
    assert "moderate risk</strong>, alert raised" in page


# ---- 4. Observation counts from the end of dosing ----------------------------------------------------------------


def test_an_iv_dose_records_the_infusion_and_discharge_counts_from_its_end(session, clinician, time_machine):
    """docs/clinical-references.md#discharge, #clinical-review: observation counts from the end of dosing. Before,
    discharge was allowed 21 minutes after a 40-minute infusion ended (60 minutes from its start)."""
    check(session, clinician)
    with pytest.raises(ValidationError, match="infusion's duration"):
        dose_record(session=session, by=clinician, dose=Decimal("0.5"))

    given = dose_record(session=session, by=clinician, dose=Decimal("0.5"), infusion_rate_mg_per_min=Decimal("0.875"))

    assert given.infusion_minutes == 40  # 35 mg at 0.875 mg/min
    assert discharge_earliest_at(session, given) == given.dosed_at + timedelta(minutes=100)
    monitored(session, clinician, time_machine, minutes=61)
    with pytest.raises(ValidationError, match="after the end of dosing"):
        discharge_record(session=session, by=clinician, criteria=ALL_MET)


def test_an_infusion_that_ran_longer_moves_the_discharge(session, clinician, time_machine):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=55), tick=False)

    dosing_end_record(session=session, by=clinician)

    given.refresh_from_db()
    assert given.dosing_ended_at == given.dosed_at + timedelta(minutes=55)
    assert discharge_earliest_at(session, given) == given.dosed_at + timedelta(minutes=115)


def test_im_top_ups_move_the_discharge(patient, clinician, front_desk, time_machine):
    """docs/clinical-references.md#cadence (IM feasibility study: up to 0.75 mg/kg with a 20-40 mg top-up at about 12
    minutes)."""
    im = book_session(patient, clinician, route="im")
    time_machine.move_to(im.starts_at + timedelta(minutes=5), tick=False)
    check(im, clinician)
    given = dose(im, clinician, amount=str(im.protocol.default_dose))
    time_machine.move_to(given.dosed_at + timedelta(minutes=12), tick=False)
    with pytest.raises(PermissionDenied):
        top_up_record(session=im, by=front_desk, dose_mg=Decimal("20"))

    top_up = top_up_record(session=im, by=clinician, dose_mg=Decimal("20"), reason="Insufficient effect")

    assert DoseTopUp.objects.get() == top_up
    minutes = im.protocol.monitoring_minutes
    assert discharge_earliest_at(im, given) == top_up.given_at + timedelta(minutes=minutes)


def test_im_top_ups_beyond_40_mg_need_a_clinicians_written_reason(patient, clinician, time_machine):
    """docs/clinical-references.md#cadence (IM: up to 0.75 mg/kg with an optional 20-40 mg top-up). Before, a 500 mg
    top-up after the protocol's largest dose was recorded with no reason at all."""
    im = book_session(patient, clinician, route="im")
    time_machine.move_to(im.starts_at + timedelta(minutes=5), tick=False)
    check(im, clinician)
    given = dose(im, clinician, amount=str(im.protocol.dose_max))
    time_machine.move_to(given.dosed_at + timedelta(minutes=12), tick=False)

    with pytest.raises(ValidationError, match="would come to 500 mg, more than 40 mg: write at least 20 characters"):
        top_up_record(session=im, by=clinician, dose_mg=Decimal("500"), reason="More")
    top_up_record(session=im, by=clinician, dose_mg=Decimal("30"))
    with pytest.raises(ValidationError, match="would come to 50 mg"):
        top_up_record(session=im, by=clinician, dose_mg=Decimal("20"), reason="   ")
    assert DoseTopUp.objects.count() == 1

    second = top_up_record(session=im, by=clinician, dose_mg=Decimal("20"), reason=REASON)

    assert (second.dose_mg, second.reason) == (Decimal("20.0"), REASON)


def test_top_ups_are_for_im_sessions_only(session, clinician):
    checked_and_dosed(session, clinician)

    with pytest.raises(ValidationError, match="intramuscular"):
        top_up_record(session=session, by=clinician, dose_mg=Decimal("20"))


def test_intranasal_counts_from_the_last_device(patient, clinician, time_machine):
    """Spravato label: 28 mg devices 5 minutes apart; the 2 hours count from the last device."""
    spravato = book_session(patient, clinician, route="intranasal")
    time_machine.move_to(spravato.starts_at + timedelta(minutes=5), tick=False)
    check(spravato, clinician)
    given = dose(spravato, clinician, amount="56")  # the label's first dose of a series: two devices
    assert end_of_dosing_at(spravato, given) == given.dosed_at + timedelta(minutes=5)

    time_machine.move_to(given.dosed_at + timedelta(minutes=12), tick=False)
    given = dosing_end_record(session=spravato, by=clinician)

    assert discharge_earliest_at(spravato, given) == given.dosed_at + timedelta(minutes=12 + 120)


# ---- 5. Dangerous vitals after the dose --------------------------------------------------------------------------


def test_200_over_120_at_40_minutes_raises_an_urgent_staff_alert(client_for, session, clinician, time_machine):
    """Clinical review item 5; Spravato label: BP at about 40 minutes, refer hypertensive-crisis symptoms for
    emergency care (docs/clinical-references.md#clinical-review). Before, 200/120 at 40 minutes raised nothing."""
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=40), tick=False)

    vital = vital_sign_record(session=session, by=clinician, sbp=200, dbp=120, hr=96, spo2=97)

    alert = StaffAlert.objects.get(kind="post_dose_vitals")
    assert alert.urgent
    assert alert.key == f"post-dose-vitals-{vital.pk}"
    assert alert.summary == "Dangerous vital signs 40 min after a dose: BP 200/120 at or above the hold (180/110)."
    assert alert.link == record_url(session) + "#monitoring"
    home = client_for(clinician).get(reverse("homes:home")).content.decode()
    assert "Dangerous vital signs after a dose" in home
    page = client_for(clinician).get(record_url(session)).content.decode()
    assert 'data-testid="dangerous-vitals"' in page
    assert "BP 200/120 at or above the hold (180/110)" in page


@pytest.mark.parametrize(
    ("reading", "alerts"),
    [({"sbp": 150, "dbp": 90, "hr": 80, "spo2": 96}, 0), ({"spo2": 90}, 1), ({"hr": 130}, 1), ({"hr": 45}, 1)],
)
def test_low_spo2_or_a_heart_rate_out_of_range_alerts_too(session, clinician, time_machine, reading, alerts):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=20), tick=False)

    vital_sign_record(session=session, by=clinician, **reading)

    assert StaffAlert.objects.filter(kind="post_dose_vitals").count() == alerts


# ---- 6. Discharge is refused when the record contradicts it ------------------------------------------------------


def test_the_reviewers_discharge_is_refused_whatever_boxes_are_ticked(session, clinician, time_machine):
    """Clinical review item 6, docs/clinical-references.md#discharge: MOAA/S 2, an unresolved respiratory depression and
    no vitals went through."""
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=30), tick=False)
    adverse_event_record(session=session, by=clinician, kind="resp_depression", severity="severe")
    scale_score_record(session=session, by=clinician, scale="moaas", score=2)
    time_machine.move_to(given.dosed_at + timedelta(minutes=101), tick=False)

    with pytest.raises(ValidationError) as refused:
        discharge_record(session=session, by=clinician, criteria=ALL_MET)

    assert refused.value.messages == [
        "The record contradicts this discharge:",
        "No vital signs have been recorded since the dose.",
        "The latest MOAA/S is 2: the patient is not back to baseline alertness (5).",
        "The adverse event “Respiratory depression” (severe or serious) has not resolved.",
        "Only a clinician's written override allows it.",
    ]
    assert not Discharge.objects.exists()
    with pytest.raises(ValidationError, match="at least 20 characters"):
        discharge_record(session=session, by=clinician, criteria=ALL_MET, override_reason="Fine.")


def test_a_clinician_may_discharge_against_the_record_in_writing_and_it_is_audited(session, clinician, time_machine):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=101), tick=False)
    vital_sign_record(session=session, by=clinician, sbp=182, dbp=96, hr=80, spo2=97)
    scale_score_record(session=session, by=clinician, scale="moaas", score=5)

    discharge = discharge_record(session=session, by=clinician, criteria=ALL_MET, override_reason=REASON)

    assert discharge.override_reason == REASON
    assert discharge.overridden_contradictions == [
        "The last blood pressure, 182/96, is at or above the hold (180/110)."
    ]
    entry = LogEntry.objects.get_for_model(Discharge).get(object_pk=str(discharge.pk))
    assert entry.additional_data == {"patient_id": session.patient_id}
    assert entry.changes_dict["override_reason"][1] == REASON


def test_a_settled_record_is_discharged_without_an_override(session, clinician, time_machine):
    checked_and_dosed(session, clinician)
    monitored(session, clinician, time_machine)

    discharge = discharge_record(session=session, by=clinician, criteria=ALL_MET, override_reason=REASON)

    assert (discharge.override_reason, discharge.overridden_contradictions) == ("", [])


def test_spravato_is_not_discharged_without_a_bp_at_about_40_minutes(patient, clinician, time_machine):
    """Spravato label (docs/clinical-references.md#vitals, #clinical-review): post-dose BP at about 40 minutes is
    required before discharge."""
    spravato = book_session(patient, clinician, route="intranasal")
    time_machine.move_to(spravato.starts_at + timedelta(minutes=5), tick=False)
    check(spravato, clinician)
    given = dose(spravato, clinician, amount="56")
    time_machine.move_to(given.dosed_at + timedelta(minutes=126), tick=False)
    vital_sign_record(session=spravato, by=clinician, **GOOD_VITALS)

    with pytest.raises(ValidationError, match="about 40 minutes after the first device"):
        discharge_record(session=spravato, by=clinician, criteria=ALL_MET)


def test_the_discharge_page_shows_the_contradictions_and_refuses(client_for, session, clinician, time_machine):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=101), tick=False)
    scale_score_record(session=session, by=clinician, scale="moaas", score=3)
    client = client_for(clinician)

    page = client.get(record_url(session)).content.decode()
    assert 'data-testid="discharge-contradictions"' in page
    assert "The latest MOAA/S is 3" in page

    data = {f"discharge-{name}": "on" for name in ALL_MET}
    response = client.post(record_url(session, "record_discharge"), data)
    assert response.status_code == 400
    assert "The record contradicts this discharge:" in response.content.decode()
    assert DosingSession.objects.get(pk=session.pk).status == DosingSession.Status.IN_PROGRESS

    response = client.post(record_url(session, "record_discharge"), {**data, "discharge-override_reason": REASON})
    assert response.status_code == 302
    page = client.get(record_url(session)).content.decode()
    assert 'data-testid="discharge-override"' in page


# ---- 7. The Spravato 2-hour floor --------------------------------------------------------------------------------


def test_the_protocol_admin_refuses_less_than_two_hours_for_a_rems_protocol(client_for, admin_user):
    """Spravato label / REMS Patient Monitoring Form (docs/clinical-references.md#spravato-visit, #clinical-review): at
    least 2 hours; no setting lowers it."""
    from kap_clinic.kernel.accounts.roles import sync_role_groups

    sync_role_groups()
    protocol = Protocol.objects.get(route="intranasal")
    data = {
        "name": protocol.name,
        "route": protocol.route,
        "dose_unit": protocol.dose_unit,
        "dose_min": protocol.dose_min,
        "dose_max": protocol.dose_max,
        "default_dose": protocol.default_dose,
        "min_interval_hours": protocol.min_interval_hours,
        "session_minutes": protocol.session_minutes,
        "monitoring_minutes": 90,
        "preferred_weekdays": "[]",
        "requires_rems": "on",
        "is_active": "on",
        "phases-TOTAL_FORMS": "0",
        "phases-INITIAL_FORMS": "0",
    }
    url = reverse("admin:treatment_sessions_protocol_change", args=[protocol.pk])

    response = client_for(admin_user).post(url, data)

    assert response.status_code == 200  # the form again, with the error
    assert "at least 120 minutes" in response.content.decode()
    protocol.refresh_from_db()
    assert protocol.monitoring_minutes >= 120
    with pytest.raises(IntegrityError), transaction.atomic():
        Protocol.objects.filter(pk=protocol.pk).update(monitoring_minutes=90)
    response = client_for(admin_user).post(url, {**data, "monitoring_minutes": 150})
    assert response.status_code == 302
    assert Protocol.objects.get(pk=protocol.pk).monitoring_minutes == 150


# ---- 8. Thresholds in one place ----------------------------------------------------------------------------------


def test_dosing_day_bp_thresholds_come_from_the_clinic_settings(client_for, session, clinician):
    """docs/clinical-references.md#blood-pressure: thresholds are per-clinic configuration, defaults 140/90 (label) and
    180/110 (clinic convention)."""
    clinic = ClinicSettings.load()
    assert (clinic.dose_bp_flag_systolic, clinic.dose_bp_flag_diastolic) == (140, 90)
    assert (clinic.dose_bp_hold_systolic, clinic.dose_bp_hold_diastolic) == (180, 110)
    check(session, clinician, sbp=175, dbp=95)
    assert session_record(session).bp_level == "flag"

    ClinicSettings.objects.filter(pk=1).update(dose_bp_hold_systolic=170, dose_bp_hold_diastolic=105)

    assert session_record(session).bp_level == "hold"
    page = client_for(clinician).get(record_url(session)).content.decode()
    assert "above the hard hold (170/105)" in page


def test_the_settings_form_keeps_the_hold_above_the_flag():
    data = {name: getattr(ClinicSettings(), name) for name in ClinicSettingsForm.Meta.fields}
    data.update({"dose_bp_flag_systolic": 160, "dose_bp_hold_systolic": 150})

    form = ClinicSettingsForm(data, instance=ClinicSettings.load())

    assert not form.is_valid()
    assert "Must be above the pre-dose flag." in form.errors["dose_bp_hold_systolic"]


def test_post_dose_alerts_follow_the_clinic_settings(session, clinician, time_machine):
    ClinicSettings.load()
    ClinicSettings.objects.filter(pk=1).update(post_dose_spo2_floor=95)
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=20), tick=False)

    vital_sign_record(session=session, by=clinician, spo2=94)

    assert StaffAlert.objects.get(kind="post_dose_vitals").summary.endswith("SpO₂ 94% below 95%.")
    assert timezone.now() == given.dosed_at + timedelta(minutes=20)
