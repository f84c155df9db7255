"""Eligibility rules (docs/clinical-references.md#c-ssrs, #contraindications, #blood-pressure): plain functions, no
database."""

from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kap_clinic.rules.contraindications import BY_CODE, CONDITIONS, DOMAINS, default_severities
from kap_clinic.rules.eligibility import (
    ALL_CHECKS_PASSED,
    Decision,
    Outcome,
    ScreeningFacts,
    Thresholds,
    decide,
    outcome_rank,
    suicide_risk,
)
from kap_clinic.rules.medications import INTERACTION_NOTES, InteractionClass


@dataclass(frozen=True)
class Score:
    """Stands in for the instruments module's score: a total, a band and flags."""

    total: int
    band: str = ""
    flags: tuple[str, ...] = ()


ELIGIBLE = ScreeningFacts(
    age_years=42,
    sex_for_scoring="female",
    scores={
        "phq9": Score(18, "moderately_severe"),
        "gad7": Score(12, "moderate"),
        "pcl5": Score(20, "below_threshold"),
        "cssrs": Score(0, "none"),
        "audit": Score(4, "low_risk"),
        "dast10": Score(0, "none"),
    },
    conditions={},
    bp_systolic=128,
    bp_diastolic=82,
    interaction_classes=frozenset(),
    pregnant=False,
    breastfeeding=False,
    adequate_antidepressant_trials=3,
    ect_history=False,
    weight_kg=Decimal("72.5"),
    no_conditions_attested=True,
    current_medications_recorded=True,
    diagnosis_codes=("F33.2",),
)


def facts(**changes) -> ScreeningFacts:
    return replace(ELIGIBLE, **changes)


def with_score(code: str, score: Score | None) -> ScreeningFacts:
    scores = dict(ELIGIBLE.scores)
    if score is None:
        scores.pop(code, None)
    else:
        scores[code] = score
    return facts(scores=scores)


def codes(decision: Decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


def only_reason(decision: Decision):
    assert len(decision.reasons) == 1, decision.reasons
    return decision.reasons[0]


# --- worked example -------------------------------------------------------------------------------------------------


def test_worked_example_with_everything_in_range_is_eligible():
    decision = decide(ELIGIBLE)

    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.is_eligible
    assert decision.reasons == (ALL_CHECKS_PASSED,)
    assert suicide_risk(ELIGIBLE) == "none"


def test_worked_example_with_one_relative_condition_and_high_bp_needs_review_with_both_reasons():
    decision = decide(facts(conditions={"bipolar_disorder": "relative"}, bp_systolic=152, bp_diastolic=94))

    assert decision.outcome is Outcome.REVIEW
    assert not decision.is_eligible
    assert codes(decision) == ["condition.bipolar_disorder", "bp_above_review"]
    assert decision.reasons[1].text == "Blood pressure 152/94 is above the review threshold of 140/90."


# --- catalogue ------------------------------------------------------------------------------------------------------


def test_catalogue_codes_are_unique_snake_case_with_valid_domain_and_severity():
    assert len(BY_CODE) == len(CONDITIONS)
    for condition in CONDITIONS:
        assert condition.code.isidentifier() and condition.code == condition.code.lower()
        assert condition.domain in DOMAINS
        assert condition.default_severity in ("absolute", "relative")
        assert condition.label and condition.source


def test_catalogue_leaves_pregnancy_and_breastfeeding_to_their_own_facts():
    assert not [code for code in BY_CODE if "pregnan" in code or "breastfeed" in code]


@pytest.mark.parametrize(
    ("code", "severity"),
    [
        ("aneurysmal_vascular_disease", "absolute"),
        ("intracerebral_haemorrhage_history", "absolute"),
        ("ketamine_hypersensitivity", "absolute"),
        ("active_psychosis", "absolute"),
        ("current_mania", "absolute"),
        ("severe_hepatic_impairment", "absolute"),
        ("uncontrolled_hypertension", "relative"),
        ("recent_mi_or_unstable_angina", "relative"),
        ("decompensated_heart_failure", "relative"),
        ("symptomatic_arrhythmia", "relative"),
        ("stroke_or_cerebrovascular_disease", "relative"),
        ("hypertensive_encephalopathy_history", "relative"),
        ("raised_intracranial_pressure", "relative"),
        ("raised_intraocular_pressure", "relative"),
        ("schizophrenia_history", "relative"),
        ("bipolar_disorder", "relative"),
        ("ketamine_misuse_history", "relative"),
        ("active_substance_use_disorder", "relative"),
        ("cystitis", "relative"),
        ("moderate_hepatic_impairment", "relative"),
    ],
)
def test_catalogue_default_severities(code, severity):
    assert default_severities()[code] == severity


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda condition: condition.code)
def test_each_condition_at_its_default_severity_gives_its_outcome_and_names_its_label(condition):
    decision = decide(facts(conditions={condition.code: condition.default_severity}))

    expected = Outcome.INELIGIBLE if condition.default_severity == "absolute" else Outcome.REVIEW
    assert decision.outcome is expected
    reason = only_reason(decision)
    assert reason.outcome is expected
    assert reason.code == f"condition.{condition.code}"
    assert condition.label in reason.text
    assert condition.default_severity in reason.text


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda condition: condition.code)
def test_a_clinic_override_of_severity_is_what_counts(condition):
    flipped = "relative" if condition.default_severity == "absolute" else "absolute"

    decision = decide(facts(conditions={condition.code: flipped}))

    assert decision.outcome is (Outcome.INELIGIBLE if flipped == "absolute" else Outcome.REVIEW)


