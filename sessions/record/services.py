"""The session record on the day: pre-dose checks, dosing, monitoring, discharge, signature and amendments.

Every writer locks the session row first, so two people saving at once (or a save racing the signature) take turns,
and refuses once the record is signed. Reads for the record page are at the end.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import safety, spravato
from screening.models import SuicideRiskAlert
from screening.services import open_risk_alerts, risk_alert_raise

from ..consent.services import consent_problems
from ..controlled.services import (
    cs_dose_record,
    cs_session_reconciliation_problems,
    session_logged_mg,
)
from ..models import (
    AdverseEvent,
    Discharge,
    DoseAdministration,
    DoseTopUp,
    DosingSession,
    PreDoseCheck,
    PreDoseRiskAcknowledgement,
    ProductLot,
    RecordAmendment,
    RecordSignature,
    ScaleScore,
    VitalSign,
)
from ..models.record import DISCHARGE_CRITERIA, SIGNED_MESSAGE, bp_level, vital_limits
from ..models.scheduling import Route
from ..rems.delivery import rems_can_sign
from ..rems.planning import rems_enrollment_problems
from ..scheduling.changes import _set_status
from ..scheduling.overrides import MIN_JUSTIFICATION
from ..scheduling.planning import follows_spravato_label

# Pre-dose blood-pressure rules (docs/clinical-references.md#blood-pressure), with the clinic's thresholds (Clinic
# settings; defaults 140/90 and 180/110). Above the flag a clinician acknowledges the reading before dosing (Spravato
# label "general guide"); above the hold dosing stops unless a clinician overrides in writing. The hold numbers are
# clinic policy with no published consensus [verify with the clinical lead, docs/clinical-references.md#open-questions].
BP_OK, BP_FLAG, BP_HOLD = "", PreDoseCheck.BpLevel.FLAG, PreDoseCheck.BpLevel.HOLD

RECORDING_ROLES = (Role.CLINICIAN, Role.INTAKE)
DOSING_ROLES = (Role.CLINICIAN,)
# A typed time may run a little ahead of the server clock; more than this is a typing slip.
CLOCK_SLACK = timedelta(minutes=2)
MG = Decimal("0.1")


def dose_mg_for(*, dose_mg_per_kg: Decimal, weight_kg: Decimal) -> Decimal:
    """Milligrams for a weight-based dose, to the nearest 0.1 mg (0.5 mg/kg x 70.0 kg = 35.0 mg)."""
    return (dose_mg_per_kg * weight_kg).quantize(MG, rounding=ROUND_HALF_UP)


# ---- Shared checks -------------------------------------------------------------------------------


def _require_role(by: User, *roles: str, doing: str) -> None:
    if not by.has_role(*roles):
        raise PermissionDenied(f"Your role cannot {doing}.")


def _lock(session: DosingSession) -> DosingSession:
    """The session row, locked for the rest of the transaction, refusing if its record is signed."""
    session = (
        DosingSession.objects.select_for_update(of=("self",)).select_related("protocol", "patient").get(pk=session.pk)
    )
    if RecordSignature.objects.filter(session=session).exists():
        raise ValidationError(SIGNED_MESSAGE)
    return session


def _require_open(session: DosingSession) -> None:
    if session.status in DosingSession.CLOSED_STATUSES:
        raise ValidationError(f"The session is {session.get_status_display().lower()}; there is nothing to record.")


def _require_checklist_open(session: DosingSession) -> None:
    if DoseAdministration.objects.filter(session=session).exists():
        raise ValidationError("The dose has been given; the pre-dose checklist can no longer change.")


def _require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_JUSTIFICATION:
        raise ValidationError(f"Write at least {MIN_JUSTIFICATION} characters explaining {what}.")
    return reason


def _require_session_day(session: DosingSession, moment: datetime, what: str) -> None:
    if timezone.localdate(moment) != timezone.localdate(session.starts_at):
        day = timezone.localtime(session.starts_at).strftime("%a %d %b %Y")
        raise ValidationError(f"{what} must be on the day of the session ({day}).")


def _require_past(moment: datetime, what: str) -> None:
    if moment > timezone.now() + CLOCK_SLACK:
        raise ValidationError(f"{what} is in the future.")


def _dose_of(session: DosingSession) -> DoseAdministration:
    dose = DoseAdministration.objects.filter(session=session).first()
    if dose is None:
        raise ValidationError("Record the dose first: monitoring times are counted from it.")
    return dose


def _record_link(session: DosingSession) -> str:
    return reverse("sessions:record_detail", args=[session.pk])


def _minutes_after(dose: DoseAdministration, moment: datetime) -> int:
    if moment < dose.dosed_at.replace(second=0, microsecond=0):
        raise ValidationError("That time is before the dose; pre-dose readings belong to the pre-dose checklist.")
    return max(0, int((moment - dose.dosed_at).total_seconds() // 60))


# ---- Pre-dose checklist --------------------------------------------------------------------------


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


# ---- Dose ----------------------------------------------------------------------------------------


def label_dose_problems(session: DosingSession, mg: Decimal) -> list[str]:
    """Dose step: a Spravato dose keeps the label's rules (56 mg first in the series, then 56 or 84 mg in whole
    28 mg devices, 84 mg only after a 56 mg dose: docs/clinical-references.md#spravato, #clinical-review); [] for other
    routes."""
    if not follows_spravato_label(session.protocol):
        return []
    earlier = DoseAdministration.objects.filter(session__plan=session.plan_id).exclude(session=session)
    return spravato.dose_problems(
        mg,
        is_first=not earlier.exists(),
        had_56_before=earlier.filter(dose_mg_given=spravato.FIRST_DOSE_MG).exists(),
    )


@transaction.atomic
def dose_record(
    *,
    session: DosingSession,
    by: User,
    dose: Decimal,
    dosed_at: datetime | None = None,
    override_reason: str = "",
    infusion_minutes: int | None = None,
    infusion_rate_mg_per_min: Decimal | None = None,
    lot: ProductLot | None = None,
    wasted_mg: Decimal | None = None,
    witness: User | None = None,
) -> DoseAdministration:
    """Record the dose once the pre-dose gate is open, within the protocol's range unless a clinician overrides.

    `dose` is in the protocol's unit: mg/kg (converted with the patient's weight) or mg. The session is then in
    progress, and `dosed_at` anchors every monitoring time. With a `lot`, the controlled-substance log records the
    same dose as given from that lot (drawn = the dose plus `wasted_mg`, the waste witnessed) in this transaction.
    """
    # Giving the drug is a clinician's act: intake staff record the check-in and vitals, never the dose.
    _require_role(by, *DOSING_ROLES, doing="record a dose")
    session = _lock(session)
    if DoseAdministration.objects.filter(session=session).exists():
        raise ValidationError("The dose for this session is already recorded.")
    if session.status not in DosingSession.OPEN_FOR_DOSING_STATUSES:
        raise ValidationError(f"A {session.get_status_display().lower()} session cannot be dosed.")
    problems = dosing_problems(session, PreDoseCheck.objects.filter(session=session).first())
    if problems:
        raise ValidationError(problems)
    dosed_at = dosed_at or timezone.now()
    _require_past(dosed_at, "The dose time")
    _require_session_day(session, dosed_at, "The dose")
    check = session.pre_dose_check
    if dosed_at < check.checked_at.replace(second=0, microsecond=0):
        raise ValidationError("The dose time is before the pre-dose checks were recorded.")

    protocol = session.protocol
    per_kg = weight = None
    if protocol.dose_is_weight_based:
        weight = session.patient.weight_kg
        if weight is None:
            raise ValidationError(
                f"{protocol.name} is dosed by mg/kg: record the patient's weight on their chart before dosing."
            )
        per_kg, mg = dose, dose_mg_for(dose_mg_per_kg=dose, weight_kg=weight)
    else:
        mg = dose.quantize(MG, rounding=ROUND_HALF_UP)
    override_by, reason = None, (override_reason or "").strip()
    outside = None
    if not protocol.dose_min <= dose <= protocol.dose_max:
        unit = protocol.get_dose_unit_display()
        low, high = protocol.dose_min.normalize(), protocol.dose_max.normalize()
        outside = f"{dose.normalize():f} {unit} is outside {protocol.name}'s range of {low:f}–{high:f} {unit}"
    else:
        label = label_dose_problems(session, mg)
        if label:
            outside = "Outside the Spravato label's dose rules: " + "; ".join(label)
    if outside:
        if not reason:
            raise ValidationError(f"{outside}: only a clinician's written override allows it.")
        if not by.has_role(Role.CLINICIAN):
            raise ValidationError(f"{outside}: only a clinician can override it.")
        if len(reason) < MIN_JUSTIFICATION:
            raise ValidationError(f"{outside}: write at least {MIN_JUSTIFICATION} characters explaining the override.")
        override_by = by
    else:
        reason = ""
    infusion_minutes, infusion_rate_mg_per_min = _infusion(protocol, mg, infusion_minutes, infusion_rate_mg_per_min)
    record = DoseAdministration(
        session=session,
        dose_mg_given=mg,
        dose_mg_per_kg=per_kg,
        weight_kg=weight,
        dosed_at=dosed_at,
        dosed_by=by,
        range_override_by=override_by,
        range_override_reason=reason,
        infusion_minutes=infusion_minutes,
        infusion_rate_mg_per_min=infusion_rate_mg_per_min,
    )
    logged = session_logged_mg(session)
    if logged > mg or (logged and lot is not None):
        raise ValidationError(
            f"The controlled-substance log already has {logged.normalize():f} mg given in this session: record the "
            f"dose without a lot (it is logged), and make sure the log and the dose agree ({mg.normalize():f} mg)."
        )
    record.save()
    _set_status(session, DosingSession.Status.IN_PROGRESS, allowed_from=DosingSession.OPEN_FOR_DOSING_STATUSES)
    _log_given(session, lot=lot, mg=mg, wasted_mg=wasted_mg, witness=witness, by=by, at=dosed_at, what="dose")
    return record


def _log_given(session, *, lot, mg: Decimal, wasted_mg, witness, by: User, at: datetime, what: str) -> None:
    """The controlled-substance log's draw, administration and waste for a dose the record has just written."""
    if lot is None:
        if wasted_mg:
            raise ValidationError("Choose the lot the waste came from.")
        return
    wasted = wasted_mg or Decimal("0")
    cs_dose_record(
        lot=lot,
        drawn_mg=mg + wasted,
        administered_mg=mg,
        wasted_mg=wasted,
        witness=witness,
        session=session,
        by=by,
        at=at,
        note=f"The session record's {what}.",
    )


