"""Eligibility decision for ketamine treatment from a completed screening's facts (docs/clinical-references.md#c-ssrs,
#contraindications, #blood-pressure).

A pure function: the caller gathers the facts (scores, conditions with their effective severity, vitals, medications)
and gets back an outcome with every reason in plain words. The software routes; a clinician decides. Where the
clinical sources are unsure, the rules here choose review over eligible, and each such choice is marked below.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kap_clinic.rules.contraindications import BY_CODE, CONDITIONS
from kap_clinic.rules.instruments import AUDIT_OLDER_ADULT_AGE
from kap_clinic.rules.medications import INTERACTION_LABELS, INTERACTION_NOTES, InteractionClass


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    REVIEW = "review"
    INELIGIBLE = "ineligible"


_CATALOGUE_ORDER = {condition.code: index for index, condition in enumerate(CONDITIONS)}
_RANK = {Outcome.ELIGIBLE: 0, Outcome.REVIEW: 1, Outcome.INELIGIBLE: 2}


def outcome_rank(outcome: Outcome) -> int:
    """Orders outcomes from best (eligible) to worst (ineligible)."""
    return _RANK[outcome]


@dataclass(frozen=True)
class Thresholds:
    """Per-clinic settings. Defaults come from docs/clinical-references.md; each names its source."""

    min_age: int = 18  # Spravato is not approved under 18 (FDA label)
    # Above either value -> review: the Spravato label's "general guide" for pre-dose blood pressure.
    bp_review_systolic: int = 140
    bp_review_diastolic: int = 90
    # Above either value -> ineligible: clinic convention, no published consensus number [verify / clinic policy].
    bp_ineligible_systolic: int = 180
    bp_ineligible_diastolic: int = 110
    min_phq9_total: int = 10  # below -> review: PHQ-9 "moderate" band starts at 10
    min_adequate_trials: int = 2  # fewer -> review: treatment-resistant depression means two failed adequate trials
    audit_review_total: int = 16  # at or above -> review: WHO AUDIT zone III (harmful) starts at 16
    # At or above -> review: DAST-10 3-5 is the "moderate level: further investigation" band (Skinner's scoring and
    # interpretation guidance), so further investigation starts at 3.
    dast10_review_total: int = 3
    # AUDIT-C positive screen when no full AUDIT was done: men >= 4, women >= 3 (US cut-offs).
    audit_c_positive_male: int = 4
    audit_c_positive_female: int = 3
    # How long a completed screening stands before it must be repeated; applied by the caller, which knows the dates.
    screening_valid_days: int = 30


@dataclass(frozen=True)
class ScreeningFacts:
    age_years: int | None
    sex_for_scoring: str | None  # "female" | "male" | None
    # Instrument code -> object with .total (int), .band (str), .flags (tuple[str, ...]). A missing code is not done.
    scores: Mapping[str, Any]
    # Condition code -> effective severity ("absolute" / "relative") for each condition the patient has.
    conditions: Mapping[str, str]
    bp_systolic: int | None
    bp_diastolic: int | None
    interaction_classes: frozenset[str]  # InteractionClass values among current medications
    pregnant: bool | None  # None = not recorded
    breastfeeding: bool | None
    adequate_antidepressant_trials: int | None
    ect_history: bool
    weight_kg: Decimal | None
    # The contraindication checklist: catalogue code -> "yes" / "no" / "unknown". A code with no answer is unknown,
    # unless `no_conditions_attested` ("none of these") covers it. The severity of each "yes" is in `conditions`.
    condition_answers: Mapping[str, str] = field(default_factory=dict)
    no_conditions_attested: bool = False
    # Current medications were listed, or "takes no current medications" was attested. False: nobody asked.
    current_medications_recorded: bool = False
    diagnosis_codes: tuple[str, ...] = ()  # ICD-10 codes on the screening


@dataclass(frozen=True)
class Reason:
    outcome: Outcome
    code: str
    text: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]

    @property
    def is_eligible(self) -> bool:
        return self.outcome == Outcome.ELIGIBLE


ALL_CHECKS_PASSED = Reason(
    Outcome.ELIGIBLE,
    "all_checks_passed",
    "All eligibility checks passed. A clinician still reviews and signs off the screening.",
)

# ICD-10 depressive episode (F32) and recurrent depressive disorder (F33): the indication ketamine and esketamine are
# given for here (Spravato label: treatment-resistant depression; docs/clinical-references.md#billing-codes: MDD codes
# F32.x / F33.x).
DEPRESSIVE_DISORDER_CATEGORIES = ("F32", "F33")
# Codes for an episode in partial or full remission (ICD-10-CM F32.4, F32.5, F33.4x): no current episode to treat.
REMISSION_CODES = ("F32.4", "F32.5", "F33.4")

# C-SSRS answers that make the risk high whatever band was stored (docs/clinical-references.md#c-ssrs).
CSSRS_HIGH_FLAGS = frozenset({"q4", "q5", "q6_recent"})
# AUDIT answers that move the result up one WHO zone: items 4-6 scored 2 or more, items 9-10 scored 4.
AUDIT_ESCALATION_FLAGS = ("item4", "item5", "item6", "item9", "item10")

_CSSRS_TEXT = {
    "low": (
        "The C-SSRS screener shows low suicide risk (wish to be dead or non-specific thoughts). "
        "Flag for clinician review before the next dose."
    ),
    "moderate": (
        "The C-SSRS screener shows moderate suicide risk. "
        "A clinician must review the patient the same day, and self-scheduling is blocked."
    ),
    "high": (
        "The C-SSRS screener shows high suicide risk. Hard stop on dosing until a clinician reviews; "
        "alert a clinician immediately and show crisis resources (US: call or text 988)."
    ),
}


def decide(facts: ScreeningFacts, thresholds: Thresholds = Thresholds()) -> Decision:
    """The eligibility outcome and every reason for it; the outcome is the worst reason's."""
    reasons = [
        *_condition_reasons(facts),
        *_unanswered_condition_reasons(facts),
        *_medication_record_reasons(facts),
        *_indication_reasons(facts),
        *_age_reasons(facts, thresholds),
        *_pregnancy_reasons(facts),
        *_blood_pressure_reasons(facts, thresholds),
        *_interaction_reasons(facts),
        *_phq9_reasons(facts, thresholds),
        *_cssrs_reasons(facts),
        *_alcohol_reasons(facts, thresholds),
        *_drug_use_reasons(facts, thresholds),
        *_treatment_history_reasons(facts, thresholds),
        *_weight_reasons(facts),
    ]
    if not reasons:
        return Decision(Outcome.ELIGIBLE, (ALL_CHECKS_PASSED,))
    # Ineligible reasons first, then review; within each, the order the rules run in (sorted() is stable).
    ordered = tuple(sorted(reasons, key=lambda reason: -outcome_rank(reason.outcome)))
    return Decision(ordered[0].outcome, ordered)