def test_a_condition_outside_the_catalogue_is_named_by_its_code():
    reason = only_reason(decide(facts(conditions={"porphyria": "relative"})))

    assert reason.outcome is Outcome.REVIEW
    assert reason.text.startswith("porphyria is recorded")


def test_an_unrecognised_severity_is_treated_as_absolute():
    assert decide(facts(conditions={"bipolar_disorder": "severe"})).outcome is Outcome.INELIGIBLE


def test_conditions_are_listed_in_catalogue_order_whatever_order_they_arrive_in():
    forward = {"cystitis": "relative", "bipolar_disorder": "relative", "symptomatic_arrhythmia": "relative"}
    backward = dict(reversed(forward.items()))

    assert (
        codes(decide(facts(conditions=forward)))
        == codes(decide(facts(conditions=backward)))
        == [
            "condition.symptomatic_arrhythmia",
            "condition.bipolar_disorder",
            "condition.cystitis",
        ]
    )


# --- age ------------------------------------------------------------------------------------------------------------


def test_age_at_the_minimum_passes():
    assert decide(facts(age_years=18)).is_eligible


def test_age_one_below_the_minimum_is_ineligible():
    reason = only_reason(decide(facts(age_years=17)))

    assert (reason.outcome, reason.code) == (Outcome.INELIGIBLE, "age_below_minimum")
    assert reason.text == "The patient is 17, below the minimum age of 18."


def test_age_unknown_needs_review():
    assert only_reason(decide(facts(age_years=None))).code == "age_unknown"
    assert decide(facts(age_years=None)).outcome is Outcome.REVIEW


def test_min_age_is_a_clinic_setting():
    thresholds = Thresholds(min_age=21)

    assert decide(facts(age_years=21), thresholds).is_eligible
    assert decide(facts(age_years=20), thresholds).outcome is Outcome.INELIGIBLE


# --- blood pressure -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected", "code"),
    [
        (140, 90, Outcome.ELIGIBLE, "all_checks_passed"),
        (141, 90, Outcome.REVIEW, "bp_above_review"),
        (140, 91, Outcome.REVIEW, "bp_above_review"),
        (180, 110, Outcome.REVIEW, "bp_above_review"),
        (181, 110, Outcome.INELIGIBLE, "bp_above_hold"),
        (180, 111, Outcome.INELIGIBLE, "bp_above_hold"),
        (120, 111, Outcome.INELIGIBLE, "bp_above_hold"),
        (190, 80, Outcome.INELIGIBLE, "bp_above_hold"),
    ],
)
def test_blood_pressure_thresholds_trip_only_above_the_value(systolic, diastolic, expected, code):
    decision = decide(facts(bp_systolic=systolic, bp_diastolic=diastolic))

    assert decision.outcome is expected
    assert codes(decision) == [code]