def _infusion(protocol, mg: Decimal, minutes: int | None, rate: Decimal | None) -> tuple[int | None, Decimal | None]:
    """An IV dose's duration, typed or worked out from its rate: observation counts from the infusion's end."""
    if protocol.route != Route.IV:
        return None, None
    if not minutes and rate:
        minutes = safety.infusion_minutes_from_rate(mg, rate)
    if not minutes:
        raise ValidationError(
            "Record the infusion's duration (or its rate): observation counts from the end of the infusion."
        )
    if not 1 <= minutes <= 240:
        raise ValidationError("An infusion lasts between 1 and 240 minutes.")
    return minutes, rate


@transaction.atomic
def dosing_end_record(*, session: DosingSession, by: User, ended_at: datetime | None = None) -> DoseAdministration:
    """Record when dosing actually ended: the IV infusion's end, or the last intranasal device."""
    _require_role(by, *RECORDING_ROLES, doing="record the end of dosing")
    session = _lock(session)
    _require_open(session)
    dose = _dose_of(session)
    if session.protocol.route not in (Route.IV, Route.INTRANASAL):
        raise ValidationError("Only an infusion or intranasal doses have an end of dosing to record.")
    if Discharge.objects.filter(session=session).exists():
        raise ValidationError("The patient has already been discharged.")
    ended_at = ended_at or timezone.now()
    _require_past(ended_at, "The end of dosing")
    if ended_at < dose.dosed_at.replace(second=0, microsecond=0):
        raise ValidationError("Dosing cannot end before it started.")
    dose.dosing_ended_at, dose.dosing_ended_by = max(ended_at, dose.dosed_at), by
    dose.save(update_fields=["dosing_ended_at", "dosing_ended_by"])
    return dose


