"""Dosing-day safety rules as pure functions: blood-pressure levels, dangerous post-dose readings, when observation
ends, and what in a session record contradicts a discharge.

Standard library only, worked examples in tests/sessions/test_safety.py; `sessions.record` enforces them with the
clinic's thresholds (ClinicSettings, defaults below) and the record's rows.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from kap_clinic.rules import instruments

HOLD, FLAG, OK = "hold", "flag", ""

# Spravato: "monitor patients for at least 2 hours" after administration (label, REMS Patient Monitoring Form
# 11/2021). A REMS protocol never observes for less, whatever its setting says.
REMS_MIN_MONITORING_MINUTES = 120
# Spravato label: reassess blood pressure at about 40 minutes after dosing (the Cmax). A reading between 30 and 60
# minutes after the first device counts as that check.
SPRAVATO_BP_CHECK_WINDOW = (30, 60)
# IM: an optional 20-40 mg top-up at about 12 minutes (docs/clinical-references.md#cadence, IM feasibility study). More
# than this in top-ups in one session takes a clinician's written reason, as a dose outside the protocol's range does.
IM_TOP_UP_MAX_MG = Decimal("40")
# Spravato: 28 mg per device, 5 minutes' rest between devices (label, administration).
MG_PER_DEVICE = Decimal("28")
MINUTES_BETWEEN_DEVICES = 5


@dataclass(frozen=True)
class VitalLimits:
    """The clinic's dosing-day thresholds (ClinicSettings.DOSING_DAY_FIELDS); defaults are the label's /
    docs/clinical-references.md#blood-pressure."""

    dose_bp_flag_systolic: int = 140
    dose_bp_flag_diastolic: int = 90
    dose_bp_hold_systolic: int = 180
    dose_bp_hold_diastolic: int = 110
    post_dose_spo2_floor: int = 93
    post_dose_hr_low: int = 50
    post_dose_hr_high: int = 120

    @property
    def flag_text(self) -> str:
        return f"{self.dose_bp_flag_systolic}/{self.dose_bp_flag_diastolic}"

    @property
    def hold_text(self) -> str:
        return f"{self.dose_bp_hold_systolic}/{self.dose_bp_hold_diastolic}"


def pre_dose_bp_level(sbp: int | None, dbp: int | None, limits: VitalLimits) -> str:
    """Before the dose: "hold" above the hold values, "flag" above the flag values, else ""
    (docs/clinical-references.md#blood-pressure)."""
    if (sbp is not None and sbp > limits.dose_bp_hold_systolic) or (
        dbp is not None and dbp > limits.dose_bp_hold_diastolic
    ):
        return HOLD
    if (sbp is not None and sbp > limits.dose_bp_flag_systolic) or (
        dbp is not None and dbp > limits.dose_bp_flag_diastolic
    ):
        return FLAG
    return OK


def bp_at_or_above_hold(sbp: int | None, dbp: int | None, limits: VitalLimits) -> bool:
    """After the dose the hold is a ceiling: a reading that reaches it is dangerous."""
    return (sbp is not None and sbp >= limits.dose_bp_hold_systolic) or (
        dbp is not None and dbp >= limits.dose_bp_hold_diastolic
    )


def dangerous_vitals(
    *, sbp: int | None, dbp: int | None, hr: int | None, spo2: int | None, limits: VitalLimits
) -> list[str]:
    """What in one post-dose reading calls for a clinician now, in plain words; empty when nothing does."""
    found = []
    if bp_at_or_above_hold(sbp, dbp, limits):
        bp = f"{'—' if sbp is None else sbp}/{'—' if dbp is None else dbp}"
        found.append(f"BP {bp} at or above the hold ({limits.hold_text})")
    if spo2 is not None and spo2 < limits.post_dose_spo2_floor:
        found.append(f"SpO₂ {spo2}% below {limits.post_dose_spo2_floor}%")
    if hr is not None and hr < limits.post_dose_hr_low:
        found.append(f"heart rate {hr} below {limits.post_dose_hr_low}")
    if hr is not None and hr > limits.post_dose_hr_high:
        found.append(f"heart rate {hr} above {limits.post_dose_hr_high}")
    return found


