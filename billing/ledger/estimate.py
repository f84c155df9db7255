"""Good Faith Estimates for self-pay patients (No Surprises Act; docs/clinical-references.md#self-pay):
the expected charges of a treatment plan's planned sessions, priced from the fee schedule with the patient's
sliding-scale discount, given in the portal by the deadline kap_clinic.rules.good_faith_estimate sets, and compared
with what was billed afterwards ($400 or more above it: the patient may dispute the bill)."""

from collections import OrderedDict
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.notifications.alerts import staff_alerts_acknowledge
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import billing_codes, sliding_scale
from kap_clinic.rules import good_faith_estimate as gfe
from patients.models import Patient
from sessions.models import ClinicClosure, DosingSession, TreatmentPlan

from ..alerts import bill_alert_raise
from ..coverage import is_self_pay, self_pay_filter
from ..ledger_models import GoodFaithEstimate
from .charges import charge_lines
from .estimate_alerts import plan_billed
from .fees import fee_lookup
from .sliding_scale import LEDGER_ROLES, current_discount

ZERO = Decimal("0.00")


def _planned(plan: TreatmentPlan):
    return (
        plan.sessions.filter(status__in=DosingSession.ACTIVE_STATUSES).select_related("protocol").order_by("starts_at")
    )


def estimate_lines(
    plan: TreatmentPlan, *, discount: int = 0, weight_kg: Decimal | None = None
) -> tuple[list[dict], Decimal, list[str]]:
    """One line per code over the plan's booked sessions (units added up), the total after the discount, and what the
    estimate assumed. A weight-based dose is estimated from the patient's weight (`weight_kg`); without one, at the
    protocol's highest dose for a heavy patient (`good_faith_estimate.estimated_dose_mg`), which is said. A code
    priced per milligram is estimated in the milligrams expected."""
    totals: OrderedDict[str, dict] = OrderedDict()
    assumptions: list[str] = []
    for session in _planned(plan):
        protocol = session.protocol
        route = protocol.route
        mg, assumed = gfe.estimated_dose_mg(
            planned=session.planned_dose,
            weight_based=protocol.dose_is_weight_based,
            protocol_max=protocol.dose_max,
            weight_kg=weight_kg,
        )
        if assumed:
            note = (
                f"No weight is recorded: each {protocol.name} dose is estimated at the protocol's highest dose, "
                f"{protocol.dose_max.normalize():f} mg/kg, for a patient of {gfe.ASSUMED_HEAVIEST_WEIGHT_KG} kg "
                f"({mg.normalize():f} mg). The estimate will be lower once a weight is recorded."
            )
            if note not in assumptions:
                assumptions.append(note)
        for line in charge_lines(route=route, dose_mg=mg):
            fee = fee_lookup(line.code, route=route)
            if fee is None:
                continue
            row = totals.setdefault(
                line.code,
                {"code": line.code, "description": fee.description, "units": Decimal(0), "unit_price": fee.price},
            )
            row["units"] += Decimal(billing_codes.milligram_units(mg)) if fee.unit == fee.Unit.MG else line.units
    lines, total = [], ZERO
    for row in totals.values():
        list_amount = (row["unit_price"] * row["units"]).quantize(Decimal("0.01"))
        amount = sliding_scale.discounted(list_amount, discount)
        total += amount
        lines.append({**{k: str(v) for k, v in row.items()}, "list_amount": str(list_amount), "amount": str(amount)})
    return lines, total, assumptions


def _holidays(start: date) -> set[date]:
    return set(ClinicClosure.objects.filter(day__gte=start).values_list("day", flat=True))


def estimate_due_by(plan: TreatmentPlan, *, requested: bool = False) -> tuple[date, date, date]:
    """(scheduled on, first service on, due by) for the plan: the deadline counts from the day the first session
    still booked was booked (a plan made earlier, its first sessions since cancelled, does not make it late)."""
    first = _planned(plan).first()
    if first is None:
        raise ValidationError("The plan has no booked sessions to estimate.")
    scheduled_on = timezone.localtime(max(plan.created_at, first.created_at)).date()
    first_on = timezone.localtime(first.starts_at).date()
    due = gfe.estimate_due_by(
        scheduled_on=scheduled_on, first_service_on=first_on, requested=requested, holidays=_holidays(scheduled_on)
    )
    return scheduled_on, first_on, due