@transaction.atomic
def top_up_record(
    *,
    session: DosingSession,
    by: User,
    dose_mg: Decimal,
    given_at: datetime | None = None,
    reason: str = "",
    lot: ProductLot | None = None,
    wasted_mg: Decimal | None = None,
    witness: User | None = None,
) -> DoseTopUp:
    """A clinician's top-up dose during an IM session; observation counts from the last one. With a `lot`, the
    controlled-substance log records it as given from that lot in this transaction, as for the dose."""
    _require_role(by, Role.CLINICIAN, doing="give a top-up dose")
    session = _lock(session)
    _require_open(session)
    dose = _dose_of(session)
    if session.protocol.route != Route.IM:
        raise ValidationError("Top-up doses are recorded for intramuscular sessions.")
    if Discharge.objects.filter(session=session).exists():
        raise ValidationError("The patient has already been discharged.")
    given_at = given_at or timezone.now()
    _require_past(given_at, "The top-up time")
    _minutes_after(dose, given_at)
    if dose_mg is None or dose_mg <= 0:
        raise ValidationError("Enter the top-up in mg.")
    top_up = DoseTopUp.objects.create(
        session=session,
        dose_mg=dose_mg.quantize(MG, rounding=ROUND_HALF_UP),
        given_at=given_at,
        reason=(reason or "").strip(),
        given_by=by,
    )
    _log_given(
        session, lot=lot, mg=top_up.dose_mg, wasted_mg=wasted_mg, witness=witness, by=by, at=given_at, what="top-up"
    )
    return top_up