# ---- When observation ends -------------------------------------------------------------------------------------


def devices_for(dose_mg: Decimal) -> int:
    """Spravato devices for a dose: 56 mg -> 2, 84 mg -> 3."""
    return max(1, math.ceil(dose_mg / MG_PER_DEVICE))


def planned_end_of_dosing(
    *,
    route: str,
    dosed_at: datetime,
    dose_mg: Decimal,
    infusion_minutes: int | None = None,
) -> datetime:
    """When dosing ends as planned: an IV infusion after its duration, intranasal esketamine at its last device
    (5 minutes apart), any other route at once."""
    if route == "iv" and infusion_minutes:
        return dosed_at + timedelta(minutes=infusion_minutes)
    if route == "intranasal":
        return dosed_at + timedelta(minutes=MINUTES_BETWEEN_DEVICES * (devices_for(dose_mg) - 1))
    return dosed_at


def infusion_minutes_from_rate(dose_mg: Decimal, rate_mg_per_min: Decimal) -> int:
    """An infusion's duration from its rate, rounded up to the whole minute (35 mg at 0.875 mg/min = 40 minutes)."""
    return math.ceil(dose_mg / rate_mg_per_min)


def end_of_dosing(
    *, planned_end_at: datetime, ended_at: datetime | None = None, top_ups: tuple[datetime, ...] = ()
) -> datetime:
    """The moment observation counts from (docs/clinical-references.md#discharge: "after end of dosing"): the later of
    the planned end, the recorded end (infusion stopped, last device) and the last top-up. The later one is the safer
    one: an infusion stopped early still counts from when it was meant to end."""
    return max([planned_end_at, *([ended_at] if ended_at else []), *top_ups])


def minimum_monitoring_minutes(protocol_minutes: int, *, requires_rems: bool) -> int:
    """The protocol's observation time; for a Spravato (REMS) protocol never under 2 hours."""
    return max(protocol_minutes, REMS_MIN_MONITORING_MINUTES) if requires_rems else protocol_minutes


# ---- What contradicts a discharge ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One post-dose vitals row, timed from the first device / infusion start."""

    minutes_from_dose: int
    sbp: int | None = None
    dbp: int | None = None
    hr: int | None = None
    spo2: int | None = None


@dataclass(frozen=True)
class DischargeFacts:
    """What the record says at the moment of discharge."""

    readings: tuple[Reading, ...] = ()  # in time order
    latest_moaas: int | None = None
    unresolved_serious_events: tuple[str, ...] = ()  # names of severe or serious events without a resolution
    requires_rems: bool = False


def discharge_contradictions(facts: DischargeFacts, limits: VitalLimits = VitalLimits()) -> list[str]:
    """Why the record contradicts a discharge, whatever boxes are ticked; empty when it does not
    (docs/clinical-references.md#discharge)."""
    found = []
    if not facts.readings:
        found.append("No vital signs have been recorded since the dose.")
    with_bp = [r for r in facts.readings if r.sbp is not None or r.dbp is not None]
    if with_bp and bp_at_or_above_hold(with_bp[-1].sbp, with_bp[-1].dbp, limits):
        last = with_bp[-1]
        bp = f"{last.sbp or '—'}/{last.dbp or '—'}"
        found.append(f"The last blood pressure, {bp}, is at or above the hold ({limits.hold_text}).")
    with_spo2 = [r for r in facts.readings if r.spo2 is not None]
    if with_spo2 and with_spo2[-1].spo2 < limits.post_dose_spo2_floor:
        found.append(f"The last SpO₂, {with_spo2[-1].spo2}%, is below {limits.post_dose_spo2_floor}%.")
    with_hr = [r for r in facts.readings if r.hr is not None]
    if with_hr and not limits.post_dose_hr_low <= with_hr[-1].hr <= limits.post_dose_hr_high:
        found.append(
            f"The last heart rate, {with_hr[-1].hr}, is outside {limits.post_dose_hr_low}–{limits.post_dose_hr_high}."
        )
    if facts.latest_moaas is None:
        # docs/clinical-references.md#discharge: back to baseline alertness (MOAA/S 5); an unscored sedation is not
        # a resolved one.
        found.append("No MOAA/S has been recorded since the dose: baseline alertness (5) is not shown.")
    elif facts.latest_moaas < 5:
        found.append(f"The latest MOAA/S is {facts.latest_moaas}: the patient is not back to baseline alertness (5).")
    for name in facts.unresolved_serious_events:
        found.append(f"The adverse event “{name}” (severe or serious) has not resolved.")
    if facts.requires_rems:
        low, high = SPRAVATO_BP_CHECK_WINDOW
        if not any(low <= r.minutes_from_dose <= high for r in with_bp):
            found.append(
                f"Spravato needs a blood pressure about 40 minutes after the first device ({low}–{high} minutes); "
                "none is recorded."
            )
        # docs/clinical-references.md#vitals (Spravato: BP before session completion; REMS Patient Monitoring Form:
        # "prior to session completion"): the 40-minute reading does not show that the blood pressure settled.
        if not any(r.minutes_from_dose > high for r in with_bp):
            found.append(
                f"Spravato needs a blood pressure before the end of monitoring, later than {high} minutes after the "
                "first device; none is recorded."
            )
    return found