@transaction.atomic
def estimate_give(*, plan: TreatmentPlan, by: User, requested: bool = False) -> GoodFaithEstimate:
    """Write the estimate for the plan and give it to the patient in the portal now."""
    if not by.has_role(*LEDGER_ROLES):
        raise PermissionDenied("Only intake staff and admins give estimates.")
    scheduled_on, first_on, due = estimate_due_by(plan, requested=requested)
    discount = current_discount(plan.patient_id)
    weight_kg = Patient.objects.filter(pk=plan.patient_id).values_list("weight_kg", flat=True).first()
    lines, total, assumptions = estimate_lines(plan, discount=discount, weight_kg=weight_kg)
    estimate = GoodFaithEstimate.objects.create(
        patient_id=plan.patient_id,
        plan=plan,
        lines=lines,
        total=total,
        assumptions="\n".join(assumptions),
        discount_percent=discount,
        scheduled_on=scheduled_on,
        first_service_on=first_on,
        requested=requested,
        due_by=due,
        given_at=timezone.now(),
        given_by=by,
    )
    staff_alerts_acknowledge(key_prefix=f"{ESTIMATE_DUE_KEY}{plan.pk}-", by=by)  # the reminder to give it is answered
    return estimate


def estimate_billed(estimate: GoodFaithEstimate) -> Decimal:
    """What has been billed for the estimated plan's sessions' services so far."""
    return plan_billed(estimate.plan_id)


def estimate_exceeded(estimate: GoodFaithEstimate) -> bool:
    return gfe.exceeds_estimate(billed=estimate_billed(estimate), estimated=estimate.total)


def estimate_given_late(estimate: GoodFaithEstimate) -> bool:
    """Given after its deadline; the deadline binds only for a patient who paid for their own care that day."""
    given_on = timezone.localtime(estimate.given_at).date()
    return given_on > estimate.due_by and is_self_pay(estimate.patient_id, on=given_on)


def estimates_owed(patient_id: int) -> list[dict]:
    """The patient's active plans with booked sessions and no estimate yet, with the day each is due; only for a
    self-pay or uninsured patient (an insured patient's sessions are billed to the payer)."""
    if not is_self_pay(patient_id):
        return []
    given = set(GoodFaithEstimate.objects.filter(patient_id=patient_id).values_list("plan_id", flat=True))
    owed = []
    for plan in TreatmentPlan.objects.filter(patient_id=patient_id, status=TreatmentPlan.Status.ACTIVE).select_related(
        "protocol"
    ):
        if plan.pk in given or not _planned(plan).exists():
            continue
        owed.append({"plan": plan, "due_by": estimate_due_by(plan)[2]})
    return owed


ESTIMATE_DUE_KEY = "estimate-due-plan-"


def estimates_due_alert(*, today: date | None = None) -> list[StaffAlert]:
    """The daily check: the front office is alerted, once per plan, for each self-pay or uninsured patient's active
    plan with a booked session and no estimate given whose deadline (No Surprises Act: `estimate_due_by`) has come.
    The alert closes when the estimate is given (`estimate_give`)."""
    today = today or timezone.localdate()
    given = GoodFaithEstimate.objects.values("plan_id")
    plans = (
        TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE)
        .filter(sessions__status__in=DosingSession.ACTIVE_STATUSES)
        .exclude(pk__in=given)
        .filter(self_pay_filter(today))
        .select_related("protocol")
        .distinct()
        .order_by("pk")
    )
    alerts = []
    for plan in plans:
        _, first_on, due = estimate_due_by(plan)
        if due > today:
            continue
        when = "today" if due == today else f"since {due:%a %d %b %Y}: it is late"
        alerts.append(
            bill_alert_raise(
                kind=StaffAlert.Kind.ESTIMATE_DUE,
                key=f"{ESTIMATE_DUE_KEY}{plan.pk}-owed",
                patient_id=plan.patient_id,
                summary=(
                    f"Good-faith estimate due {when}, for the {plan.protocol.name} sessions booked from "
                    f"{first_on:%d %b %Y} (the patient pays for their own care)"
                ),
            )
        )
    return alerts