def test_hold_reason_quotes_the_reading_and_the_hold_threshold():
    reason = only_reason(decide(facts(bp_systolic=186, bp_diastolic=104)))

    assert reason.text == "Blood pressure 186/104 is above the hold threshold of 180/110."


def test_blood_pressure_thresholds_are_clinic_settings():
    thresholds = Thresholds(
        bp_review_systolic=130, bp_review_diastolic=85, bp_ineligible_systolic=160, bp_ineligible_diastolic=100
    )

    assert decide(facts(bp_systolic=130, bp_diastolic=85), thresholds).is_eligible
    assert decide(facts(bp_systolic=131, bp_diastolic=85), thresholds).outcome is Outcome.REVIEW
    assert decide(facts(bp_systolic=161, bp_diastolic=85), thresholds).outcome is Outcome.INELIGIBLE
    assert decide(facts(bp_systolic=150, bp_diastolic=101), thresholds).outcome is Outcome.INELIGIBLE


def test_blood_pressure_not_recorded_needs_review():
    reason = only_reason(decide(facts(bp_systolic=None, bp_diastolic=None)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "bp_not_recorded")


def test_half_a_blood_pressure_reading_needs_review():
    assert codes(decide(facts(bp_diastolic=None))) == ["bp_not_recorded"]


def test_half_a_reading_above_the_hold_threshold_is_still_ineligible():
    decision = decide(facts(bp_systolic=200, bp_diastolic=None))

    assert decision.outcome is Outcome.INELIGIBLE
    assert codes(decision) == ["bp_above_hold", "bp_not_recorded"]


# --- pregnancy and breastfeeding ------------------------------------------------------------------------------------


def test_pregnancy_is_a_hold_for_the_prescriber_not_a_screen_out():
    reason = only_reason(decide(facts(pregnant=True)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "pregnant")
    assert "not recommended" in reason.text


def test_pregnancy_not_recorded_needs_review():
    reason = only_reason(decide(facts(pregnant=None)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "pregnancy_not_recorded")


def test_breastfeeding_needs_review():
    reason = only_reason(decide(facts(breastfeeding=True)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "breastfeeding")
    assert "not recommended" in reason.text


def test_breastfeeding_not_recorded_needs_review_like_pregnancy():
    """Issue item 15: breastfeeding unknown is not "no" (Spravato label: not recommended while breastfeeding)."""
    reason = only_reason(decide(facts(breastfeeding=None)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "breastfeeding_not_recorded")


# --- interacting medications ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("interaction_class", list(InteractionClass))
def test_each_interaction_class_needs_review_with_its_note(interaction_class):
    reason = only_reason(decide(facts(interaction_classes=frozenset({interaction_class.value}))))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, f"interaction.{interaction_class}")
    assert INTERACTION_NOTES[interaction_class] in reason.text


def test_interactions_are_listed_in_class_order_one_reason_each():
    decision = decide(facts(interaction_classes=frozenset({"opioid", "benzodiazepine", "maoi"})))

    assert codes(decision) == ["interaction.benzodiazepine", "interaction.maoi", "interaction.opioid"]


def test_an_interaction_class_this_module_does_not_know_still_needs_review():
    reason = only_reason(decide(facts(interaction_classes=frozenset({"qt_prolonging"}))))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "interaction.qt_prolonging")


# --- PHQ-9 ----------------------------------------------------------------------------------------------------------


def test_phq9_at_the_minimum_passes():
    assert decide(with_score("phq9", Score(10, "moderate"))).is_eligible


def test_phq9_one_below_the_minimum_needs_review():
    reason = only_reason(decide(with_score("phq9", Score(9, "mild"))))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "phq9_below_minimum")
    assert reason.text == (
        "PHQ-9 total 9 (mild) is below the program minimum of 10; the depression may be too mild for the program."
    )


def test_phq9_minimum_is_a_clinic_setting():
    assert decide(with_score("phq9", Score(9, "mild")), Thresholds(min_phq9_total=5)).is_eligible


def test_phq9_item9_needs_urgent_clinician_review_whatever_the_total():
    reason = only_reason(decide(with_score("phq9", Score(22, "severe", ("item9",)))))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "phq9_item9")
    assert "urgent clinician review" in reason.text


def test_phq9_missing_needs_review():
    assert codes(decide(with_score("phq9", None))) == ["phq9_missing"]


# --- C-SSRS ---------------------------------------------------------------------------------------------------------


def test_cssrs_missing_needs_review():
    assert codes(decide(with_score("cssrs", None))) == ["cssrs_missing"]


@pytest.mark.parametrize(
    ("band", "wording"),
    [
        ("low", "clinician review before the next dose"),
        ("moderate", "same day"),
        ("high", "Hard stop on dosing until a clinician reviews"),
    ],
)
def test_cssrs_risk_needs_review_with_the_triage_wording(band, wording):
    reason = only_reason(decide(with_score("cssrs", Score(0, band))))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, f"cssrs_{band}")
    assert wording in reason.text


