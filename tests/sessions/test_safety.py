"""The dosing-day safety rules as pure functions, on worked examples (no database)."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from kap_clinic.rules import safety
from kap_clinic.rules.safety import DischargeFacts, Reading, VitalLimits

LIMITS = VitalLimits()
START = datetime(2026, 12, 7, 9, 0)


# ---- Blood pressure, before and after the dose ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sbp", "dbp", "level"),
    [(140, 90, ""), (141, 80, "flag"), (130, 91, "flag"), (180, 110, "flag"), (181, 100, "hold"), (150, 111, "hold")],
)
def test_pre_dose_bp_flags_above_140_90_and_holds_above_180_110(sbp, dbp, level):
    """docs/clinical-references.md#blood-pressure: SBP > 140 or DBP > 90 flag (Spravato label "general guide"); >
    180/110 hold (clinic default)."""
    assert safety.pre_dose_bp_level(sbp, dbp, LIMITS) == level


def test_the_clinic_thresholds_move_the_pre_dose_levels():
    """Thresholds in one place (clinical review item 8): a clinic holding above 170/105 holds 175/95."""
    strict = VitalLimits(dose_bp_hold_systolic=170, dose_bp_hold_diastolic=105)
    assert safety.pre_dose_bp_level(175, 95, strict) == "hold"
    assert safety.pre_dose_bp_level(175, 95, LIMITS) == "flag"


@pytest.mark.parametrize(
    ("reading", "found"),
    [
        ({"sbp": 200, "dbp": 120}, ["BP 200/120 at or above the hold (180/110)"]),
        ({"sbp": 180, "dbp": 100}, ["BP 180/100 at or above the hold (180/110)"]),
        ({"sbp": 150, "dbp": 110}, ["BP 150/110 at or above the hold (180/110)"]),
        ({"sbp": 179, "dbp": 109, "hr": 50, "spo2": 93}, []),
        ({"spo2": 91}, ["SpO₂ 91% below 93%"]),
        ({"hr": 44}, ["heart rate 44 below 50"]),
        ({"hr": 131, "spo2": 88}, ["SpO₂ 88% below 93%", "heart rate 131 above 120"]),
    ],
)
def test_dangerous_post_dose_readings(reading, found):
    """Clinical review item 5: BP at or above the hold, SpO₂ below the floor (sedation policies ask > 92% on room air,
    docs/clinical-references.md#discharge), heart rate outside 50-120 (clinic default) after the dose call a
    clinician."""
    values = {"sbp": None, "dbp": None, "hr": None, "spo2": None, **reading}
    assert safety.dangerous_vitals(**values, limits=LIMITS) == found


# ---- When observation ends ---------------------------------------------------------------------------------------


def test_an_iv_infusion_counts_from_its_end():
    """docs/clinical-references.md#discharge, #clinical-review (Andrade 2017): 0.5 mg/kg over 40 minutes; observation
    counts from the end of dosing."""
    planned = safety.planned_end_of_dosing(route="iv", dosed_at=START, dose_mg=Decimal("35"), infusion_minutes=40)
    assert planned == START + timedelta(minutes=40)
    assert safety.end_of_dosing(planned_end_at=planned) + timedelta(minutes=60) == datetime(2026, 12, 7, 10, 40)


def test_an_infusion_duration_comes_from_its_rate():
    """35 mg at 0.875 mg/min is 40 minutes; 35 mg at 0.8 mg/min is 43.75, rounded up to 44 (the safer side)."""
    assert safety.infusion_minutes_from_rate(Decimal("35"), Decimal("0.875")) == 40
    assert safety.infusion_minutes_from_rate(Decimal("35"), Decimal("0.8")) == 44


def test_an_infusion_that_ran_longer_counts_from_its_recorded_end_and_one_stopped_early_from_the_planned_end():
    planned = START + timedelta(minutes=40)
    assert safety.end_of_dosing(planned_end_at=planned, ended_at=START + timedelta(minutes=55)) == START + timedelta(
        minutes=55
    )
    assert safety.end_of_dosing(planned_end_at=planned, ended_at=START + timedelta(minutes=25)) == planned


@pytest.mark.parametrize(("mg", "devices", "last"), [("56", 2, 5), ("84", 3, 10), ("28", 1, 0)])
def test_intranasal_esketamine_counts_from_the_last_device(mg, devices, last):
    """Spravato label: 28 mg per device, 5 minutes between devices; observation counts from the last one."""
    assert safety.devices_for(Decimal(mg)) == devices
    planned = safety.planned_end_of_dosing(route="intranasal", dosed_at=START, dose_mg=Decimal(mg))
    assert planned == START + timedelta(minutes=last)


def test_im_counts_from_the_last_top_up():
    """docs/clinical-references.md#cadence (IM feasibility study): 20-40 mg top-up at about 12 minutes; observation
    counts from it."""
    planned = safety.planned_end_of_dosing(route="im", dosed_at=START, dose_mg=Decimal("52.5"))
    top_up = START + timedelta(minutes=12)
    assert safety.end_of_dosing(planned_end_at=planned, top_ups=(top_up,)) == top_up


@pytest.mark.parametrize(("setting", "rems", "minutes"), [(90, True, 120), (150, True, 150), (45, False, 45)])
def test_the_spravato_two_hours_are_a_floor(setting, rems, minutes):
    """Spravato label / REMS form: monitor for at least 2 hours; no protocol setting lowers it."""
    assert safety.minimum_monitoring_minutes(setting, requires_rems=rems) == minutes


# ---- What contradicts a discharge --------------------------------------------------------------------------------

CALM = Reading(minutes_from_dose=60, sbp=124, dbp=78, hr=72, spo2=98)


def test_a_calm_record_contradicts_nothing():
    assert safety.discharge_contradictions(DischargeFacts(readings=(CALM,), latest_moaas=5), LIMITS) == []


def test_the_reviewers_case_moaas_2_unresolved_respiratory_depression_and_no_vitals():
    """Clinical review item 6 (docs/clinical-references.md#discharge: MOAA/S 5, vitals stable): the discharge that went
    through today."""
    facts = DischargeFacts(readings=(), latest_moaas=2, unresolved_serious_events=("Respiratory depression",))

    assert safety.discharge_contradictions(facts, LIMITS) == [
        "No vital signs have been recorded since the dose.",
        "The latest MOAA/S is 2: the patient is not back to baseline alertness (5).",
        "The adverse event “Respiratory depression” (severe or serious) has not resolved.",
    ]


def test_the_last_bp_counts_not_an_earlier_one():
    high_then_settled = (Reading(30, sbp=185, dbp=100), Reading(90, sbp=150, dbp=90))
    settled_then_high = (Reading(30, sbp=150, dbp=90), Reading(90, sbp=180, dbp=95), Reading(95, hr=80))

    assert safety.discharge_contradictions(DischargeFacts(readings=high_then_settled, latest_moaas=5), LIMITS) == []
    assert safety.discharge_contradictions(DischargeFacts(readings=settled_then_high, latest_moaas=5), LIMITS) == [
        "The last blood pressure, 180/95, is at or above the hold (180/110)."
    ]


def test_a_last_spo2_below_the_floor_contradicts_discharge():
    facts = DischargeFacts(readings=(CALM, Reading(95, spo2=90)), latest_moaas=5)
    assert safety.discharge_contradictions(facts, LIMITS) == ["The last SpO₂, 90%, is below 93%."]


@pytest.mark.parametrize(
    ("hr", "found"),
    [
        (50, []),
        (120, []),
        (49, ["The last heart rate, 49, is outside 50–120."]),
        (121, ["The last heart rate, 121, is outside 50–120."]),
    ],
)
def test_a_last_heart_rate_outside_the_limits_contradicts_discharge(hr, found):
    """docs/clinical-references.md#discharge: vitals stable. The heart rate that calls a clinician after the dose
    (`dangerous_vitals`) also stands against a discharge while it is the last one; an earlier one that settled does
    not."""
    settled = DischargeFacts(readings=(Reading(30, hr=140), CALM), latest_moaas=5)
    last = DischargeFacts(readings=(CALM, Reading(95, hr=hr)), latest_moaas=5)

    assert safety.discharge_contradictions(settled, LIMITS) == []
    assert safety.discharge_contradictions(last, LIMITS) == found


def test_no_moaas_score_contradicts_discharge():
    """docs/clinical-references.md#discharge: back to baseline alertness (MOAA/S 5). A record with no sedation score
    does not show it."""
    assert safety.discharge_contradictions(DischargeFacts(readings=(CALM,)), LIMITS) == [
        "No MOAA/S has been recorded since the dose: baseline alertness (5) is not shown."
    ]


@pytest.mark.parametrize(("minutes", "ok"), [(29, False), (30, True), (40, True), (60, True), (61, False)])
def test_spravato_needs_a_bp_at_about_40_minutes(minutes, ok):
    """Spravato label (warnings; docs/clinical-references.md#clinical-review): reassess BP at about 40 minutes after
    dosing, before discharge."""
    facts = DischargeFacts(
        readings=(Reading(minutes, sbp=130, dbp=80), Reading(125, sbp=124, dbp=78, hr=70)),
        latest_moaas=5,
        requires_rems=True,
    )
    found = safety.discharge_contradictions(facts, LIMITS)
    assert (found == []) is ok
    if not ok:
        assert found == [
            "Spravato needs a blood pressure about 40 minutes after the first device (30–60 minutes); none is recorded."
        ]


def test_spravato_needs_a_bp_before_the_end_of_monitoring():
    """docs/clinical-references.md#vitals: Spravato BP at about 40 minutes, then before session completion (REMS
    Patient Monitoring Form). Before, a 175/105 at 40 minutes and only a pulse afterwards contradicted nothing."""
    only_40 = DischargeFacts(
        readings=(Reading(40, sbp=175, dbp=105), Reading(125, hr=70, spo2=98)), latest_moaas=5, requires_rems=True
    )
    settled = replace(only_40, readings=(*only_40.readings, Reading(126, sbp=132, dbp=84)))

    assert safety.discharge_contradictions(only_40, LIMITS) == [
        "Spravato needs a blood pressure before the end of monitoring, later than 60 minutes after the first device; "
        "none is recorded."
    ]
    assert safety.discharge_contradictions(settled, LIMITS) == []
    assert safety.discharge_contradictions(replace(only_40, requires_rems=False), LIMITS) == []


# ---- The dosing-day re-screen ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "level"), [(0, "none"), (1, "moderate"), (3, "moderate")])
def test_phq9_item9_on_the_dosing_day(answer, level):
    """docs/clinical-references.md#instruments/1.4: PHQ-9 item 9 above 0 is urgent clinician review regardless of the
    total (moderate here)."""
    assert safety.rescreen_risk_level("phq9_item9", [answer]) == level


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        ([0, 0, None, None, None, 0], "none"),
        ([1, 0, None, None, None, 0], "low"),
        ([1, 1, 0, 0, 0, 0], "low"),
        ([1, 1, 1, 0, 0, 0], "moderate"),
        ([1, 1, 1, 1, 0, 0], "high"),
        ([1, 1, 0, 0, 1, 0], "high"),
        ([0, 0, None, None, None, 1], "high"),
    ],
)
def test_cssrs_since_last_visit_triage(answers, level):
    """C-SSRS screener triage (docs/clinical-references.md#c-ssrs): Q1/Q2 low; Q3 moderate; Q4, Q5 or behaviour since
    the last visit high."""
    assert safety.rescreen_risk_level("cssrs_slv", answers) == level


@pytest.mark.parametrize(
    ("code", "answers"),
    [
        ("phq9_item9", [4]),
        ("phq9_item9", [None]),
        ("cssrs_slv", [1, 0, 1, None, None, 0]),  # Q3 answered although Q2 is no (skip logic)
        ("cssrs_slv", [1, 1, None, None, None, 0]),  # Q3-Q5 not answered although Q2 is yes
        ("cssrs_slv", [1, 1, 0]),
        ("gad7", [0]),
    ],
)
def test_a_malformed_rescreen_is_refused(code, answers):
    with pytest.raises(ValueError):
        safety.rescreen_risk_level(code, answers)
