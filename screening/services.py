from collections.abc import Sequence
from dataclasses import asdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.alerts import staff_alert_raise, staff_alerts_acknowledge
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import contraindications, eligibility, instruments, medications
from kap_clinic.rules.overrides import MIN_JUSTIFICATION
from patients.models import Patient
from patients.selectors import is_portal_user_of
from patients.services import patient_transition
from patients.status import Status

from .models import ConditionRule, InstrumentResponse, MedicalHistory, Screening, SuicideRiskAlert

# The standard intake set; PCL-5 is offered but optional (trauma-focused programs).
REQUIRED_INSTRUMENTS = ("phq9", "gad7", "cssrs", "audit", "dast10")
OPTIONAL_INSTRUMENTS = ("pcl5",)
SELF_REPORT_INSTRUMENTS = ("phq9", "gad7")
# The intake questionnaires are for patients still on their way in: referred or being screened.
SELF_REPORT_STATUSES = (Status.REFERRED, Status.SCREENING)


def self_report_open(patient: Patient) -> bool:
    """Whether the patient is offered the intake questionnaires (PHQ-9, GAD-7) in the portal."""
    return patient.status in SELF_REPORT_STATUSES


RISK_ORDER = ("none", "low", "moderate", "high")


def _require_staff(user: User) -> None:
    if user.role not in STAFF_ROLES:
        raise PermissionDenied


@transaction.atomic
def screening_start(*, patient: Patient, by: User) -> Screening:
    """Open a screening for the patient, or return the one already in progress."""
    _require_staff(by)
    screening = Screening.objects.filter(patient=patient, status=Screening.Status.DRAFT).first()
    if screening is None:
        screening = Screening.objects.create(patient=patient, created_by=by)
    if patient.status in (Status.REFERRED, Status.ELIGIBLE, Status.NOT_ELIGIBLE):
        patient_transition(patient=patient, to=Status.SCREENING, by=by, reason=f"Screening #{screening.pk} started.")
    return screening


# ---- Instruments --------------------------------------------------------------------------------


def _partial_risk(code: str, answers: Sequence[int | None]) -> str:
    """The suicide-risk level shown by the answers given so far (drafts included: a positive answer alerts at once)."""

    def yes(index: int) -> bool:
        return len(answers) > index and answers[index] not in (None, 0)

    if code == "phq9":
        # PHQ-9 item 9 above 0 means urgent clinician review regardless of the total
        # (docs/clinical-references.md#instruments).
        return "moderate" if yes(8) else "none"
    if code == "cssrs":
        if yes(3) or yes(4) or (yes(5) and yes(6)):
            return "high"
        if yes(2) or yes(5):
            return "moderate"
        if yes(0) or yes(1):
            return "low"
    return "none"


def _raise_alert(*, screening: Screening, code: str, level: str) -> SuicideRiskAlert | None:
    return risk_alert_raise(patient=screening.patient, code=code, level=level, screening=screening)


def risk_alert_raise(
    *,
    patient: Patient,
    code: str,
    level: str,
    screening: Screening | None = None,
    source: str = SuicideRiskAlert.Source.SCREENING,
    source_ref: str = "",
    summary: str = "",
    link: str = "",
) -> SuicideRiskAlert | None:
    """Open (or raise the level of) the suicide-risk alert for one answer: a screening's, a check-in's or the
    dosing-day re-screen's. Staff are told at once; the alert stays open until a clinician's documented review."""
    if level == "none":
        return None
    if screening is not None:
        same_answer = {"screening": screening}
    else:
        same_answer = {"source_ref": source_ref}
    alert = (
        SuicideRiskAlert.objects.select_for_update()
        .filter(instrument_code=code, status=SuicideRiskAlert.Status.OPEN, **same_answer)
        .first()
    )
    if alert is None:
        alert = SuicideRiskAlert.objects.create(
            patient=patient,
            screening=screening,
            source=SuicideRiskAlert.Source.SCREENING if screening is not None else source,
            source_ref="" if screening is not None else source_ref,
            instrument_code=code,
            level=level,
        )
    elif RISK_ORDER.index(level) > RISK_ORDER.index(alert.level):
        alert.level = level
        alert.save(update_fields=["level"])
    else:
        return alert
    # Staff are told at once (on their home pages and by email); a raised level tells them again.
    where = {"checkin": "a check-in", "dosing_day": "the dosing-day re-screen"}.get(alert.source, "a screening")
    staff_alert_raise(
        kind=StaffAlert.Kind.SUICIDE_RISK,
        key=f"suicide-risk-{alert.pk}-{alert.level}",
        patient_id=alert.patient_id,
        clinician_id=alert.patient.primary_clinician_id,
        summary=summary
        or (
            f"{alert.get_level_display()} suicide risk on a {instruments.display_name(code)} answer in {where}: "
            "review needed."
        ),
        link=link or reverse("screening:alert_clear", args=[alert.pk]),
        urgent=alert.level != "low",
    )
    return alert