# ---- Monitoring ----------------------------------------------------------------------------------


@transaction.atomic
def vital_sign_record(
    *,
    session: DosingSession,
    by: User,
    taken_at: datetime | None = None,
    sbp: int | None = None,
    dbp: int | None = None,
    hr: int | None = None,
    spo2: int | None = None,
    rr: int | None = None,
    position: str = "",
    note: str = "",
) -> VitalSign:
    """Add one set of readings (taken now unless told when) to the timeline, timed in minutes from the dose."""
    _require_role(by, *RECORDING_ROLES, doing="record vital signs")
    session = _lock(session)
    _require_open(session)
    dose = _dose_of(session)
    taken_at = taken_at or timezone.now()
    _require_past(taken_at, "The reading time")
    _require_session_day(session, taken_at, "The reading")
    if all(value is None for value in (sbp, dbp, hr, spo2, rr)):
        raise ValidationError("Enter at least one reading.")
    vital = VitalSign(
        session=session,
        taken_at=taken_at,
        minutes_from_dose=_minutes_after(dose, taken_at),
        sbp=sbp,
        dbp=dbp,
        hr=hr,
        spo2=spo2,
        rr=rr,
        position=position,
        note=(note or "").strip(),
        recorded_by=by,
    )
    vital.full_clean(exclude=["session", "recorded_by"])
    vital.save()
    dangers = safety.dangerous_vitals(sbp=sbp, dbp=dbp, hr=hr, spo2=spo2, limits=vital_limits())
    if dangers:
        # An urgent alert to the patient's clinician and admins, on their home pages and by email
        # (docs/clinical-references.md#blood-pressure: BP at about 40 minutes for Spravato; refer hypertensive-crisis
        # symptoms for emergency care).
        staff_alert_raise(
            kind=StaffAlert.Kind.POST_DOSE_VITALS,
            key=f"post-dose-vitals-{vital.pk}",
            patient_id=session.patient_id,
            clinician_id=session.patient.primary_clinician_id,
            summary=f"Dangerous vital signs {vital.minutes_from_dose} min after a dose: " + "; ".join(dangers) + ".",
            link=_record_link(session) + "#monitoring",
            urgent=True,
        )
    return vital


