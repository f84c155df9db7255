"""Screening services on the real database: drafts, scoring, suicide-risk alerts, completion and sign-off."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from patients.status import Status
from screening import services
from screening.models import ConditionRule, InstrumentResponse, MedicalHistory, Screening, SuicideRiskAlert

pytestmark = pytest.mark.django_db

# A complete intake set that passes every eligibility rule: PHQ-9 10 (moderate), C-SSRS all No, AUDIT and DAST low.
FINE_ANSWERS = {
    "phq9": [2, 2, 1, 1, 1, 1, 1, 1, 0],
    "gad7": [1, 1, 1, 1, 1, 1, 1],
    "cssrs": [0, 0, None, None, None, 0, None],
    "audit": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    # Item 3 ("able to stop when wanted") is reverse-scored: Yes earns no point, so this set totals 0.
    "dast10": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
}
FINE_MEDICAL = {
    "conditions": [],
    "no_conditions_attested": True,
    "no_medications_attested": True,
    "bp_systolic": 120,
    "bp_diastolic": 80,
    "heart_rate": 72,
    "spo2": 98,
    "weight_kg": Decimal("70.0"),
    "pregnant": False,
    "breastfeeding": False,
    "adequate_antidepressant_trials": 2,
    "ect_history": False,
}


DEPRESSION = [{"icd10_code": "F33.2", "description": "Recurrent major depression", "is_primary": True}]


def fine_medical(medical: dict | None = None, medications_rows=()) -> dict:
    """FINE_MEDICAL with `medical` laid over it; a condition present or a medication listed withdraws the
    matching "none of these" attestation, as the form would insist."""
    data = {**FINE_MEDICAL, **(medical or {})}
    if data.get("conditions") or data.get("condition_answers"):
        data["no_conditions_attested"] = (medical or {}).get("no_conditions_attested", False)
    if medications_rows:
        data["no_medications_attested"] = False
    return data


def fill_screening(
    patient,
    by,
    *,
    answers: dict | None = None,
    medical: dict | None = None,
    medications_rows=(),
    complete: bool = True,
) -> Screening:
    """Start a screening and enter every required part through the services, as intake staff would.

    `answers` and `medical` replace parts of the fine (eligible) set; with complete=True the screening is finished.
    """
    screening = services.screening_start(patient=patient, by=by)
    for code, values in {**FINE_ANSWERS, **(answers or {})}.items():
        services.response_save(screening=screening, code=code, answers=values, complete=True, by=by)
    services.medical_save(
        screening=screening,
        by=by,
        data=fine_medical(medical, medications_rows),
        medications_rows=list(medications_rows),
        diagnoses_rows=DEPRESSION,
        complete=True,
    )
    if complete:
        screening = services.screening_complete(screening=screening, by=by)
    return screening


def signed_off_screening(patient, by, *, final_outcome: str = "eligible", note: str = "", **fill) -> Screening:
    """A screening filled, completed and signed off by the clinician `by`."""
    screening = fill_screening(patient, by, **fill)
    return services.screening_sign_off(screening=screening, by=by, final_outcome=final_outcome, note=note)


# ---- Drafts and scoring -------------------------------------------------------------------------------------------


def test_partial_phq9_saved_as_draft_keeps_answers_without_a_score(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    partial = [2, 1, None, None, None, None, None, None, None]

    services.response_save(screening=screening, code="phq9", answers=partial, complete=False, by=front_desk)

    response = InstrumentResponse.objects.get(screening=screening, code="phq9")
    assert response.answers == partial
    assert response.is_complete is False
    assert response.total is None
    assert response.band == ""
    assert response.flags == []


def test_complete_phq9_is_scored(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    services.response_save(
        screening=screening, code="phq9", answers=[3, 3, 2, 2, 2, 2, 1, 1, 0], complete=True, by=front_desk
    )

    response = InstrumentResponse.objects.get(screening=screening, code="phq9")
    assert response.is_complete is True
    assert response.total == 16
    assert response.band == "moderately_severe"


def test_saving_a_scored_instrument_again_as_draft_drops_the_score(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="gad7", answers=[1] * 7, complete=True, by=front_desk)

    services.response_save(screening=screening, code="gad7", answers=[1] * 6 + [None], complete=False, by=front_desk)

    response = InstrumentResponse.objects.get(screening=screening, code="gad7")
    assert (response.is_complete, response.total, response.band) == (False, None, "")
    assert InstrumentResponse.objects.filter(screening=screening).count() == 1


def test_complete_save_with_a_missing_answer_is_refused_and_nothing_stored(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    with pytest.raises(ValidationError, match="PHQ-9 item 4: missing answer"):
        services.response_save(
            screening=screening, code="phq9", answers=[1, 1, 1, None, 1, 1, 1, 1, 0], complete=True, by=front_desk
        )

    assert not InstrumentResponse.objects.filter(screening=screening).exists()


def test_database_refuses_a_draft_response_with_a_total(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    with pytest.raises(IntegrityError), transaction.atomic():
        InstrumentResponse.objects.create(
            screening=screening, code="phq9", answers=[1] * 9, is_complete=False, total=9, entered_by=front_desk
        )


def test_database_refuses_a_complete_response_without_a_total(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    with pytest.raises(IntegrityError), transaction.atomic():
        InstrumentResponse.objects.create(
            screening=screening, code="phq9", answers=[1] * 9, is_complete=True, total=None, entered_by=front_desk
        )


def test_answers_cannot_change_once_the_screening_is_complete(patient, front_desk):
    screening = fill_screening(patient, front_desk)

    with pytest.raises(ValidationError, match="finished"):
        services.response_save(screening=screening, code="phq9", answers=[0] * 9, complete=True, by=front_desk)


def test_starting_a_screening_returns_the_one_in_progress_and_moves_the_patient_to_screening(patient, front_desk):
    first = services.screening_start(patient=patient, by=front_desk)
    second = services.screening_start(patient=patient, by=front_desk)

    assert first.pk == second.pk
    patient.refresh_from_db()
    assert patient.status == Status.SCREENING


def test_a_patient_cannot_start_a_screening(patient, patient_user):
    with pytest.raises(PermissionDenied):
        services.screening_start(patient=patient, by=patient_user)


# ---- Suicide-risk alerts ------------------------------------------------------------------------------------------


def test_phq9_item9_above_zero_in_a_draft_raises_one_open_moderate_alert_at_once(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    answers = [None] * 8 + [1]

    services.response_save(screening=screening, code="phq9", answers=answers, complete=False, by=front_desk)

    alert = SuicideRiskAlert.objects.get(patient=patient)
    assert alert.status == SuicideRiskAlert.Status.OPEN
    assert alert.level == "moderate"
    assert alert.instrument_code == "phq9"
    assert alert.screening == screening


def test_saving_a_positive_answer_again_does_not_duplicate_the_alert(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[None] * 8 + [2], complete=False, by=front_desk)

    services.response_save(screening=screening, code="phq9", answers=[1] * 8 + [2], complete=False, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[1] * 8 + [3], complete=True, by=front_desk)

    assert SuicideRiskAlert.objects.filter(patient=patient).count() == 1


def test_phq9_item9_zero_raises_no_alert(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    services.response_save(screening=screening, code="phq9", answers=[3] * 8 + [0], complete=True, by=front_desk)

    assert not SuicideRiskAlert.objects.exists()


def test_cssrs_intent_without_plan_raises_a_high_alert(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    services.response_save(
        screening=screening, code="cssrs", answers=[1, 1, 0, 1, 0, 0, None], complete=True, by=front_desk
    )

    alert = SuicideRiskAlert.objects.get(patient=patient)
    assert (alert.instrument_code, alert.level, alert.status) == ("cssrs", "high", "open")


def test_cssrs_alert_rises_to_high_when_a_later_answer_is_worse(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(
        screening=screening,
        code="cssrs",
        answers=[1, None, None, None, None, None, None],
        complete=False,
        by=front_desk,
    )
    assert SuicideRiskAlert.objects.get().level == "low"

    services.response_save(
        screening=screening, code="cssrs", answers=[1, 1, 1, 0, 1, 0, None], complete=True, by=front_desk
    )

    alert = SuicideRiskAlert.objects.get()
    assert alert.level == "high"


def test_only_a_clinician_can_clear_an_alert(patient, front_desk, admin_user):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[None] * 8 + [1], complete=False, by=front_desk)
    alert = SuicideRiskAlert.objects.get()

    for not_a_clinician in (front_desk, admin_user):
        with pytest.raises(PermissionDenied):
            services.alert_clear(alert=alert, by=not_a_clinician, note="Spoke with the patient; safety plan made.")

    alert.refresh_from_db()
    assert alert.status == SuicideRiskAlert.Status.OPEN


@pytest.mark.parametrize("note", ["", "   "])
def test_clearing_an_alert_needs_a_review_note(patient, front_desk, clinician, note):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[None] * 8 + [1], complete=False, by=front_desk)
    alert = SuicideRiskAlert.objects.get()

    with pytest.raises(ValidationError, match="Document your review"):
        services.alert_clear(alert=alert, by=clinician, note=note)

    alert.refresh_from_db()
    assert alert.status == SuicideRiskAlert.Status.OPEN
    assert alert.cleared_by is None


def test_clearing_an_alert_records_who_when_and_the_review(patient, front_desk, clinician):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[None] * 8 + [1], complete=False, by=front_desk)
    alert = SuicideRiskAlert.objects.get()
    moment = timezone.now() + timedelta(hours=2)

    with time_machine.travel(moment, tick=False):
        services.alert_clear(alert=alert, by=clinician, note="  Assessed by phone; passive ideation, safety plan.  ")

    alert.refresh_from_db()
    assert alert.status == SuicideRiskAlert.Status.CLEARED
    assert alert.cleared_by == clinician
    assert alert.cleared_at == moment
    assert alert.review_note == "Assessed by phone; passive ideation, safety plan."


def test_a_cleared_alert_cannot_be_cleared_again(patient, front_desk, clinician):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[None] * 8 + [1], complete=False, by=front_desk)
    alert = SuicideRiskAlert.objects.get()
    services.alert_clear(alert=alert, by=clinician, note="Reviewed in clinic today.")

    with pytest.raises(ValidationError, match="already cleared"):
        services.alert_clear(alert=alert, by=clinician, note="A second review.")

    alert.refresh_from_db()
    assert alert.review_note == "Reviewed in clinic today."


def test_database_refuses_a_cleared_alert_without_a_review(patient, front_desk, clinician):
    screening = services.screening_start(patient=patient, by=front_desk)

    with pytest.raises(IntegrityError), transaction.atomic():
        SuicideRiskAlert.objects.create(
            patient=patient,
            screening=screening,
            instrument_code="phq9",
            level="moderate",
            status=SuicideRiskAlert.Status.CLEARED,
            cleared_by=clinician,
            cleared_at=timezone.now(),
        )


def test_a_positive_answer_after_a_cleared_alert_raises_a_new_one(patient, front_desk, clinician):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[None] * 8 + [1], complete=False, by=front_desk)
    services.alert_clear(alert=SuicideRiskAlert.objects.get(), by=clinician, note="Reviewed in clinic today.")

    services.response_save(screening=screening, code="phq9", answers=[1] * 8 + [2], complete=True, by=front_desk)

    assert SuicideRiskAlert.objects.filter(status="open").count() == 1
    assert SuicideRiskAlert.objects.filter(status="cleared").count() == 1


def test_patient_self_report_is_filed_into_a_screening_and_marked_patient_reported(patient, patient_user):
    response = services.self_report_save(patient=patient, code="phq9", answers=[1] * 8 + [0], by=patient_user)

    assert response.reported_by_patient is True
    assert response.is_complete is True
    assert response.total == 8
    assert response.screening.patient == patient
    assert response.screening.status == Screening.Status.DRAFT


def test_patient_cannot_self_report_for_another_patient(patient, other_patient, patient_user):
    with pytest.raises(PermissionDenied):
        services.self_report_save(patient=other_patient, code="phq9", answers=[0] * 9, by=patient_user)
    assert not InstrumentResponse.objects.exists()


@pytest.mark.parametrize("code", ["cssrs", "audit", "dast10", "pcl5"])
def test_patient_cannot_self_report_staff_instruments(patient, patient_user, code):
    with pytest.raises(PermissionDenied):
        services.self_report_save(patient=patient, code=code, answers=[0] * 7, by=patient_user)


def test_patient_cannot_overwrite_answers_the_clinic_recorded(patient, patient_user, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=[2] * 9, complete=True, by=front_desk)

    with pytest.raises(ValidationError, match="already recorded"):
        services.self_report_save(patient=patient, code="phq9", answers=[0] * 9, by=patient_user)

    assert InstrumentResponse.objects.get(screening=screening, code="phq9").answers == [2] * 9


def test_patient_cannot_enter_answers_into_another_patients_screening(other_patient, patient_user, other_clinician):
    screening = services.screening_start(patient=other_patient, by=other_clinician)

    with pytest.raises(PermissionDenied):
        services.response_save(screening=screening, code="phq9", answers=[0] * 9, complete=True, by=patient_user)


def test_patient_self_report_with_item9_above_zero_raises_an_alert(patient, patient_user):
    services.self_report_save(patient=patient, code="phq9", answers=[1] * 8 + [2], by=patient_user)

    alert = SuicideRiskAlert.objects.get(patient=patient)
    assert (alert.level, alert.status) == ("moderate", "open")


# ---- Medical history ----------------------------------------------------------------------------------------------


def test_medications_are_classified_by_interaction(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    services.medical_save(
        screening=screening,
        by=front_desk,
        data={**FINE_MEDICAL, "no_medications_attested": False},
        medications_rows=[{"name": "Xanax 0.5 mg", "dose": "at night"}, {"name": "Sertraline", "dose": "100 mg"}],
        diagnoses_rows=[],
        complete=False,
    )

    classes = dict(screening.medications.values_list("name", "interaction_class"))
    assert classes == {"Xanax 0.5 mg": "benzodiazepine", "Sertraline": ""}
    reasons = [reason.code for reason in services.screening_preview(screening).reasons]
    assert "interaction.benzodiazepine" in reasons


def test_saving_medical_history_again_replaces_the_medication_list(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    rows = [{"name": "Lamictal", "dose": "100 mg"}]
    services.medical_save(
        screening=screening,
        by=front_desk,
        data=fine_medical(None, rows),
        medications_rows=rows,
        diagnoses_rows=[],
        complete=False,
    )

    services.medical_save(
        screening=screening, by=front_desk, data=FINE_MEDICAL, medications_rows=[], diagnoses_rows=[], complete=True
    )

    assert not screening.medications.exists()


def test_unknown_condition_codes_are_refused(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    with pytest.raises(ValidationError, match="Unknown conditions: made_up"):
        services.medical_save(
            screening=screening,
            by=front_desk,
            data={**FINE_MEDICAL, "conditions": ["made_up"]},
            medications_rows=[],
            diagnoses_rows=[],
            complete=True,
        )


def test_weight_entered_at_screening_is_copied_to_the_patient(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    services.medical_save(
        screening=screening,
        by=front_desk,
        data={**FINE_MEDICAL, "weight_kg": Decimal("81.5")},
        medications_rows=[],
        diagnoses_rows=[],
        complete=False,
    )

    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("81.5")


def test_database_refuses_systolic_not_above_diastolic(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    with pytest.raises(IntegrityError), transaction.atomic():
        MedicalHistory.objects.create(screening=screening, **{**FINE_MEDICAL, "bp_systolic": 80, "bp_diastolic": 80})


# ---- Completing a screening ---------------------------------------------------------------------------------------


def test_completion_is_refused_while_parts_are_missing_and_names_them(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=screening, code="phq9", answers=FINE_ANSWERS["phq9"], complete=True, by=front_desk)
    services.response_save(screening=screening, code="gad7", answers=[1] * 6 + [None], complete=False, by=front_desk)

    with pytest.raises(ValidationError) as refused:
        services.screening_complete(screening=screening, by=front_desk)

    message = refused.value.messages[0]
    for part in ("GAD-7", "C-SSRS Screener", "AUDIT", "DAST-10", "Medical history"):
        assert part in message
    assert "PHQ-9" not in message
    screening.refresh_from_db()
    assert screening.status == Screening.Status.DRAFT
    assert screening.computed_outcome == ""


def test_completion_waits_for_the_medical_history_to_be_marked_complete(patient, front_desk):
    screening = fill_screening(patient, front_desk, complete=False)
    services.medical_save(
        screening=screening, by=front_desk, data=FINE_MEDICAL, medications_rows=[], diagnoses_rows=[], complete=False
    )

    with pytest.raises(ValidationError, match="Finish these parts first: Medical history."):
        services.screening_complete(screening=screening, by=front_desk)


def test_pcl5_is_optional_for_completion(patient, front_desk):
    screening = fill_screening(patient, front_desk)

    assert screening.status == Screening.Status.COMPLETED
    assert not screening.responses.filter(code="pcl5").exists()


def test_a_fully_fine_screening_is_computed_eligible(patient, front_desk):
    screening = fill_screening(patient, front_desk)

    screening.refresh_from_db()
    assert screening.status == Screening.Status.COMPLETED
    assert screening.computed_outcome == "eligible"
    assert screening.suicide_risk == "none"
    assert screening.completed_by == front_desk
    assert screening.completed_at is not None
    assert [reason["code"] for reason in screening.reasons] == ["all_checks_passed"]
    assert screening.reasons[0]["outcome"] == "eligible"


def test_an_absolute_contraindication_makes_the_screening_ineligible_with_the_reason_in_plain_words(
    patient, front_desk
):
    screening = fill_screening(patient, front_desk, medical={"conditions": ["ketamine_hypersensitivity"]})

    screening.refresh_from_db()
    assert screening.computed_outcome == "ineligible"
    reason = screening.reasons[0]
    assert reason["code"] == "condition.ketamine_hypersensitivity"
    assert reason["outcome"] == "ineligible"
    assert "absolute contraindication" in reason["text"]


def test_a_clinic_rule_can_make_a_condition_relative(patient, front_desk):
    ConditionRule.objects.create(code="ketamine_hypersensitivity", severity="relative")

    screening = fill_screening(patient, front_desk, medical={"conditions": ["ketamine_hypersensitivity"]})

    assert screening.computed_outcome == "review"


def test_a_mild_phq9_total_asks_for_clinician_review(patient, front_desk):
    screening = fill_screening(patient, front_desk, answers={"phq9": [1, 1, 1, 1, 1, 0, 0, 0, 0]})

    assert screening.computed_outcome == "review"
    assert "phq9_below_minimum" in [reason["code"] for reason in screening.reasons]
    assert any("below the program minimum of 10" in reason["text"] for reason in screening.reasons)


def test_high_risk_cssrs_is_stored_on_the_completed_screening(patient, front_desk):
    screening = fill_screening(patient, front_desk, answers={"cssrs": [1, 1, 1, 1, 0, 0, None]})

    assert screening.suicide_risk == "high"
    assert screening.computed_outcome == "review"


def test_a_screening_cannot_be_completed_twice(patient, front_desk):
    screening = fill_screening(patient, front_desk)

    with pytest.raises(ValidationError, match="already complete"):
        services.screening_complete(screening=screening, by=front_desk)


def test_database_refuses_a_completed_screening_without_an_outcome(patient, front_desk):
    screening = services.screening_start(patient=patient, by=front_desk)

    with pytest.raises(IntegrityError), transaction.atomic():
        Screening.objects.filter(pk=screening.pk).update(status=Screening.Status.COMPLETED)


# ---- Sign-off -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["front_desk", "admin_user", "patient_user"])
def test_only_a_clinician_can_sign_off(request, patient, front_desk, person):
    screening = fill_screening(patient, front_desk)

    with pytest.raises(PermissionDenied):
        services.screening_sign_off(screening=screening, by=request.getfixturevalue(person), final_outcome="eligible")

    screening.refresh_from_db()
    assert screening.status == Screening.Status.COMPLETED


def test_a_decision_that_differs_from_the_result_needs_a_note(patient, front_desk, clinician):
    screening = fill_screening(patient, front_desk)

    with pytest.raises(ValidationError, match="Explain in a note"):
        services.screening_sign_off(screening=screening, by=clinician, final_outcome="ineligible", note="  ")

    screening.refresh_from_db()
    assert screening.status == Screening.Status.COMPLETED
    assert screening.final_outcome == ""
    assert screening.signed_off_by is None


def test_settling_a_review_needs_a_note(patient, front_desk, clinician):
    screening = fill_screening(patient, front_desk, medical={"adequate_antidepressant_trials": 1})
    assert screening.computed_outcome == "review"

    with pytest.raises(ValidationError, match="Explain in a note"):
        services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible")

    signed = services.screening_sign_off(
        screening=screening, by=clinician, final_outcome="eligible", note="Two trials found in outside records."
    )
    assert signed.final_outcome == "eligible"
    assert signed.sign_off_note == "Two trials found in outside records."


@pytest.mark.parametrize("note", ["ok", "  Fine by me.        "])
def test_signing_off_eligible_past_the_rules_needs_a_written_justification(patient, front_desk, clinician, note):
    """An eligible sign-off over an absolute contraindication lets the patient past the rules: it needs the written
    justification every other override of a rule takes, not a word. Before, "ok" was enough."""
    screening = fill_screening(patient, front_desk, medical={"conditions": ["ketamine_hypersensitivity"]})
    assert screening.computed_outcome == "ineligible"

    with pytest.raises(ValidationError, match="at least 20 characters"):
        services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible", note=note)
    screening.refresh_from_db()
    assert (screening.status, screening.final_outcome) == (Screening.Status.COMPLETED, "")

    signed = services.screening_sign_off(
        screening=screening,
        by=clinician,
        final_outcome="eligible",
        note="Allergist's challenge test on file: the reaction was to a preservative, not ketamine.",
    )
    assert signed.final_outcome == "eligible"


def test_sign_off_as_eligible_moves_the_patient_to_eligible(patient, front_desk, clinician):
    screening = fill_screening(patient, front_desk)

    signed = services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible")

    assert signed.status == Screening.Status.SIGNED_OFF
    assert signed.signed_off_by == clinician
    assert signed.signed_off_at is not None
    patient.refresh_from_db()
    assert patient.status == Status.ELIGIBLE
    change = patient.status_changes.first()
    assert (change.from_status, change.to_status, change.changed_by) == ("screening", "eligible", clinician)


def test_sign_off_as_not_eligible_moves_the_patient_to_not_eligible(patient, front_desk, clinician):
    screening = fill_screening(patient, front_desk, medical={"conditions": ["ketamine_hypersensitivity"]})

    services.screening_sign_off(screening=screening, by=clinician, final_outcome="ineligible")

    patient.refresh_from_db()
    assert patient.status == Status.NOT_ELIGIBLE


def test_a_draft_screening_cannot_be_signed_off(patient, front_desk, clinician):
    screening = fill_screening(patient, front_desk, complete=False)

    with pytest.raises(ValidationError, match="Only a completed screening"):
        services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible")


def test_a_signed_off_screening_cannot_be_signed_off_again(patient, clinician):
    screening = signed_off_screening(patient, clinician)

    with pytest.raises(ValidationError):
        services.screening_sign_off(screening=screening, by=clinician, final_outcome="ineligible", note="Changed mind.")


def test_review_is_not_a_final_decision(patient, front_desk, clinician):
    screening = fill_screening(patient, front_desk)

    with pytest.raises(ValidationError, match="Choose eligible or not eligible"):
        services.screening_sign_off(screening=screening, by=clinician, final_outcome="review", note="Unsure.")


def test_a_new_screening_after_sign_off_moves_an_eligible_patient_back_to_screening(patient, clinician):
    signed_off_screening(patient, clinician)
    patient.refresh_from_db()
    assert patient.status == Status.ELIGIBLE

    second = services.screening_start(patient=patient, by=clinician)

    assert second.status == Screening.Status.DRAFT
    patient.refresh_from_db()
    assert patient.status == Status.SCREENING


def test_sign_off_moves_a_patient_whose_screening_began_with_their_own_questionnaire(patient, patient_user, clinician):
    services.self_report_save(patient=patient, code="phq9", answers=FINE_ANSWERS["phq9"], by=patient_user)
    screening = Screening.objects.get(patient=patient)
    patient.refresh_from_db()
    assert patient.status == Status.REFERRED
    for code, answers in FINE_ANSWERS.items():
        if code != "phq9":
            services.response_save(screening=screening, code=code, answers=answers, complete=True, by=clinician)
    services.medical_save(
        screening=screening,
        by=clinician,
        data=FINE_MEDICAL,
        medications_rows=[],
        diagnoses_rows=DEPRESSION,
        complete=True,
    )
    services.screening_complete(screening=screening, by=clinician)

    services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible")

    patient.refresh_from_db()
    assert patient.status == Status.ELIGIBLE
    assert [c.to_status for c in patient.status_changes.order_by("pk")] == ["screening", "eligible"]


def test_a_later_ineligible_sign_off_moves_an_eligible_patient_to_not_eligible(patient, patient_user, clinician):
    signed_off_screening(patient, clinician)
    patient.refresh_from_db()
    # An eligible patient is past the intake questionnaires: the clinic starts the re-screen.
    rescreen = services.screening_start(patient=patient, by=clinician)
    for code, answers in FINE_ANSWERS.items():
        services.response_save(screening=rescreen, code=code, answers=answers, complete=True, by=clinician)
    services.medical_save(
        screening=rescreen,
        by=clinician,
        data=fine_medical({"conditions": ["ketamine_hypersensitivity"]}),
        medications_rows=[],
        diagnoses_rows=[],
        complete=True,
    )
    services.screening_complete(screening=rescreen, by=clinician)

    services.screening_sign_off(screening=rescreen, by=clinician, final_outcome="ineligible")

    patient.refresh_from_db()
    assert patient.status == Status.NOT_ELIGIBLE


def test_a_sign_off_leaves_an_enrolled_patient_enrolled(patient, clinician):
    from sessions.scheduling.enrollment import enrollment_create

    signed_off_screening(patient, clinician)
    patient.refresh_from_db()
    enrollment_create(patient=patient, by=clinician)
    patient.refresh_from_db()
    rescreen = services.screening_start(patient=patient, by=clinician)
    for code, answers in FINE_ANSWERS.items():
        services.response_save(screening=rescreen, code=code, answers=answers, complete=True, by=clinician)
    services.medical_save(
        screening=rescreen,
        by=clinician,
        data=FINE_MEDICAL,
        medications_rows=[],
        diagnoses_rows=DEPRESSION,
        complete=True,
    )
    services.screening_complete(screening=rescreen, by=clinician)

    services.screening_sign_off(screening=rescreen, by=clinician, final_outcome="eligible")

    patient.refresh_from_db()
    assert patient.status == Status.ENROLLED


def test_old_medical_histories_migrate_with_present_conditions_as_yes_and_the_rest_unanswered(patient, front_desk):
    """Issue item 13: an old empty checklist becomes "unanswered" (unknown, the safer reading), not "none"."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("screening.migrations.0003_answered_contraindications")
    old_with = MedicalHistory.objects.create(
        screening=services.screening_start(patient=patient, by=front_desk), conditions=["cystitis"]
    )
    migration.answers_from_present_conditions(apps, None)

    old_with.refresh_from_db()
    assert old_with.condition_answers == {"cystitis": "yes"}
    assert not old_with.no_conditions_attested
    facts = services.screening_facts(old_with.screening)
    reasons = [reason.code for reason in services.screening_preview(old_with.screening).reasons]
    assert "conditions_unknown" in reasons and "medications_not_recorded" in reasons
    assert facts.conditions == {"cystitis": "relative"}