def open_risk_alerts(patient: Patient) -> list[SuicideRiskAlert]:
    """The patient's open suicide-risk alerts, highest level first."""
    alerts = SuicideRiskAlert.objects.filter(patient=patient, status=SuicideRiskAlert.Status.OPEN)
    return sorted(alerts, key=lambda a: (-RISK_ORDER.index(a.level), a.raised_at, a.pk))


@transaction.atomic
def response_save(
    *, screening: Screening, code: str, answers: Sequence[int | None], complete: bool, by: User
) -> InstrumentResponse:
    """Save an instrument's answers; a complete set is scored, a draft keeps its answers unscored.

    Any positive suicide-risk answer raises an alert for clinicians in the same transaction.
    """
    if screening.status != Screening.Status.DRAFT:
        raise ValidationError("This screening is finished; start a new one to change answers.")
    by_patient = by.role == Role.PATIENT
    if by_patient and (not is_portal_user_of(by, screening.patient) or code not in SELF_REPORT_INSTRUMENTS):
        raise PermissionDenied
    if not by_patient:
        _require_staff(by)
    answers = list(answers)
    result = None
    try:  # answers the instrument does not allow (or a missing one, once complete) are refused in its words
        instruments.check_answers(code, answers, partial=not complete)
        if complete:
            result = instruments.score(
                code,
                answers,
                sex=screening.patient.sex_for_scoring or None,
                age_years=screening.patient.age_on(timezone.localdate()),
                pcl5_cutoff=ClinicSettings.load().pcl5_cutoff if code == "pcl5" else None,
            )
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    response, _ = InstrumentResponse.objects.update_or_create(
        screening=screening,
        code=code,
        defaults={
            "answers": answers,
            "is_complete": complete,
            "reported_by_patient": by_patient,
            "total": result.total if result else None,
            "band": result.band if result else "",
            "flags": list(result.flags) if result else [],
            "entered_by": by,
        },
    )
    _raise_alert(screening=screening, code=code, level=_partial_risk(code, answers))
    return response


@transaction.atomic
def self_report_save(*, patient: Patient, code: str, answers: Sequence[int | None], by: User) -> InstrumentResponse:
    """A patient's own PHQ-9 or GAD-7 before intake, filed into their screening in progress."""
    if not is_portal_user_of(by, patient) or code not in SELF_REPORT_INSTRUMENTS:
        raise PermissionDenied
    if not self_report_open(patient):
        raise ValidationError("The intake questionnaires are closed: your care team now asks through your check-ins.")
    screening = Screening.objects.filter(patient=patient, status=Screening.Status.DRAFT).first()
    if screening is None:
        screening = Screening.objects.create(patient=patient, created_by=by)
    existing = InstrumentResponse.objects.filter(screening=screening, code=code).first()
    if existing is not None and existing.is_complete and not existing.reported_by_patient:
        raise ValidationError("The clinic has already recorded this questionnaire with you.")
    return response_save(screening=screening, code=code, answers=answers, complete=True, by=by)


# ---- Medical history ----------------------------------------------------------------------------


@transaction.atomic
def medical_save(
    *,
    screening: Screening,
    by: User,
    data: dict,
    medications_rows: Sequence[dict],
    diagnoses_rows: Sequence[dict],
    complete: bool,
) -> MedicalHistory:
    """Save the medical part of a screening; interaction classes of the medications are recognised here."""
    _require_staff(by)
    if screening.status != Screening.Status.DRAFT:
        raise ValidationError("This screening is finished; start a new one to change answers.")
    data = {**data, **_checklist(data)}
    systolic, diastolic = data.get("bp_systolic"), data.get("bp_diastolic")
    if complete and (systolic is None) != (diastolic is None):
        # A draft keeps half a reading (shown as incomplete); a finished history needs both values.
        missing = "bp_diastolic" if diastolic is None else "bp_systolic"
        raise ValidationError(
            {missing: "Enter both blood pressure values. Save as a draft to keep one and finish once both are taken."}
        )
    if data.get("no_medications_attested") and medications_rows:
        raise ValidationError('Medications are listed, so "takes no current medications" cannot be confirmed.')
    history, _ = MedicalHistory.objects.update_or_create(
        screening=screening, defaults={**data, "is_complete": complete}
    )
    history.full_clean()
    screening.medications.all().delete()
    for row in medications_rows:
        found = medications.classify(row["name"])
        screening.medications.create(
            name=row["name"], dose=row.get("dose", ""), interaction_class=found.value if found else ""
        )
    screening.diagnoses.all().delete()
    for row in diagnoses_rows:
        screening.diagnoses.create(**row)
    if data.get("weight_kg") is not None and screening.patient.weight_kg != data["weight_kg"]:
        patient = screening.patient
        patient.weight_kg = data["weight_kg"]
        patient.save(update_fields=["weight_kg", "updated_at"])
    return history