@transaction.atomic
def scale_score_record(
    *, session: DosingSession, by: User, scale: str, score: int, taken_at: datetime | None = None
) -> ScaleScore:
    """Add a MOAA/S or CADSS score to the timeline; a score outside the scale's range is refused."""
    _require_role(by, *RECORDING_ROLES, doing="record scale scores")
    session = _lock(session)
    _require_open(session)
    dose = _dose_of(session)
    taken_at = taken_at or timezone.now()
    _require_past(taken_at, "The score time")
    _require_session_day(session, taken_at, "The score")
    row = ScaleScore(
        session=session,
        scale=scale,
        score=score,
        taken_at=taken_at,
        minutes_from_dose=_minutes_after(dose, taken_at),
        recorded_by=by,
    )
    row.full_clean(exclude=["session", "recorded_by"])
    row.save()
    return row


@transaction.atomic
def adverse_event_record(
    *,
    session: DosingSession,
    by: User,
    kind: str,
    severity: str,
    onset_at: datetime | None = None,
    other_description: str = "",
    intervention: str = "",
    resolved_at: datetime | None = None,
    is_serious: bool = False,
    is_reportable: bool = False,
    details: str = "",
) -> AdverseEvent:
    """Record an adverse event with its onset, severity and intervention; "other" needs a description."""
    _require_role(by, *RECORDING_ROLES, doing="record adverse events")
    session = _lock(session)
    _require_open(session)
    onset_at = onset_at or timezone.now()
    _require_past(onset_at, "The onset")
    _require_session_day(session, onset_at, "The onset")
    if resolved_at is not None:
        _require_past(resolved_at, "The resolution time")
    event = AdverseEvent(
        session=session,
        kind=kind,
        other_description=(other_description or "").strip() if kind == AdverseEvent.Kind.OTHER else "",
        onset_at=onset_at,
        severity=severity,
        intervention=(intervention or "").strip(),
        resolved_at=resolved_at,
        is_serious=is_serious,
        is_reportable=is_reportable,
        details=(details or "").strip(),
        recorded_by=by,
    )
    if kind == AdverseEvent.Kind.OTHER and not event.other_description:
        raise ValidationError("Describe the event when it is not on the list.")
    if resolved_at is not None and resolved_at < onset_at:
        raise ValidationError("An event cannot resolve before its onset.")
    event.full_clean(exclude=["session", "recorded_by"])
    event.save()
    if event.is_serious or event.severity == AdverseEvent.Severity.SEVERE:
        staff_alert_raise(
            kind=StaffAlert.Kind.ADVERSE_EVENT,
            key=f"adverse-event-{event.pk}",
            patient_id=session.patient_id,
            clinician_id=session.patient.primary_clinician_id,
            summary=f"{'Serious' if event.is_serious else 'Severe'} adverse event recorded during a dosing session.",
            link=reverse("sessions:record_detail", args=[session.pk]),
            urgent=True,
        )
    return event


@transaction.atomic
def adverse_event_resolve(
    *, session: DosingSession, by: User, event_id: int, resolved_at: datetime | None = None
) -> AdverseEvent:
    """Record when an open adverse event of this session resolved."""
    _require_role(by, *RECORDING_ROLES, doing="record adverse events")
    session = _lock(session)
    event = AdverseEvent.objects.filter(session=session, pk=event_id, resolved_at__isnull=True).first()
    if event is None:
        raise ValidationError("Choose an unresolved adverse event of this session.")
    resolved_at = resolved_at or timezone.now()
    _require_past(resolved_at, "The resolution time")
    if resolved_at < event.onset_at:
        raise ValidationError("An event cannot resolve before its onset.")
    event.resolved_at = resolved_at
    event.save(update_fields=["resolved_at"])
    return event


