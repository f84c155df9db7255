"""The dose: the Spravato label's dose rules, the dose itself, the end of dosing and IM top-ups, each written to
the controlled-substance log in the same transaction when given from a lot.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.rules import safety, spravato
from kap_clinic.rules.overrides import MIN_JUSTIFICATION

from ..controlled.services import cs_dose_record, session_logged_mg
from ..models import Discharge, DoseAdministration, DoseTopUp, DosingSession, PreDoseCheck, ProductLot
from ..models.scheduling import Route
from ..scheduling.changes import _set_status
from ..scheduling.planning import follows_spravato_label
from .guards import (
    DOSING_ROLES,
    RECORDING_ROLES,
    _dose_of,
    _lock,
    _minutes_after,
    _require_open,
    _require_past,
    _require_role,
    _require_session_day,
)
from .predose import dosing_problems

MG = Decimal("0.1")


def dose_mg_for(*, dose_mg_per_kg: Decimal, weight_kg: Decimal) -> Decimal:
    """Milligrams for a weight-based dose, to the nearest 0.1 mg (0.5 mg/kg x 70.0 kg = 35.0 mg)."""
    return (dose_mg_per_kg * weight_kg).quantize(MG, rounding=ROUND_HALF_UP)


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
    """A clinician's top-up dose during an IM session; observation counts from the last one. Top-ups above 40 mg in all
    (docs/clinical-references.md#cadence: an optional 20-40 mg top-up) need the clinician's written reason. With a
    `lot`, the controlled-substance log records it as given from that lot in this transaction, as for the dose."""
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
    dose_mg = dose_mg.quantize(MG, rounding=ROUND_HALF_UP)
    reason = (reason or "").strip()
    earlier = DoseTopUp.objects.filter(session=session).aggregate(total=Sum("dose_mg"))["total"] or Decimal("0")
    if earlier + dose_mg > safety.IM_TOP_UP_MAX_MG and len(reason) < MIN_JUSTIFICATION:
        raise ValidationError(
            f"Top-ups in this session would come to {(earlier + dose_mg).normalize():f} mg, more than "
            f"{safety.IM_TOP_UP_MAX_MG.normalize():f} mg: write at least {MIN_JUSTIFICATION} characters explaining why."
        )
    top_up = DoseTopUp.objects.create(
        session=session,
        dose_mg=dose_mg,
        given_at=given_at,
        reason=reason,
        given_by=by,
    )
    _log_given(
        session, lot=lot, mg=top_up.dose_mg, wasted_mg=wasted_mg, witness=witness, by=by, at=given_at, what="top-up"
    )
    return top_up