CHECKLIST_ANSWERS = ("yes", "no", "unknown")


def _checklist(data: dict) -> dict:
    """The contraindication checklist as stored: every answer given, and the codes answered yes.

    `condition_answers` maps code -> yes / no / unknown; `conditions` (codes present) is still accepted and counts
    as "yes". A code left out stays unanswered, which the eligibility rules read as unknown.
    """
    answers = dict(data.get("condition_answers") or {})
    for code in data.get("conditions") or []:
        answers[code] = "yes"
    unknown = set(answers) - set(contraindications.BY_CODE)
    if unknown:
        raise ValidationError(f"Unknown conditions: {', '.join(sorted(unknown))}.")
    wrong = sorted(code for code, answer in answers.items() if answer not in CHECKLIST_ANSWERS)
    if wrong:
        raise ValidationError(f"Answer yes, no or unknown for: {', '.join(wrong)}.")
    answers = {code: answers[code] for code in contraindications.BY_CODE if code in answers}
    if data.get("no_conditions_attested") and any(answer != "no" for answer in answers.values()):
        raise ValidationError('"None of these" cannot be confirmed while a condition is answered yes or unknown.')
    present = [code for code, answer in answers.items() if answer == "yes"]
    return {"condition_answers": answers, "conditions": present}


# ---- Decision and sign-off ----------------------------------------------------------------------


def condition_severities() -> dict[str, str]:
    severities = contraindications.default_severities()
    severities.update(dict(ConditionRule.objects.values_list("code", "severity")))
    return severities


def screening_facts(screening: Screening) -> eligibility.ScreeningFacts:
    """What the eligibility rules need, read from a screening's stored answers."""
    patient = screening.patient
    scores = {}
    for response in screening.responses.filter(is_complete=True):
        scores[response.code] = instruments.InstrumentScore(
            code=response.code, total=response.total, band=response.band, flags=tuple(response.flags)
        )
        if response.code == "audit":  # AUDIT-C is AUDIT's first three items
            scores["audit_c"] = instruments.score("audit_c", response.answers[:3], sex=patient.sex_for_scoring or None)
    medical = getattr(screening, "medical", None)
    severities = condition_severities()
    conditions = {code: severities[code] for code in (medical.conditions if medical else []) if code in severities}
    today = timezone.localdate()
    medication_classes = list(screening.medications.values_list("interaction_class", flat=True))
    return eligibility.ScreeningFacts(
        age_years=patient.age_on(today),
        sex_for_scoring=patient.sex_for_scoring or None,
        scores=scores,
        conditions=conditions,
        bp_systolic=medical.bp_systolic if medical else None,
        bp_diastolic=medical.bp_diastolic if medical else None,
        interaction_classes=frozenset(c for c in medication_classes if c),
        pregnant=medical.pregnant if medical else None,
        breastfeeding=medical.breastfeeding if medical else None,
        adequate_antidepressant_trials=medical.adequate_antidepressant_trials if medical else None,
        ect_history=bool(medical and medical.ect_history),
        weight_kg=(medical.weight_kg if medical and medical.weight_kg is not None else patient.weight_kg),
        condition_answers=dict(medical.condition_answers) if medical else {},
        no_conditions_attested=bool(medical and medical.no_conditions_attested),
        current_medications_recorded=bool(medication_classes) or bool(medical and medical.no_medications_attested),
        diagnosis_codes=tuple(screening.diagnoses.values_list("icd10_code", flat=True)),
    )


def screening_missing_parts(screening: Screening) -> list[str]:
    done = set(screening.responses.filter(is_complete=True).values_list("code", flat=True))
    missing = [instruments.get(code).name for code in REQUIRED_INSTRUMENTS if code not in done]
    medical = getattr(screening, "medical", None)
    if medical is None or not medical.is_complete:
        missing.append("Medical history")
    return missing