# ---- Discharge, signature, amendments -----------------------------------------------------------


def end_of_dosing_at(session: DosingSession, dose: DoseAdministration, top_ups=None) -> datetime:
    """When dosing ended, the moment observation counts from (docs/clinical-references.md#discharge, #clinical-review):
    the IV infusion's end, the last intranasal device, the last IM top-up; the dose time for other routes."""
    if top_ups is None:
        top_ups = DoseTopUp.objects.filter(session=session)
    planned = safety.planned_end_of_dosing(
        route=session.protocol.route,
        dosed_at=dose.dosed_at,
        dose_mg=dose.dose_mg_given,
        infusion_minutes=dose.infusion_minutes,
    )
    return safety.end_of_dosing(
        planned_end_at=planned, ended_at=dose.dosing_ended_at, top_ups=tuple(t.given_at for t in top_ups)
    )


def monitoring_minutes(session: DosingSession) -> int:
    """The protocol's minimum observation; never under 2 hours for Spravato (REMS), whatever the protocol says."""
    protocol = session.protocol
    return safety.minimum_monitoring_minutes(protocol.monitoring_minutes, requires_rems=protocol.requires_rems)


def discharge_earliest_at(session: DosingSession, dose: DoseAdministration, top_ups=None) -> datetime:
    """The protocol's minimum monitoring time after the end of dosing (docs/clinical-references.md#spravato-visit,
    #discharge)."""
    return end_of_dosing_at(session, dose, top_ups) + timedelta(minutes=monitoring_minutes(session))


def discharge_facts(session: DosingSession, vitals=None, scores=None, events=None) -> safety.DischargeFacts:
    """What the record says now, for `safety.discharge_contradictions`."""
    vitals = list(VitalSign.objects.filter(session=session)) if vitals is None else vitals
    scores = list(ScaleScore.objects.filter(session=session)) if scores is None else scores
    events = list(AdverseEvent.objects.filter(session=session)) if events is None else events
    moaas = [s for s in sorted(scores, key=lambda s: (s.taken_at, s.pk)) if s.scale == ScaleScore.Scale.MOAAS]
    return safety.DischargeFacts(
        readings=tuple(
            safety.Reading(minutes_from_dose=v.minutes_from_dose, sbp=v.sbp, dbp=v.dbp, hr=v.hr, spo2=v.spo2)
            for v in sorted(vitals, key=lambda v: (v.taken_at, v.pk))
        ),
        latest_moaas=moaas[-1].score if moaas else None,
        unresolved_serious_events=tuple(
            e.name
            for e in events
            if e.resolved_at is None and (e.is_serious or e.severity == AdverseEvent.Severity.SEVERE)
        ),
        requires_rems=session.protocol.requires_rems,
    )


