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

from kap_clinic.accounts.models import User
from kap_clinic.accounts.roles import Role
from kap_clinic.notifications.alerts import staff_alert_raise
from kap_clinic.notifications.models import StaffAlert
from screening.services import dosing_blocked_by_risk

from .models import (
    AdverseEvent,
    Discharge,
    DoseAdministration,
    DosingSession,
    PreDoseCheck,
    RecordAmendment,
    RecordSignature,
    ScaleScore,
    VitalSign,
)
from .models.record import DISCHARGE_CRITERIA, SIGNED_MESSAGE
from .rems import rems_can_sign
from .services import MIN_JUSTIFICATION, _set_status

# Pre-dose blood-pressure rules (DOMAIN 2.3). Above the flag values a clinician acknowledges the reading before
# dosing (Spravato label "general guide"); above the hold values dosing stops unless a clinician overrides in writing.
# The hold numbers are clinic policy with no published consensus [verify with the clinical lead, DOMAIN 9.3].
BP_FLAG_SYSTOLIC = 140
BP_FLAG_DIASTOLIC = 90
BP_HOLD_SYSTOLIC = 180
BP_HOLD_DIASTOLIC = 110

BP_OK, BP_FLAG, BP_HOLD = "", PreDoseCheck.BpLevel.FLAG, PreDoseCheck.BpLevel.HOLD

RECORDING_ROLES = (Role.CLINICIAN, Role.INTAKE)
OPEN_FOR_DOSING = (DosingSession.Status.SCHEDULED, DosingSession.Status.CHECKED_IN)
CLOSED = (DosingSession.Status.CANCELLED, DosingSession.Status.NO_SHOW)
# A typed time may run a little ahead of the server clock; more than this is a typing slip.
CLOCK_SLACK = timedelta(minutes=2)
MG = Decimal("0.1")


def bp_level(sbp: int | None, dbp: int | None) -> str:
    """The pre-dose rule a reading falls under: hold, flag, or "" (within limits or not taken)."""
    if (sbp is not None and sbp > BP_HOLD_SYSTOLIC) or (dbp is not None and dbp > BP_HOLD_DIASTOLIC):
        return BP_HOLD
    if (sbp is not None and sbp > BP_FLAG_SYSTOLIC) or (dbp is not None and dbp > BP_FLAG_DIASTOLIC):
        return BP_FLAG
    return BP_OK


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
    if session.status in CLOSED:
        raise ValidationError(f"The session is {session.get_status_display().lower()}; there is nothing to record.")


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
    is_consent_confirmed: bool,
    is_fasting_confirmed: bool,
    escort_name: str,
    sbp: int | None,
    dbp: int | None,
    hr: int | None,
    spo2: int | None,
    rr: int | None,
) -> PreDoseCheck:
    """Save the pre-dose checklist, complete or not, until the dose; new BP numbers need a new acknowledgement."""
    _require_role(by, *RECORDING_ROLES, doing="record pre-dose checks")
    session = _lock(session)
    _require_open(session)
    if DoseAdministration.objects.filter(session=session).exists():
        raise ValidationError("The dose has been given; the pre-dose checklist can no longer change.")
    now = timezone.now()
    _require_session_day(session, now, "Pre-dose checks")
    check = PreDoseCheck.objects.filter(session=session).first() or PreDoseCheck(session=session)
    if (check.sbp, check.dbp) != (sbp, dbp) and check.bp_acknowledged_level:
        # The acknowledgement was for other numbers.
        check.bp_acknowledged_level, check.bp_acknowledged_by, check.bp_acknowledged_at = "", None, None
        check.bp_acknowledgement_reason = check.bp_symptom_check = ""
    check.is_consent_confirmed = is_consent_confirmed
    check.is_fasting_confirmed = is_fasting_confirmed
    check.escort_name = (escort_name or "").strip()
    check.sbp, check.dbp, check.hr, check.spo2, check.rr = sbp, dbp, hr, spo2, rr
    check.checked_by, check.checked_at = by, now
    check.full_clean(exclude=["session"])
    check.save()
    return check


