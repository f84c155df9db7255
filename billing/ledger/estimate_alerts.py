"""The staff alert when what has been billed for a plan's sessions reaches $400 or more above the good-faith estimate
given for it (the patient may then dispute the bill): raised once per estimate, in the transaction that posts the
charges, to the front office."""

from decimal import Decimal

from django.db.models import Sum

from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import good_faith_estimate as gfe

from ..alerts import bill_alert_raise
from ..ledger_models import Charge, GoodFaithEstimate

ZERO = Decimal("0.00")


def plan_billed(plan_id: int) -> Decimal:
    """What has been billed for the services of the plan's sessions so far."""
    billed = Charge.objects.filter(session__plan_id=plan_id, kind=Charge.Kind.SERVICE).aggregate(total=Sum("amount"))
    return Decimal(billed["total"] or ZERO).quantize(Decimal("0.01"))


def plans_billed(plan_ids) -> dict[int, Decimal]:
    """`plan_billed` for several plans in one aggregate query (a plan with nothing billed is not in it)."""
    rows = (
        Charge.objects.filter(session__plan_id__in=plan_ids, kind=Charge.Kind.SERVICE)
        .values("session__plan_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["session__plan_id"]: Decimal(row["total"] or ZERO).quantize(Decimal("0.01")) for row in rows}


def estimate_alerts_raise(plan_id: int) -> list[StaffAlert]:
    """Alert the front office for each estimate of the plan that billed charges now exceed by $400 or more."""
    estimates = list(GoodFaithEstimate.objects.filter(plan_id=plan_id).select_related("plan__protocol"))
    if not estimates:
        return []
    billed = plan_billed(plan_id)
    alerts = []
    for estimate in estimates:
        if not gfe.exceeds_estimate(billed=billed, estimated=estimate.total):
            continue
        alerts.append(
            bill_alert_raise(
                kind=StaffAlert.Kind.ESTIMATE_EXCEEDED,
                key=f"estimate-exceeded-{estimate.pk}",
                patient_id=estimate.patient_id,
                summary=(
                    f"Billed ${billed} for {estimate.plan.protocol.name}, $400 or more above the good-faith estimate "
                    f"of ${estimate.total}: the patient may dispute the bill"
                ),
            )
        )
    return alerts