def test_cssrs_high_shows_crisis_resources():
    assert "988" in only_reason(decide(with_score("cssrs", Score(0, "high")))).text


@pytest.mark.parametrize("flag", ["q4", "q5", "q6_recent"])
def test_a_high_risk_cssrs_answer_counts_as_high_whatever_band_was_stored(flag):
    scored = with_score("cssrs", Score(0, "low", (flag,)))

    assert codes(decide(scored)) == ["cssrs_high"]
    assert suicide_risk(scored) == "high"


def test_an_unreadable_cssrs_level_is_not_taken_as_no_risk():
    assert codes(decide(with_score("cssrs", Score(0, "")))) == ["cssrs_unreadable"]


@pytest.mark.parametrize(
    ("cssrs", "phq9_flags", "expected"),
    [
        (Score(0, "none"), (), "none"),
        (None, (), "none"),
        (Score(0, "none"), ("item9",), "moderate"),
        (None, ("item9",), "moderate"),
        (Score(0, "low"), (), "low"),
        (Score(0, "low"), ("item9",), "moderate"),
        (Score(0, "moderate"), ("item9",), "moderate"),
        (Score(0, "high"), (), "high"),
        (Score(0, "none", ("q5",)), (), "high"),
    ],
)
def test_suicide_risk_combines_cssrs_and_phq9_item9(cssrs, phq9_flags, expected):
    """PHQ-9 item 9 above 0 is urgent clinician review whatever the total (docs/clinical-references.md#instruments): a
    moderate risk, as the alert the same answer raises; before, the screening recorded it as low."""
    scores = {**ELIGIBLE.scores, "phq9": Score(18, "moderately_severe", phq9_flags)}
    if cssrs is None:
        del scores["cssrs"]
    else:
        scores["cssrs"] = cssrs

    assert suicide_risk(facts(scores=scores)) == expected


# --- alcohol and drug use -------------------------------------------------------------------------------------------


MAN_UNDER_65 = {"sex_for_scoring": "male", "age_years": 42}


def test_audit_one_below_the_review_total_passes_for_a_man_under_65():
    assert decide(replace(with_score("audit", Score(15, "hazardous")), **MAN_UNDER_65)).is_eligible