@transaction.atomic
def discharge_record(
    *, session: DosingSession, by: User, criteria: dict[str, bool], note: str = "", override_reason: str = ""
) -> Discharge:
    """Discharge after the minimum monitoring time with every readiness criterion met; completes the session.

    Ticked boxes do not outweigh the record: what in it contradicts the discharge (sedation not back to MOAA/S 5, an
    unresolved severe or serious adverse event, no post-dose vitals, a last BP at or above the hold, no Spravato BP at
    about 40 minutes) refuses it unless the clinician overrides in writing; the override is stored and audited.
    """
    _require_role(by, Role.CLINICIAN, doing="discharge a patient")
    session = _lock(session)
    if Discharge.objects.filter(session=session).exists():
        raise ValidationError("The patient has already been discharged.")
    dose = _dose_of(session)
    now = timezone.now()
    earliest = discharge_earliest_at(session, dose)
    if now < earliest:
        raise ValidationError(
            f"{session.protocol.name} needs at least {monitoring_minutes(session)} minutes of monitoring after the end "
            f"of dosing: discharge from {timezone.localtime(earliest):%H:%M}."
        )
    unmet = [label for name, label in DISCHARGE_CRITERIA if not criteria.get(name)]
    if unmet:
        raise ValidationError(["Discharge criteria not yet met:", *unmet])
    contradictions = safety.discharge_contradictions(discharge_facts(session), vital_limits())
    reason = (override_reason or "").strip()
    if contradictions:
        if not reason:
            raise ValidationError(
                [
                    "The record contradicts this discharge:",
                    *contradictions,
                    "Only a clinician's written override allows it.",
                ]
            )
        if len(reason) < MIN_JUSTIFICATION:
            raise ValidationError(
                f"Write at least {MIN_JUSTIFICATION} characters explaining why the patient may leave "
                "despite the record."
            )
    else:
        reason = ""
    discharge = Discharge(
        session=session,
        note=(note or "").strip(),
        discharged_at=now,
        discharged_by=by,
        overridden_contradictions=contradictions,
        override_reason=reason,
        **{name: True for name, _ in DISCHARGE_CRITERIA},
    )
    discharge.save()
    _set_status(session, DosingSession.Status.COMPLETED, allowed_from=(DosingSession.Status.IN_PROGRESS,))
    return discharge


@transaction.atomic
def record_sign(*, session: DosingSession, by: User) -> RecordSignature:
    """A clinician signs the record of a completed session; from then on it only takes amendments."""
    _require_role(by, Role.CLINICIAN, doing="sign a session record")
    session = _lock(session)
    if not Discharge.objects.filter(session=session).exists():
        raise ValidationError("Sign the record once the patient has been discharged.")
    rems = rems_can_sign(session)  # Spravato: the REMS Patient Monitoring Form must be complete first
    if not rems:
        raise ValidationError(list(rems.reasons))
    ledger = cs_session_reconciliation_problems(session)  # the log agrees with the record's doses
    if ledger:
        raise ValidationError(ledger)
    return RecordSignature.objects.create(session=session, signed_by=by, signed_at=timezone.now())


@transaction.atomic
def record_amend(*, session: DosingSession, by: User, text: str) -> RecordAmendment:
    """Append a dated amendment to a signed record; the signed record itself never changes."""
    _require_role(by, *RECORDING_ROLES, doing="amend a session record")
    session = DosingSession.objects.select_for_update(of=("self",)).select_related("patient").get(pk=session.pk)
    if not RecordSignature.objects.filter(session=session).exists():
        raise ValidationError("The record is not signed yet: correct it directly.")
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write the amendment.")
    return RecordAmendment.objects.create(session=session, text=text, author=by)


# ---- Reads ---------------------------------------------------------------------------------------