def screening_preview(screening: Screening) -> eligibility.Decision:
    """The decision the rules would give now (shown while the screening is in progress)."""
    return eligibility.decide(screening_facts(screening), ClinicSettings.load().eligibility_thresholds())


@transaction.atomic
def screening_complete(*, screening: Screening, by: User) -> Screening:
    """Score the finished screening: the decision and every reason are stored for the clinician's sign-off."""
    _require_staff(by)
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    if screening.status != Screening.Status.DRAFT:
        raise ValidationError("This screening is already complete.")
    missing = screening_missing_parts(screening)
    if missing:
        raise ValidationError(f"Finish these parts first: {', '.join(missing)}.")
    facts = screening_facts(screening)
    decision = eligibility.decide(facts, ClinicSettings.load().eligibility_thresholds())
    screening.status = Screening.Status.COMPLETED
    screening.completed_by = by
    screening.completed_at = timezone.now()
    screening.computed_outcome = decision.outcome.value
    screening.reasons = [{**asdict(r), "outcome": r.outcome.value} for r in decision.reasons]
    screening.suicide_risk = eligibility.suicide_risk(facts)
    screening.save()
    return screening


@transaction.atomic
def screening_sign_off(*, screening: Screening, by: User, final_outcome: str, note: str = "") -> Screening:
    """A clinician's decision on a completed screening; departing from the rules, or settling a review, needs a note."""
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can sign off a screening.")
    screening = Screening.objects.select_for_update().select_related("patient").get(pk=screening.pk)
    if screening.status != Screening.Status.COMPLETED:
        raise ValidationError("Only a completed screening awaiting sign-off can be signed off.")
    if final_outcome not in ("eligible", "ineligible"):
        raise ValidationError("Choose eligible or not eligible.")
    if final_outcome != screening.computed_outcome and not note.strip():
        raise ValidationError("Explain in a note why your decision differs from the screening result.")
    if final_outcome == "eligible" != screening.computed_outcome and len(note.strip()) < MIN_JUSTIFICATION:
        # Eligible past a contraindication or a review is an override of the rules: written out like every other one.
        raise ValidationError(
            f"Write at least {MIN_JUSTIFICATION} characters explaining why the patient is eligible despite the "
            "screening result."
        )
    if final_outcome == "eligible":
        # C-SSRS triage (docs/clinical-references.md#c-ssrs, #clinical-review): every level needs a clinician's review;
        # none is waved through by a sign-off.
        open_levels = [a.get_level_display().lower() for a in open_risk_alerts(screening.patient)]
        if open_levels:
            raise ValidationError(
                f"An open suicide-risk alert ({', '.join(open_levels)}) must be reviewed and cleared before the "
                "patient is signed off as eligible."
            )
    screening.status = Screening.Status.SIGNED_OFF
    screening.final_outcome = final_outcome
    screening.sign_off_note = note.strip()
    screening.signed_off_by = by
    screening.signed_off_at = timezone.now()
    screening.save()
    target = Status.ELIGIBLE if final_outcome == "eligible" else Status.NOT_ELIGIBLE
    patient = screening.patient
    reason = f"Screening #{screening.pk} signed off."
    # A screening begun by the patient's own questionnaire never passed through screening_start, so the patient
    # may still be referred, or eligible from an earlier screening; the newest decision sets the status either
    # way. Once enrolled, the patient's place in the program is left as it is.
    if patient.status == Status.REFERRED:
        patient_transition(patient=patient, to=Status.SCREENING, by=by, reason=reason)
    if patient.status in (Status.SCREENING, Status.ELIGIBLE, Status.NOT_ELIGIBLE):
        patient_transition(patient=patient, to=target, by=by, reason=reason)
    return screening


@transaction.atomic
def alert_clear(*, alert: SuicideRiskAlert, by: User, note: str) -> SuicideRiskAlert:
    """Close a suicide-risk alert after a clinician's documented review."""
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can clear a suicide-risk alert.")
    if not note.strip():
        raise ValidationError("Document your review before clearing the alert.")
    alert = SuicideRiskAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != SuicideRiskAlert.Status.OPEN:
        raise ValidationError("This alert is already cleared.")
    alert.status = SuicideRiskAlert.Status.CLEARED
    alert.cleared_by = by
    alert.cleared_at = timezone.now()
    alert.review_note = note.strip()
    alert.save()
    # The review answers the staff alerts this flag raised: they leave everyone's home page with it.
    staff_alerts_acknowledge(key_prefix=f"suicide-risk-{alert.pk}-", by=by)
    return alert
