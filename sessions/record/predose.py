"""The pre-dose checklist and its gate: the checks, the raised-blood-pressure and low suicide-risk
acknowledgements, and why a dose cannot be given yet (`dosing_problems`).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.rules import safety
from screening.models import SuicideRiskAlert
from screening.services import open_risk_alerts, risk_alert_raise

from ..consent.services import consent_problems
from ..models import DosingSession, PreDoseCheck, PreDoseRiskAcknowledgement
from ..models.record import bp_level, vital_limits
from ..rems.planning import rems_enrollment_problems
from .guards import (
    RECORDING_ROLES,
    _lock,
    _require_checklist_open,
    _require_open,
    _require_reason,
    _require_role,
    _require_session_day,
)

# Pre-dose blood-pressure rules (docs/clinical-references.md#blood-pressure), with the clinic's thresholds (Clinic
# settings; defaults 140/90 and 180/110). Above the flag a clinician acknowledges the reading before dosing (Spravato
# label "general guide"); above the hold dosing stops unless a clinician overrides in writing. The hold numbers are
# clinic policy with no published consensus [verify with the clinical lead, docs/clinical-references.md#open-questions].
BP_OK, BP_FLAG, BP_HOLD = "", PreDoseCheck.BpLevel.FLAG, PreDoseCheck.BpLevel.HOLD


@transaction.atomic
def pre_dose_check_record(
    *,
    session: DosingSession,
    by: User,
    is_fasting_confirmed: bool,
    escort_name: str,
    sbp: int | None,
    dbp: int | None,
    hr: int | None,
    spo2: int | None,
    rr: int | None,
    rescreen_code: str = "",
    rescreen_answers: list[int | None] | None = None,
    is_possibly_pregnant: bool | None = None,
    is_consent_confirmed: bool | None = None,
) -> PreDoseCheck:
    """Save the pre-dose checklist, complete or not, until the dose; new BP numbers need a new acknowledgement.

    A positive answer in the dosing-day suicide-risk re-screen opens an alert of its triage level there and then
    (C-SSRS triage, docs/clinical-references.md#c-ssrs), which the pre-dose gate then holds dosing on. Consent is
    checked against the route's versioned consent form (`consent_problems`), no longer a checkbox here.
    """
    _require_role(by, *RECORDING_ROLES, doing="record pre-dose checks")
    session = _lock(session)
    _require_open(session)
    _require_checklist_open(session)
    now = timezone.now()
    _require_session_day(session, now, "Pre-dose checks")
    check = PreDoseCheck.objects.filter(session=session).first() or PreDoseCheck(session=session)
    if (check.sbp, check.dbp) != (sbp, dbp) and check.bp_acknowledged_level:
        # The acknowledgement was for other numbers.
        check.bp_acknowledged_level, check.bp_acknowledged_by, check.bp_acknowledged_at = "", None, None
        check.bp_acknowledgement_reason = check.bp_symptom_check = ""
    if is_consent_confirmed is not None:  # the old per-session checkbox: kept on old records, never wiped by a re-save
        check.is_consent_confirmed = is_consent_confirmed
    check.is_fasting_confirmed = is_fasting_confirmed
    check.escort_name = (escort_name or "").strip()
    check.sbp, check.dbp, check.hr, check.spo2, check.rr = sbp, dbp, hr, spo2, rr
    level = "none"
    if rescreen_code:
        try:
            level = safety.rescreen_risk_level(rescreen_code, list(rescreen_answers or []))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    check.rescreen_code, check.rescreen_answers = rescreen_code, list(rescreen_answers or []) if rescreen_code else []
    check.rescreen_level = level if rescreen_code else ""
    check.is_possibly_pregnant = is_possibly_pregnant if check.pregnancy_question_applies else None
    check.checked_by, check.checked_at = by, now
    check.full_clean(exclude=["session"])
    check.save()
    if level != "none":
        risk_alert_raise(
            patient=session.patient,
            code="phq9" if rescreen_code == safety.PHQ9_ITEM9 else "cssrs",
            level=level,
            source=SuicideRiskAlert.Source.DOSING_DAY,
            source_ref=f"session-{session.pk}",
        )
    return check


@transaction.atomic
def pre_dose_risk_acknowledge(
    *, session: DosingSession, by: User, alert_id: int, note: str
) -> PreDoseRiskAcknowledgement:
    """A clinician's written acknowledgement, before this session's dose, of an open low suicide-risk alert."""
    _require_role(by, Role.CLINICIAN, doing="acknowledge a suicide-risk alert")
    session = _lock(session)
    _require_open(session)
    _require_checklist_open(session)
    alert = SuicideRiskAlert.objects.filter(
        pk=alert_id, patient=session.patient, status=SuicideRiskAlert.Status.OPEN
    ).first()
    if alert is None:
        raise ValidationError("Choose an open suicide-risk alert of this patient.")
    if alert.level != "low":
        raise ValidationError(
            f"A {alert.get_level_display().lower()} suicide-risk alert is not acknowledged here: "
            "a clinician reviews and clears it first."
        )
    note = (note or "").strip()
    if not note:
        raise ValidationError("Write what you reviewed before dosing.")
    ack, _ = PreDoseRiskAcknowledgement.objects.get_or_create(
        session=session,
        alert=alert,
        defaults={"note": note, "acknowledged_by": by, "acknowledged_at": timezone.now()},
    )
    return ack


@transaction.atomic
def pre_dose_bp_acknowledge(
    *, session: DosingSession, by: User, symptom_check: str, reason: str, override_hold: bool = False
) -> PreDoseCheck:
    """A clinician's written acknowledgement of a raised pre-dose BP; a hard hold also needs an explicit override."""
    _require_role(by, Role.CLINICIAN, doing="acknowledge a raised blood pressure")
    session = _lock(session)
    _require_open(session)
    _require_checklist_open(session)
    check = PreDoseCheck.objects.filter(session=session).first()
    level = bp_level(check.sbp, check.dbp) if check else BP_OK
    if level == BP_OK:
        raise ValidationError("There is no raised pre-dose blood pressure to acknowledge.")
    symptom_check = (symptom_check or "").strip()
    if not symptom_check:
        raise ValidationError("Record the symptom check (headache, chest pain, visual change, neurological signs).")
    if level == BP_HOLD and not override_hold:
        raise ValidationError(
            f"{check.sbp}/{check.dbp} is above the hard hold ({vital_limits().hold_text}): "
            "dosing stays on hold unless you explicitly override it."
        )
    reason = _require_reason(reason, "why dosing may go ahead at this blood pressure")
    check.bp_acknowledged_level = level
    check.bp_acknowledged_by, check.bp_acknowledged_at = by, timezone.now()
    check.bp_symptom_check, check.bp_acknowledgement_reason = symptom_check, reason
    check.save()
    return check


def dosing_problems(session: DosingSession, check: PreDoseCheck | None) -> list[str]:
    """Why a dose cannot be given now; an empty list means the pre-dose gate is open."""
    problems = risk_problems(session)
    problems += rems_enrollment_problems(session)  # Spravato: REMS enrollment before treatment
    problems += consent_problems(session)  # the route's consent form in force today, accepted
    if check is None:
        problems.append("Complete the pre-dose checklist first.")
        return problems
    missing = check.missing()
    if missing:
        problems.append("The pre-dose checklist is missing: " + "; ".join(missing) + ".")
    level = bp_level(check.sbp, check.dbp)
    bp = f"{check.sbp}/{check.dbp}"
    if level == BP_HOLD and check.bp_acknowledged_level != BP_HOLD:
        problems.append(f"Pre-dose BP {bp} is on hard hold: only a clinician's written override lets dosing go ahead.")
    elif level == BP_FLAG and not check.bp_acknowledged_level:
        problems.append(f"Pre-dose BP {bp} is raised: a clinician must acknowledge it before dosing.")
    if check.is_possibly_pregnant:
        # Ketamine and esketamine are not recommended in pregnancy (Spravato label 8.1): the safer course is no dose
        # today; the answer changed to "no" once pregnancy is ruled out reopens the gate (the change is audited).
        problems.append("The patient may be pregnant: no dose today until pregnancy is ruled out.")
    return problems


def risk_problems(session: DosingSession) -> list[str]:
    """What the patient's open suicide-risk alerts (screening, check-in, dosing-day re-screen) ask before a dose.

    C-SSRS triage (docs/clinical-references.md#c-ssrs, #clinical-review): high is a hard stop, moderate needs a
    clinician's review (clearing the alert) the same day, low needs a clinician's acknowledgement before this dose.
    """
    alerts = open_risk_alerts(session.patient)
    acknowledged = set(PreDoseRiskAcknowledgement.objects.filter(session=session).values_list("alert_id", flat=True))
    problems = []
    for alert in alerts:
        when = timezone.localtime(alert.raised_at)
        raised = f"{alert.instrument_name} answer in the {_source_words(alert)}, raised {when:%d %b %H:%M}"
        if alert.level == "high":
            problems.append(
                f"An open high suicide-risk alert stops dosing until a clinician reviews and clears it ({raised})."
            )
        elif alert.level == "moderate":
            problems.append(
                f"An open moderate suicide-risk alert ({raised}) needs a clinician's review today: "
                "review and clear it before dosing."
            )
        elif alert.pk not in acknowledged:
            problems.append(
                f"An open low suicide-risk alert ({raised}) needs a clinician's acknowledgement before dosing."
            )
    return problems


def _source_words(alert: SuicideRiskAlert) -> str:
    return {"checkin": "check-in", "dosing_day": "dosing-day re-screen"}.get(alert.source, "screening")
