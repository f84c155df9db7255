"""The end of the day's record: when observation may end, discharge against the record's facts, the clinician's
signature, and the dated amendments a signed record takes from then on.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.rules import safety
from kap_clinic.rules.overrides import MIN_JUSTIFICATION

from ..controlled.services import cs_session_reconciliation_problems
from ..models import (
    AdverseEvent,
    Discharge,
    DoseAdministration,
    DoseTopUp,
    DosingSession,
    RecordAmendment,
    RecordSignature,
    ScaleScore,
    VitalSign,
)
from ..models.record import DISCHARGE_CRITERIA, vital_limits
from ..rems.delivery import rems_can_sign
from ..scheduling.changes import _set_status
from .guards import RECORDING_ROLES, _dose_of, _lock, _require_role


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

    Ticked boxes do not outweigh the record: what in it contradicts the discharge (no MOAA/S, or sedation not back to
    MOAA/S 5, an unresolved severe or serious adverse event, no post-dose vitals, a last BP at or above the hold, a last
    SpO₂ below the floor or heart rate outside the limits, no Spravato BP at about 40 minutes or before the end of
    monitoring) refuses it unless the clinician overrides in writing; the override is stored and audited.
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