def test_audit_at_the_review_total_needs_review():
    reason = only_reason(decide(replace(with_score("audit", Score(16, "harmful")), **MAN_UNDER_65)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "audit_high")
    assert reason.text == "AUDIT total 16 (harmful) is at or above the review threshold of 16."


@pytest.mark.parametrize(
    ("sex", "age", "why"),
    [
        ("female", 42, "for women"),
        ("male", 65, "from age 65"),
        ("male", 80, "from age 65"),
        (None, 42, "sex not recorded"),
        ("male", None, "age not recorded"),
    ],
)
def test_audit_cut_off_is_one_point_lower_for_women_and_people_over_65(sex, age, why):
    """WHO AUDIT manual (Babor et al. 2001; docs/clinical-references.md#clinical-review): a cut-off one point lower for
    women and people over 65. Sex or age unknown takes the lower cut-off too (safer)."""
    decision = decide(replace(with_score("audit", Score(15, "hazardous")), sex_for_scoring=sex, age_years=age))
    reason = next(reason for reason in decision.reasons if reason.code.startswith("audit"))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "audit_high")
    assert "review threshold of 15" in reason.text
    assert why in reason.text
    lower = decide(replace(with_score("audit", Score(14, "hazardous")), sex_for_scoring=sex, age_years=age))
    assert "audit_high" not in codes(lower)


@given(
    total=st.integers(0, 40),
    sex=st.sampled_from([None, "female", "male"]),
    age=st.none() | st.integers(18, 100),
    review_total=st.integers(2, 40),
)
def test_audit_review_follows_who_lower_cut_off(total, sex, age, review_total):
    """Property: review exactly from the clinic's total, one point lower unless a man known to be under 65."""
    screening = replace(with_score("audit", Score(total, "")), sex_for_scoring=sex, age_years=age or 42)
    if age is None:
        screening = replace(screening, age_years=None)
    lower = sex != "male" or age is None or age >= 65
    cutoff = review_total - 1 if lower else review_total
    reviewed = "audit_high" in codes(decide(screening, Thresholds(audit_review_total=review_total)))
    assert reviewed == (total >= cutoff)


@pytest.mark.parametrize("flag", ["item4", "item5", "item6", "item9", "item10"])
def test_each_audit_escalation_answer_needs_review_at_a_low_total(flag):
    reason = only_reason(decide(with_score("audit", Score(6, "low_risk", (flag,)))))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "audit_escalation")
    assert flag.removeprefix("item") in reason.text


def test_audit_high_total_and_escalation_are_two_reasons():
    decision = decide(with_score("audit", Score(24, "possible_dependence", ("item4", "item10"))))

    assert codes(decision) == ["audit_high", "audit_escalation"]
    assert "items 4, 10" in decision.reasons[1].text


@pytest.mark.parametrize(
    ("sex", "total", "expected"),
    [
        ("female", 2, Outcome.ELIGIBLE),
        ("female", 3, Outcome.REVIEW),
        ("male", 3, Outcome.ELIGIBLE),
        ("male", 4, Outcome.REVIEW),
        (None, 3, Outcome.REVIEW),
    ],
)
def test_positive_audit_c_needs_review_when_no_full_audit_was_done(sex, total, expected):
    scores = {code: score for code, score in ELIGIBLE.scores.items() if code != "audit"}
    scores["audit_c"] = Score(total, "")

    found = codes(decide(facts(scores=scores, sex_for_scoring=sex)))
    assert found[0] == "audit_missing"  # AUDIT-C alone never makes a patient eligible
    assert ("audit_c_positive" in found) is (expected is Outcome.REVIEW)


def test_a_full_audit_takes_precedence_over_audit_c():
    scores = {**ELIGIBLE.scores, "audit_c": Score(6, "")}

    assert decide(facts(scores=scores)).is_eligible


def test_dast10_below_three_passes():
    assert decide(with_score("dast10", Score(2, "low"))).is_eligible


def test_dast10_three_needs_review_by_default():
    """DAST-10 3-5 is "moderate level: further investigation" (Skinner's interpretation guidance;
    docs/clinical-references.md#clinical-review)."""
    reason = only_reason(decide(with_score("dast10", Score(3, "moderate"))))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "dast10_high")
    assert reason.text == "DAST-10 total 3 (moderate) is at or above the review threshold of 3."


def test_substance_thresholds_are_clinic_settings():
    thresholds = Thresholds(audit_review_total=20, dast10_review_total=9)

    assert decide(replace(with_score("audit", Score(19, "harmful")), **MAN_UNDER_65), thresholds).is_eligible
    assert decide(with_score("dast10", Score(8, "substantial")), thresholds).is_eligible