@transaction.atomic
def pre_dose_bp_acknowledge(
    *, session: DosingSession, by: User, symptom_check: str, reason: str, override_hold: bool = False
) -> PreDoseCheck:
    """A clinician's written acknowledgement of a raised pre-dose BP; a hard hold also needs an explicit override."""
    _require_role(by, Role.CLINICIAN, doing="acknowledge a raised blood pressure")
    session = _lock(session)
    _require_open(session)
    if DoseAdministration.objects.filter(session=session).exists():
        raise ValidationError("The dose has been given; the pre-dose checklist can no longer change.")
    check = PreDoseCheck.objects.filter(session=session).first()
    level = bp_level(check.sbp, check.dbp) if check else BP_OK
    if level == BP_OK:
        raise ValidationError("There is no raised pre-dose blood pressure to acknowledge.")
    symptom_check = (symptom_check or "").strip()
    if not symptom_check:
        raise ValidationError("Record the symptom check (headache, chest pain, visual change, neurological signs).")
    if level == BP_HOLD and not override_hold:
        raise ValidationError(
            f"{check.sbp}/{check.dbp} is above the hard hold ({BP_HOLD_SYSTOLIC}/{BP_HOLD_DIASTOLIC}): "
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
    problems = []
    if dosing_blocked_by_risk(session.patient):
        problems.append(
            "An open high suicide-risk alert stops dosing until a clinician reviews and clears it (DOMAIN 1.4)."
        )
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
    return problems


# ---- Dose ----------------------------------------------------------------------------------------


@transaction.atomic
def dose_record(
    *,
    session: DosingSession,
    by: User,
    dose: Decimal,
    dosed_at: datetime | None = None,
    override_reason: str = "",
) -> DoseAdministration:
    """Record the dose once the pre-dose gate is open, within the protocol's range unless a clinician overrides.

    `dose` is in the protocol's unit: mg/kg (converted with the patient's weight) or mg. The session is then in
    progress, and `dosed_at` anchors every monitoring time.
    """
    _require_role(by, *RECORDING_ROLES, doing="record a dose")
    session = _lock(session)
    if DoseAdministration.objects.filter(session=session).exists():
        raise ValidationError("The dose for this session is already recorded.")
    if session.status not in OPEN_FOR_DOSING:
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
    if not protocol.dose_min <= dose <= protocol.dose_max:
        unit = protocol.get_dose_unit_display()
        low, high = protocol.dose_min.normalize(), protocol.dose_max.normalize()
        outside = f"{dose.normalize():f} {unit} is outside {protocol.name}'s range of {low:f}–{high:f} {unit}"
        if not reason:
            raise ValidationError(f"{outside}: only a clinician's written override allows it.")
        if not by.has_role(Role.CLINICIAN):
            raise ValidationError(f"{outside}: only a clinician can override the protocol's range.")
        if len(reason) < MIN_JUSTIFICATION:
            raise ValidationError(f"{outside}: write at least {MIN_JUSTIFICATION} characters explaining the override.")
        override_by = by
    else:
        reason = ""
    record = DoseAdministration(
        session=session,
        dose_mg_given=mg,
        dose_mg_per_kg=per_kg,
        weight_kg=weight,
        dosed_at=dosed_at,
        dosed_by=by,
        range_override_by=override_by,
        range_override_reason=reason,
    )
    record.save()
    _set_status(session, DosingSession.Status.IN_PROGRESS, allowed_from=OPEN_FOR_DOSING)
    return record


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
            patient=session.patient,
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


def discharge_earliest_at(session: DosingSession, dose: DoseAdministration) -> datetime:
    """The protocol's minimum monitoring time after the first device / infusion start (DOMAIN 3.4, 4.3)."""
    return dose.dosed_at + timedelta(minutes=session.protocol.monitoring_minutes)


@transaction.atomic
def discharge_record(*, session: DosingSession, by: User, criteria: dict[str, bool], note: str = "") -> Discharge:
    """Discharge after the minimum monitoring time with every readiness criterion met; completes the session."""
    _require_role(by, Role.CLINICIAN, doing="discharge a patient")
    session = _lock(session)
    if Discharge.objects.filter(session=session).exists():
        raise ValidationError("The patient has already been discharged.")
    dose = _dose_of(session)
    now = timezone.now()
    earliest = discharge_earliest_at(session, dose)
    if now < earliest:
        minutes = session.protocol.monitoring_minutes
        raise ValidationError(
            f"{session.protocol.name} needs at least {minutes} minutes of monitoring after the dose: "
            f"discharge from {timezone.localtime(earliest):%H:%M}."
        )
    unmet = [label for name, label in DISCHARGE_CRITERIA if not criteria.get(name)]
    if unmet:
        raise ValidationError(["Discharge criteria not yet met:", *unmet])
    discharge = Discharge(
        session=session,
        note=(note or "").strip(),
        discharged_at=now,
        discharged_by=by,
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

    @property
    def is_signed(self) -> bool:
        return self.signature is not None

    @property
    def bp_level(self) -> str:
        return bp_level(self.check.sbp, self.check.dbp) if self.check else BP_OK

    @property
    def discharge_earliest_at(self) -> datetime | None:
        return discharge_earliest_at(self.session, self.dose) if self.dose else None

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
    )
    if record.dose is None and session.status not in CLOSED:
        record.dosing_problems = dosing_problems(session, check)
    return record