def suicide_risk(facts: ScreeningFacts) -> str:
    """Suicide-risk level "high", "moderate", "low" or "none", from the C-SSRS screener and PHQ-9 item 9.

    "none" also covers a screening with no C-SSRS on file; `decide` flags the missing screener separately.
    """
    level = _cssrs_level(facts.scores.get("cssrs"))
    if level in ("high", "moderate"):
        return level
    phq9 = facts.scores.get("phq9")
    if phq9 is not None and "item9" in phq9.flags:
        # PHQ-9 item 9 above 0 needs urgent clinician review whatever the total
        # (docs/clinical-references.md#instruments): the same-day review of a moderate risk, as the answer's alert.
        return "moderate"
    if level == "low":
        return "low"
    return "none"


def _cssrs_level(cssrs: Any) -> str | None:
    if cssrs is None:
        return None
    # A high-risk answer outranks whatever band was stored; the safer reading wins.
    if CSSRS_HIGH_FLAGS.intersection(cssrs.flags):
        return "high"
    return cssrs.band


def _condition_reasons(facts: ScreeningFacts) -> list[Reason]:
    reasons = []
    # Catalogue order, then codes the catalogue does not know, so the same facts always read the same way.
    for code in sorted(facts.conditions, key=lambda code: (_CATALOGUE_ORDER.get(code, len(_CATALOGUE_ORDER)), code)):
        severity = facts.conditions[code]
        condition = BY_CODE.get(code)
        label = condition.label if condition is not None else code
        if severity == "relative":
            reasons.append(
                Reason(
                    Outcome.REVIEW,
                    f"condition.{code}",
                    f"{label} is recorded, a relative contraindication: a prescriber must weigh benefit against risk.",
                )
            )
        else:
            # Anything other than "relative" (including an unrecognised severity) is treated as absolute: safer.
            reasons.append(
                Reason(
                    Outcome.INELIGIBLE,
                    f"condition.{code}",
                    f"{label} is recorded, an absolute contraindication to ketamine treatment.",
                )
            )
    return reasons