def test_the_rule_refuses_eligible_without_audit_and_dast10():
    """Issue item 15: the pure rule itself needs the full AUDIT and the DAST-10, not only the screening's checklist."""
    scores = {code: score for code, score in ELIGIBLE.scores.items() if code not in ("audit", "dast10")}

    decision = decide(facts(scores=scores))

    assert decision.outcome is Outcome.REVIEW
    assert codes(decision) == ["audit_missing", "dast10_missing"]


# --- treatment history and weight -----------------------------------------------------------------------------------


def test_adequate_trials_at_the_minimum_pass():
    assert decide(facts(adequate_antidepressant_trials=2)).is_eligible


def test_one_adequate_trial_needs_review():
    reason = only_reason(decide(facts(adequate_antidepressant_trials=1)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "trials_below_minimum")
    assert "ECT" not in reason.text


def test_ect_history_is_mentioned_as_supporting_information_only():
    reason = only_reason(decide(facts(adequate_antidepressant_trials=0, ect_history=True)))

    assert reason.code == "trials_below_minimum"
    assert "ECT" in reason.text
    assert decide(facts(ect_history=True)).is_eligible


def test_trials_unknown_needs_review():
    assert codes(decide(facts(adequate_antidepressant_trials=None))) == ["trials_unknown"]


def test_min_adequate_trials_is_a_clinic_setting():
    assert decide(facts(adequate_antidepressant_trials=1), Thresholds(min_adequate_trials=1)).is_eligible


def test_weight_missing_needs_review_for_mg_per_kg_dosing():
    reason = only_reason(decide(facts(weight_kg=None)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "weight_missing")
    assert "mg/kg" in reason.text


@pytest.mark.parametrize("weight", [Decimal("0"), Decimal("-1"), Decimal("NaN")])
def test_an_unusable_weight_needs_review(weight):
    assert codes(decide(facts(weight_kg=weight))) == ["weight_invalid"]


# --- the decision as a whole ----------------------------------------------------------------------------------------


def test_everything_missing_needs_review_and_lists_each_gap():
    decision = decide(
        ScreeningFacts(
            age_years=None,
            sex_for_scoring=None,
            scores={},
            conditions={},
            bp_systolic=None,
            bp_diastolic=None,
            interaction_classes=frozenset(),
            pregnant=None,
            breastfeeding=None,
            adequate_antidepressant_trials=None,
            ect_history=False,
            weight_kg=None,
        )
    )

    assert decision.outcome is Outcome.REVIEW
    assert codes(decision) == [
        "conditions_unanswered",
        "medications_not_recorded",
        "indication_missing",
        "age_unknown",
        "pregnancy_not_recorded",
        "breastfeeding_not_recorded",
        "bp_not_recorded",
        "phq9_missing",
        "cssrs_missing",
        "audit_missing",
        "dast10_missing",
        "trials_unknown",
        "weight_missing",
    ]


# --- the contraindication checklist, current medications and the indication (issue items 13-14) ---------------------


def test_an_empty_checklist_is_unanswered_not_none():
    """Issue item 13: an empty list no longer reads as "none"; unanswered is unknown and needs review."""
    reason = only_reason(decide(facts(no_conditions_attested=False)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "conditions_unanswered")


def test_every_condition_answered_no_is_as_good_as_none_of_these():
    answers = {condition.code: "no" for condition in CONDITIONS}

    assert decide(facts(no_conditions_attested=False, condition_answers=answers)).is_eligible


def test_conditions_answered_unknown_or_left_open_are_named_for_review():
    answers = {condition.code: "no" for condition in CONDITIONS}
    answers["cystitis"] = "unknown"
    del answers["bipolar_disorder"]

    reason = only_reason(decide(facts(no_conditions_attested=False, condition_answers=answers)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "conditions_unknown")
    assert reason.text == (
        "Contraindication checklist not answered yes or no for 2 conditions: Bipolar disorder; "
        "Interstitial, ulcerative or ketamine-induced cystitis."
    )


def test_none_of_these_does_not_cover_an_explicit_unknown():
    reason = only_reason(decide(facts(condition_answers={"cystitis": "unknown"})))

    assert reason.code == "conditions_unknown"


def test_medications_neither_listed_nor_attested_need_review():
    """Issue item 13: the same for current medications."""
    reason = only_reason(decide(facts(current_medications_recorded=False)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "medications_not_recorded")


@pytest.mark.parametrize("codes_on_file", [("F32.1",), ("F33.2",), ("F32.A",), ("Z00.0", "F33.1"), ("f33.0",)])
def test_a_depressive_disorder_diagnosis_is_the_indication(codes_on_file):
    """Issue item 14: ICD-10 F32/F33 (Spravato label: treatment-resistant depression;
    docs/clinical-references.md#billing-codes pairs MDD codes F32.x/F33.x with Spravato)."""
    assert decide(facts(diagnosis_codes=codes_on_file)).is_eligible


@pytest.mark.parametrize("codes_on_file", [(), ("F41.1",), ("F31.4",), ("F43.10",)])
def test_without_a_depressive_disorder_diagnosis_the_indication_needs_review(codes_on_file):
    reason = only_reason(decide(facts(diagnosis_codes=codes_on_file)))

    assert (reason.outcome, reason.code) == (Outcome.REVIEW, "indication_missing")


@pytest.mark.parametrize("codes_on_file", [("F33.42",), ("F32.5",), ("F33.40", "F32.4")])
def test_depression_coded_in_remission_needs_review(codes_on_file):
    """ICD-10-CM F32.4/F32.5/F33.4x code an episode in partial or full remission: no current episode (safer: review)."""
    assert only_reason(decide(facts(diagnosis_codes=codes_on_file))).code == "indication_in_remission"


@given(
    answers=st.dictionaries(st.sampled_from(sorted(BY_CODE)), st.sampled_from(["yes", "no", "unknown"])),
    attested=st.booleans(),
)
def test_checklist_is_eligible_only_when_every_condition_is_answered_no(answers, attested):
    """Property: with no condition present, eligible exactly when each condition is "no" or covered by "none of
    these" (which never covers an explicit unknown)."""
    present = {code: "relative" for code, answer in answers.items() if answer == "yes"}
    decision = decide(facts(conditions=present, condition_answers=answers, no_conditions_attested=attested))
    all_no = all(answers.get(code, "no" if attested else None) == "no" for code in BY_CODE)
    assert decision.is_eligible == all_no


def test_ineligible_reasons_come_first_then_review_in_rule_order():
    decision = decide(
        facts(
            age_years=16,
            conditions={"bipolar_disorder": "relative", "active_psychosis": "absolute"},
            bp_systolic=150,
            interaction_classes=frozenset({"stimulant"}),
            weight_kg=None,
        )
    )

    assert decision.outcome is Outcome.INELIGIBLE
    assert codes(decision) == [
        "condition.active_psychosis",
        "age_below_minimum",
        "condition.bipolar_disorder",
        "bp_above_review",
        "interaction.stimulant",
        "weight_missing",
    ]


def test_reason_texts_are_full_sentences():
    decision = decide(
        facts(
            conditions={code: "relative" for code in BY_CODE},
            bp_systolic=None,
            pregnant=True,
            breastfeeding=True,
            interaction_classes=frozenset(InteractionClass),
            scores={
                "phq9": Score(3, "minimal", ("item9",)),
                "cssrs": Score(0, "high"),
                "audit": Score(30, "possible_dependence", ("item9",)),
                "dast10": Score(10, "severe"),
            },
            adequate_antidepressant_trials=0,
            ect_history=True,
            weight_kg=None,
        )
    )

    for reason in decision.reasons:
        assert reason.text[0].isupper() or reason.text[0].isdigit(), reason.text
        assert reason.text.endswith("."), reason.text
        assert "_" not in reason.text, reason.text


# --- properties -----------------------------------------------------------------------------------------------------

INSTRUMENT_BANDS = {
    "phq9": ["minimal", "mild", "moderate", "moderately_severe", "severe"],
    "gad7": ["minimal", "mild", "moderate", "severe"],
    "pcl5": ["below_threshold", "probable_ptsd"],
    "cssrs": ["none", "low", "moderate", "high"],
    "audit": ["low_risk", "hazardous", "harmful", "possible_dependence"],
    "audit_c": ["negative", "positive"],
    "dast10": ["none", "low", "moderate", "substantial", "severe"],
}
FLAGS = ["item9", "q4", "q5", "q6_recent", "item4", "item5", "item6", "item10"]

condition_codes = st.one_of(st.sampled_from(sorted(BY_CODE)), st.text(min_size=1, max_size=12))
severities = st.sampled_from(["absolute", "relative"])
flags = st.one_of(st.sampled_from(FLAGS), st.text(max_size=8))
interaction_values = st.one_of(st.sampled_from([c.value for c in InteractionClass]), st.text(min_size=1, max_size=12))


@st.composite
def scores(draw):
    result = {}
    for code in draw(st.sets(st.sampled_from(sorted(INSTRUMENT_BANDS)))):
        band = draw(st.one_of(st.sampled_from(INSTRUMENT_BANDS[code]), st.text(max_size=10)))
        result[code] = Score(draw(st.integers(0, 80)), band, tuple(draw(st.lists(flags, max_size=3))))
    return result


screening_facts = st.builds(
    ScreeningFacts,
    age_years=st.none() | st.integers(0, 110),
    sex_for_scoring=st.sampled_from([None, "female", "male"]),
    scores=scores(),
    conditions=st.dictionaries(condition_codes, severities, max_size=4),
    bp_systolic=st.none() | st.integers(50, 300),
    bp_diastolic=st.none() | st.integers(20, 200),
    interaction_classes=st.frozensets(interaction_values, max_size=3),
    pregnant=st.none() | st.booleans(),
    breastfeeding=st.none() | st.booleans(),
    adequate_antidepressant_trials=st.none() | st.integers(0, 30),
    ect_history=st.booleans(),
    weight_kg=st.none() | st.decimals(min_value=-10, max_value=400, places=1, allow_nan=False),
)


def no_better(before: Decision, after: Decision) -> bool:
    return outcome_rank(after.outcome) >= outcome_rank(before.outcome)


@given(screening_facts)
def test_decide_never_raises_and_the_outcome_is_the_worst_reason(screening):
    decision = decide(screening)

    assert decision.reasons
    assert decision.outcome is max((reason.outcome for reason in decision.reasons), key=outcome_rank)
    ranks = [outcome_rank(reason.outcome) for reason in decision.reasons]
    assert ranks == sorted(ranks, reverse=True)
    if decision.outcome is Outcome.ELIGIBLE:
        assert decision.reasons == (ALL_CHECKS_PASSED,)
    else:
        assert all(reason.outcome is not Outcome.ELIGIBLE for reason in decision.reasons)


@given(screening_facts, condition_codes, severities)
def test_adding_a_condition_never_improves_the_outcome(screening, code, severity):
    worse = replace(screening, conditions={**screening.conditions, code: severity})
    if screening.conditions.get(code) == "absolute":
        worse = screening  # lowering an existing severity is not "adding"

    assert no_better(decide(screening), decide(worse))


@given(screening_facts, st.data())
def test_adding_a_flag_to_any_score_never_improves_the_outcome(screening, data):
    if not screening.scores:
        return
    code = data.draw(st.sampled_from(sorted(screening.scores)))
    flag = data.draw(flags)
    score = screening.scores[code]
    worse = replace(screening, scores={**screening.scores, code: replace(score, flags=(*score.flags, flag))})

    assert no_better(decide(screening), decide(worse))


@given(screening_facts, interaction_values)
def test_adding_an_interaction_never_improves_the_outcome(screening, interaction):
    worse = replace(screening, interaction_classes=screening.interaction_classes | {interaction})

    assert no_better(decide(screening), decide(worse))


@given(screening_facts)
def test_suicide_risk_is_always_one_of_the_four_levels(screening):
    assert suicide_risk(screening) in ("none", "low", "moderate", "high")
