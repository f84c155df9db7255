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
from kap_clinic.rules import good_faith_estimate as gfe
from kap_clinic.rules import sliding_scale
from sessions.models import ClinicClosure, DosingSession, TreatmentPlan

from ..coverage import is_self_pay
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


def estimate_lines(plan: TreatmentPlan, *, discount: int = 0) -> tuple[list[dict], Decimal]:
    """One line per code over the plan's booked sessions (units added up), and the total after the discount."""
    totals: OrderedDict[str, dict] = OrderedDict()
    for session in _planned(plan):
        route = session.protocol.route
        for line in charge_lines(route=route, dose_mg=session.planned_dose):
            fee = fee_lookup(line.code, route=route)
            if fee is None:
                continue
            row = totals.setdefault(
                line.code,
                {"code": line.code, "description": fee.description, "units": Decimal(0), "unit_price": fee.price},
            )
            row["units"] += line.units
    lines, total = [], ZERO
    for row in totals.values():
        list_amount = (row["unit_price"] * row["units"]).quantize(Decimal("0.01"))
        amount = sliding_scale.discounted(list_amount, discount)
        total += amount
        lines.append({**{k: str(v) for k, v in row.items()}, "list_amount": str(list_amount), "amount": str(amount)})
    return lines, total


def _holidays(start: date) -> set[date]:
    return set(ClinicClosure.objects.filter(day__gte=start).values_list("day", flat=True))


def estimate_due_by(plan: TreatmentPlan, *, requested: bool = False) -> tuple[date, date, date]:
    """(scheduled on, first service on, due by) for the plan."""
    first = _planned(plan).first()
    if first is None:
        raise ValidationError("The plan has no booked sessions to estimate.")
    scheduled_on = timezone.localtime(plan.created_at).date()
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
    lines, total = estimate_lines(plan, discount=discount)
    return GoodFaithEstimate.objects.create(
        patient_id=plan.patient_id,
        plan=plan,
        lines=lines,
        total=total,
        discount_percent=discount,
        scheduled_on=scheduled_on,
        first_service_on=first_on,
        requested=requested,
        due_by=due,
        given_at=timezone.now(),
        given_by=by,
    )


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