# ---- The dosing-day suicide-risk re-screen ---------------------------------------------------------------------

PHQ9_ITEM9 = "phq9_item9"
CSSRS_SINCE_LAST_VISIT = "cssrs_slv"


def rescreen_answer_rows(code: str, answers: list[int | None]) -> tuple[str, list[tuple[str, str]]]:
    """The instrument code and the (question, answer) rows of a dosing-day re-screen, for the reviewer to read."""
    if code == PHQ9_ITEM9:
        return "phq9", instruments.answer_rows("phq9", answers, keys=("item9",))
    rows = instruments.answer_rows("cssrs", answers, keys=("q1", "q2", "q3", "q4", "q5", "q6"))
    if rows:
        question, answer = rows[-1]
        rows[-1] = ("item 6 · Suicidal behaviour since the last visit", answer)
    return "cssrs", rows


def rescreen_risk_level(code: str, answers: list[int | None]) -> str:
    """The triage level of a dosing-day re-screen ("none", "low", "moderate", "high"); ValueError for a malformed one.

    PHQ-9 item 9 (0-3): above 0 is a moderate risk needing same-day review, as in a screening
    (docs/clinical-references.md#instruments, #c-ssrs). C-SSRS screener "since last visit" (six yes/no answers, 1 =
    yes): Q4, Q5 or Q6 (behaviour since the last visit) high; Q3 moderate; Q1 or Q2 low
    (docs/clinical-references.md#c-ssrs). Skip logic: when Q2 is no, Q3-Q5 are not asked (None).
    """
    if code == PHQ9_ITEM9:
        if len(answers) != 1 or answers[0] not in (0, 1, 2, 3):
            raise ValueError("Answer PHQ-9 item 9 (0 to 3).")
        return "moderate" if answers[0] else "none"
    if code == CSSRS_SINCE_LAST_VISIT:
        if len(answers) != 6:
            raise ValueError("The C-SSRS screener has six questions.")
        q1, q2, q3, q4, q5, q6 = answers
        if q1 not in (0, 1) or q2 not in (0, 1) or q6 not in (0, 1):
            raise ValueError("Answer questions 1, 2 and 6 of the C-SSRS screener.")
        if q2 == 0 and any(answer is not None for answer in (q3, q4, q5)):
            raise ValueError("Questions 3 to 5 are not asked when question 2 is no.")
        if q2 == 1 and any(answer not in (0, 1) for answer in (q3, q4, q5)):
            raise ValueError("Answer questions 3 to 5 when question 2 is yes.")
        if q4 == 1 or q5 == 1 or q6 == 1:
            return "high"
        if q3 == 1:
            return "moderate"
        if q1 == 1 or q2 == 1:
            return "low"
        return "none"
    raise ValueError("Choose PHQ-9 item 9 or the C-SSRS screener (since last visit).")