def _unanswered_condition_reasons(facts: ScreeningFacts) -> list[Reason]:
    """Every catalogue condition needs an answer; unanswered or "unknown" is not "no" (the safer reading)."""
    open_codes = []
    for condition in CONDITIONS:
        if condition.code in facts.conditions:
            continue
        answer = facts.condition_answers.get(condition.code)
        if answer == "no" or (answer is None and facts.no_conditions_attested):
            continue
        open_codes.append(condition)
    if not open_codes:
        return []
    if len(open_codes) == len(CONDITIONS) and not facts.condition_answers:
        return [
            Reason(
                Outcome.REVIEW,
                "conditions_unanswered",
                "The contraindication checklist has not been answered: no condition is marked yes or no, and "
                '"none of these" was not confirmed.',
            )
        ]
    labels = "; ".join(condition.label for condition in open_codes)
    return [
        Reason(
            Outcome.REVIEW,
            "conditions_unknown",
            f"Contraindication checklist not answered yes or no for {len(open_codes)} "
            f"condition{'' if len(open_codes) == 1 else 's'}: {labels}.",
        )
    ]


def _medication_record_reasons(facts: ScreeningFacts) -> list[Reason]:
    if facts.current_medications_recorded:
        return []
    return [
        Reason(
            Outcome.REVIEW,
            "medications_not_recorded",
            "Current medications are not recorded: list them, or confirm the patient takes none.",
        )
    ]


def _in_remission(code: str) -> bool:
    return any(code == prefix or code.startswith(prefix) for prefix in REMISSION_CODES)


def _indication_reasons(facts: ScreeningFacts) -> list[Reason]:
    codes = [str(code).strip().upper() for code in facts.diagnosis_codes]
    depressive = [code for code in codes if code[:3] in DEPRESSIVE_DISORDER_CATEGORIES]
    if not depressive:
        return [
            Reason(
                Outcome.REVIEW,
                "indication_missing",
                "No depressive-disorder diagnosis (ICD-10 F32 or F33) is recorded; "
                "a clinician must confirm the indication for treatment.",
            )
        ]
    if all(_in_remission(code) for code in depressive):
        return [
            Reason(
                Outcome.REVIEW,
                "indication_in_remission",
                f"The depressive-disorder diagnosis on file ({', '.join(depressive)}) is coded as in remission; "
                "a clinician must confirm a current episode.",
            )
        ]
    return []


def _age_reasons(facts: ScreeningFacts, thresholds: Thresholds) -> list[Reason]:
    if facts.age_years is None:
        return [Reason(Outcome.REVIEW, "age_unknown", "The patient's age is not recorded.")]
    if facts.age_years < thresholds.min_age:
        return [
            Reason(
                Outcome.INELIGIBLE,
                "age_below_minimum",
                f"The patient is {facts.age_years}, below the minimum age of {thresholds.min_age}.",
            )
        ]
    return []


def _pregnancy_reasons(facts: ScreeningFacts) -> list[Reason]:
    reasons = []
    # The Spravato label lists pregnancy as a warning, some sources as "should not use": the sources disagree, so it
    # is a hold for the prescriber (review), not a screen-out.
    if facts.pregnant is None:
        # Not recorded is treated as unknown rather than "not pregnant": safer.
        reasons.append(Reason(Outcome.REVIEW, "pregnancy_not_recorded", "Pregnancy status is not recorded."))
    elif facts.pregnant:
        reasons.append(
            Reason(
                Outcome.REVIEW,
                "pregnant",
                "The patient is pregnant. Ketamine and esketamine are not recommended in pregnancy "
                "(possible fetal harm); a prescriber must decide.",
            )
        )
    if facts.breastfeeding is None:
        # As with pregnancy: not recorded is unknown, not "no".
        reasons.append(Reason(Outcome.REVIEW, "breastfeeding_not_recorded", "Breastfeeding status is not recorded."))
    elif facts.breastfeeding:
        reasons.append(
            Reason(
                Outcome.REVIEW,
                "breastfeeding",
                "The patient is breastfeeding. Esketamine is not recommended while breastfeeding; "
                "a prescriber must decide.",
            )
        )
    return reasons