@dataclass
class SessionRecord:
    """Everything the record page shows for one session, read in a fixed number of queries."""

    session: DosingSession
    check: PreDoseCheck | None
    dose: DoseAdministration | None
    discharge: Discharge | None
    signature: RecordSignature | None
    vitals: list[VitalSign] = field(default_factory=list)
    scores: list[ScaleScore] = field(default_factory=list)
    events: list[AdverseEvent] = field(default_factory=list)
    amendments: list[RecordAmendment] = field(default_factory=list)
    dosing_problems: list[str] = field(default_factory=list)
    top_ups: list[DoseTopUp] = field(default_factory=list)
    limits: safety.VitalLimits = field(default_factory=safety.VitalLimits)
    # Open low suicide-risk alerts a clinician may acknowledge for this dose, and the acknowledgements made.
    low_risk_alerts: list[SuicideRiskAlert] = field(default_factory=list)
    risk_acknowledgements: list[PreDoseRiskAcknowledgement] = field(default_factory=list)

    @property
    def is_signed(self) -> bool:
        return self.signature is not None

    @property
    def bp_level(self) -> str:
        return bp_level(self.check.sbp, self.check.dbp, self.limits) if self.check else BP_OK

    @property
    def end_of_dosing_at(self) -> datetime | None:
        return end_of_dosing_at(self.session, self.dose, self.top_ups) if self.dose else None

    @property
    def discharge_earliest_at(self) -> datetime | None:
        return discharge_earliest_at(self.session, self.dose, self.top_ups) if self.dose else None

    @property
    def monitoring_minutes(self) -> int:
        return monitoring_minutes(self.session)

    @property
    def unacknowledged_low_risk_alerts(self) -> list[SuicideRiskAlert]:
        done = {ack.alert_id for ack in self.risk_acknowledgements}
        return [alert for alert in self.low_risk_alerts if alert.pk not in done]

    @property
    def dangerous_vitals(self) -> list[VitalSign]:
        return [v for v in self.vitals if v.dangers]

    @property
    def discharge_contradictions(self) -> list[str]:
        """What in the record contradicts a discharge now (shown before the clinician tries)."""
        if self.dose is None or self.discharge is not None:
            return []
        facts = discharge_facts(self.session, self.vitals, self.scores, self.events)
        return safety.discharge_contradictions(facts, self.limits)

    @property
    def open_events(self) -> list[AdverseEvent]:
        return [event for event in self.events if event.resolved_at is None]

    def timeline(self) -> list[tuple[datetime, str, object]]:
        """Vitals, scores and adverse events in time order, for the monitoring table."""
        rows = [(v.taken_at, "vitals", v) for v in self.vitals]
        rows += [(s.taken_at, "score", s) for s in self.scores]
        rows += [(e.onset_at, "event", e) for e in self.events]
        return sorted(rows, key=lambda row: (row[0], row[2].pk))


def session_record(session: DosingSession) -> SessionRecord:
    """The whole record of a session the caller has already been allowed to see."""
    users = ("recorded_by",)
    row = (
        DosingSession.objects.select_related(
            "pre_dose_check__checked_by",
            "pre_dose_check__bp_acknowledged_by",
            "dose_administration__dosed_by",
            "dose_administration__range_override_by",
            "discharge__discharged_by",
            "record_signature__signed_by",
        )
        .prefetch_related(
            Prefetch("vital_signs", queryset=VitalSign.objects.select_related(*users)),
            Prefetch("scale_scores", queryset=ScaleScore.objects.select_related(*users)),
            Prefetch("adverse_events", queryset=AdverseEvent.objects.select_related(*users)),
            Prefetch("record_amendments", queryset=RecordAmendment.objects.select_related("author")),
            Prefetch("dose_top_ups", queryset=DoseTopUp.objects.select_related("given_by")),
            Prefetch(
                "risk_acknowledgements",
                queryset=PreDoseRiskAcknowledgement.objects.select_related("acknowledged_by", "alert"),
            ),
        )
        .get(pk=session.pk)
    )

    def related(name):
        return getattr(row, name, None)

    check = related("pre_dose_check")
    record = SessionRecord(
        session=session,
        check=check,
        dose=related("dose_administration"),
        discharge=related("discharge"),
        signature=related("record_signature"),
        vitals=list(row.vital_signs.all()),
        scores=list(row.scale_scores.all()),
        events=list(row.adverse_events.all()),
        amendments=list(row.record_amendments.all()),
        top_ups=list(row.dose_top_ups.all()),
        risk_acknowledgements=list(row.risk_acknowledgements.all()),
        limits=vital_limits(),
    )
    for vital in record.vitals:
        vital.limits = record.limits
        vital.dangers = safety.dangerous_vitals(
            sbp=vital.sbp, dbp=vital.dbp, hr=vital.hr, spo2=vital.spo2, limits=record.limits
        )
    if record.dose is None and session.status not in DosingSession.CLOSED_STATUSES:
        record.dosing_problems = dosing_problems(session, check)
        record.low_risk_alerts = [a for a in open_risk_alerts(session.patient) if a.level == "low"]
    return record