def _blood_pressure_reasons(facts: ScreeningFacts, thresholds: Thresholds) -> list[Reason]:
    systolic, diastolic = facts.bp_systolic, facts.bp_diastolic
    reading = f"{'?' if systolic is None else systolic}/{'?' if diastolic is None else diastolic}"
    reasons = []
    if systolic is None or diastolic is None:
        reasons.append(Reason(Outcome.REVIEW, "bp_not_recorded", f"Blood pressure is not fully recorded ({reading})."))
    # A single recorded value still counts: one reading above a threshold is enough.
    if _above(systolic, thresholds.bp_ineligible_systolic) or _above(diastolic, thresholds.bp_ineligible_diastolic):
        reasons.append(
            Reason(
                Outcome.INELIGIBLE,
                "bp_above_hold",
                f"Blood pressure {reading} is above the hold threshold of "
                f"{thresholds.bp_ineligible_systolic}/{thresholds.bp_ineligible_diastolic}.",
            )
        )
    elif _above(systolic, thresholds.bp_review_systolic) or _above(diastolic, thresholds.bp_review_diastolic):
        reasons.append(
            Reason(
                Outcome.REVIEW,
                "bp_above_review",
                f"Blood pressure {reading} is above the review threshold of "
                f"{thresholds.bp_review_systolic}/{thresholds.bp_review_diastolic}.",
            )
        )
    return reasons


def _above(value: int | None, limit: int) -> bool:
    return value is not None and value > limit


def _interaction_reasons(facts: ScreeningFacts) -> list[Reason]:
    reasons = [
        Reason(
            Outcome.REVIEW,
            f"interaction.{interaction_class}",
            f"Current medications include a {INTERACTION_LABELS[interaction_class]}. "
            f"{INTERACTION_NOTES[interaction_class]} "
            "The prescriber decides whether to hold or lower it around sessions.",
        )
        for interaction_class in InteractionClass
        if interaction_class in facts.interaction_classes
    ]
    # A class this module does not know still needs someone to look at it.
    for unknown in sorted(set(facts.interaction_classes) - set(InteractionClass)):
        reasons.append(
            Reason(
                Outcome.REVIEW,
                f"interaction.{unknown}",
                f"Current medications include an interacting medicine ({unknown}); a prescriber must review it.",
            )
        )
    return reasons


def _phq9_reasons(facts: ScreeningFacts, thresholds: Thresholds) -> list[Reason]:
    phq9 = facts.scores.get("phq9")
    if phq9 is None:
        return [Reason(Outcome.REVIEW, "phq9_missing", "No PHQ-9 depression score is on file.")]
    reasons = []
    if "item9" in phq9.flags:
        reasons.append(
            Reason(
                Outcome.REVIEW,
                "phq9_item9",
                "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was answered above zero. "
                "This needs urgent clinician review, whatever the total.",
            )
        )
    if phq9.total < thresholds.min_phq9_total:
        reasons.append(
            Reason(
                Outcome.REVIEW,
                "phq9_below_minimum",
                f"PHQ-9 total {phq9.total} ({_band(phq9.band)}) is below the program minimum of "
                f"{thresholds.min_phq9_total}; the depression may be too mild for the program.",
            )
        )
    return reasons


def _cssrs_reasons(facts: ScreeningFacts) -> list[Reason]:
    cssrs = facts.scores.get("cssrs")
    if cssrs is None:
        return [Reason(Outcome.REVIEW, "cssrs_missing", "No C-SSRS suicide-risk screener is on file.")]
    level = _cssrs_level(cssrs)
    if level == "none":
        return []
    if level in _CSSRS_TEXT:
        return [Reason(Outcome.REVIEW, f"cssrs_{level}", _CSSRS_TEXT[level])]
    # An unreadable risk level is not taken as "no risk".
    return [
        Reason(
            Outcome.REVIEW,
            "cssrs_unreadable",
            f"The C-SSRS risk level ({level!r}) could not be read; a clinician must review the screener.",
        )
    ]


def _alcohol_reasons(facts: ScreeningFacts, thresholds: Thresholds) -> list[Reason]:
    audit = facts.scores.get("audit")
    if audit is None:
        # AUDIT-C alone is a screen, not the full AUDIT the intake set requires: eligible needs the full AUDIT.
        missing = Reason(Outcome.REVIEW, "audit_missing", "No AUDIT alcohol-use result is on file.")
        return [missing, *_audit_c_reasons(facts, thresholds)]
    reasons = []
    cutoff, lowered = audit_review_cutoff(facts, thresholds)
    if audit.total >= cutoff:
        reasons.append(
            Reason(
                Outcome.REVIEW,
                "audit_high",
                f"AUDIT total {audit.total} ({_band(audit.band)}) is at or above the review threshold of "
                f"{cutoff}{lowered}.",
            )
        )
    escalating = [flag.removeprefix("item") for flag in AUDIT_ESCALATION_FLAGS if flag in audit.flags]
    if escalating:
        items = ", ".join(escalating)
        reasons.append(
            Reason(
                Outcome.REVIEW,
                "audit_escalation",
                f"AUDIT answers on item{'s' if len(escalating) > 1 else ''} {items} move the alcohol risk up one zone.",
            )
        )
    return reasons


def audit_review_cutoff(facts: ScreeningFacts, thresholds: Thresholds) -> tuple[int, str]:
    """The AUDIT total from which a clinician reviews, and why it was lowered ("" if not).

    WHO's AUDIT manual (2001) lowers the cut-off by one point for women and for people over 65. Sex or age not
    recorded takes the lower cut-off too: the safer reading. 65 itself counts as over 65 here, also the safer reading.
    """
    if facts.sex_for_scoring != "male":
        women = facts.sex_for_scoring == "female"
        why = " (one point lower for women)" if women else " (one point lower: sex not recorded)"
    elif facts.age_years is None:
        why = " (one point lower: age not recorded)"
    elif facts.age_years >= AUDIT_OLDER_ADULT_AGE:
        why = f" (one point lower from age {AUDIT_OLDER_ADULT_AGE})"
    else:
        return thresholds.audit_review_total, ""
    return thresholds.audit_review_total - 1, why


def _audit_c_reasons(facts: ScreeningFacts, thresholds: Thresholds) -> list[Reason]:
    audit_c = facts.scores.get("audit_c")
    if audit_c is None:
        return []
    # The cut-off depends on sex for scoring; when it is not recorded the lower (women's) cut-off applies: safer.
    if facts.sex_for_scoring == "male":
        cutoff = thresholds.audit_c_positive_male
    else:
        cutoff = thresholds.audit_c_positive_female
    if audit_c.total < cutoff:
        return []
    return [
        Reason(
            Outcome.REVIEW,
            "audit_c_positive",
            f"AUDIT-C total {audit_c.total} is a positive alcohol screen (cut-off {cutoff}) "
            "and no full AUDIT is on file.",
        )
    ]


def _drug_use_reasons(facts: ScreeningFacts, thresholds: Thresholds) -> list[Reason]:
    dast10 = facts.scores.get("dast10")
    if dast10 is None:
        return [Reason(Outcome.REVIEW, "dast10_missing", "No DAST-10 drug-use result is on file.")]
    if dast10.total < thresholds.dast10_review_total:
        return []
    return [
        Reason(
            Outcome.REVIEW,
            "dast10_high",
            f"DAST-10 total {dast10.total} ({_band(dast10.band)}) is at or above the review threshold of "
            f"{thresholds.dast10_review_total}.",
        )
    ]


def _treatment_history_reasons(facts: ScreeningFacts, thresholds: Thresholds) -> list[Reason]:
    trials = facts.adequate_antidepressant_trials
    ect = " The patient has had ECT, which may support treatment resistance." if facts.ect_history else ""
    if trials is None:
        return [
            Reason(
                Outcome.REVIEW,
                "trials_unknown",
                f"The number of adequate antidepressant trials is not recorded.{ect}",
            )
        ]
    if trials < thresholds.min_adequate_trials:
        return [
            Reason(
                Outcome.REVIEW,
                "trials_below_minimum",
                f"The patient has had {trials} adequate antidepressant trial{'' if trials == 1 else 's'}, "
                f"fewer than the {thresholds.min_adequate_trials} that define treatment-resistant depression.{ect}",
            )
        ]
    return []


def _weight_reasons(facts: ScreeningFacts) -> list[Reason]:
    if facts.weight_kg is None:
        return [Reason(Outcome.REVIEW, "weight_missing", "Weight is not recorded; it is needed for mg/kg dosing.")]
    if not Decimal(facts.weight_kg).is_finite() or facts.weight_kg <= 0:
        return [
            Reason(
                Outcome.REVIEW,
                "weight_invalid",
                f"Recorded weight {facts.weight_kg} kg cannot be used for mg/kg dosing.",
            )
        ]
    return []


def _band(band: str) -> str:
    return str(band).replace("_", " ")
