"""Reads for the patient ledger's pages, with the access checks: staff see the patients they may open, a patient
sees their own account; anything else is 404."""

from django.db.models import QuerySet
from django.http import Http404

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.rules import good_faith_estimate as gfe
from patients.models import Patient
from patients.selectors import visible_through

from ..ledger_models import Charge, GoodFaithEstimate, Invoice, SlidingScaleAssessment
from .estimate import ZERO, estimate_given_late, estimates_owed
from .estimate_alerts import plans_billed
from .invoices import patient_balance
from .sliding_scale import current_assessment


def _visible(user: User, qs: QuerySet) -> QuerySet:
    if not user.is_authenticated:
        return qs.none()
    if user.role in STAFF_ROLES or user.role == Role.PATIENT:
        return qs.filter(visible_through(user, "patient"))
    return qs.none()


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    return _visible(user, Invoice.objects.select_related("patient"))


def get_invoice_for_user(user: User, pk: int) -> Invoice:
    invoice = invoices_visible_to(user).filter(pk=pk).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def estimates_visible_to(user: User) -> QuerySet[GoodFaithEstimate]:
    return _visible(user, GoodFaithEstimate.objects.select_related("patient", "plan__protocol"))


def get_estimate_for_user(user: User, pk: int) -> GoodFaithEstimate:
    estimate = estimates_visible_to(user).filter(pk=pk).first()
    if estimate is None:
        raise Http404("No such estimate.")
    return estimate


def estimate_rows(estimates) -> list[dict]:
    """Each estimate with what was billed for its plan (one aggregate for all), whether that exceeds it, and whether
    it was given late."""
    billed = plans_billed({e.plan_id for e in estimates}) if estimates else {}
    rows = []
    for e in estimates:
        plan_billed = billed.get(e.plan_id, ZERO)
        rows.append(
            {
                "estimate": e,
                "billed": plan_billed,
                "exceeded": gfe.exceeds_estimate(billed=plan_billed, estimated=e.total),
                "late": estimate_given_late(e),
            }
        )
    return rows


# What the billing page shows of a charge (and of its invoice): the columns it prints, no more.
CHARGE_COLUMNS = (
    "service_date",
    "code",
    "description",
    "units",
    "list_amount",
    "discount_percent",
    "amount",
    "invoice_id",
    "invoice__number",
)


def charges_shown(charges: list[Charge]) -> list[Charge]:
    """A page of charges, each with what its row prints worked out once: the day of service (`day`), the units as
    written on a bill (`units_label`: "2", "1.5"), the discount (`discount_label`: "20%", or nothing) and the invoice's
    number (`invoice_number`, or nothing)."""
    for charge in charges:
        charge.day = charge.service_date.isoformat()
        units = charge.units
        charge.units_label = f"{units:.0f}" if units == units.to_integral_value() else f"{units}"
        charge.discount_label = f"{charge.discount_percent}%" if charge.discount_percent else ""
        charge.invoice_number = charge.invoice.number if charge.invoice_id else ""
    return charges


def patient_billing(patient: Patient) -> dict:
    """Everything on a patient's billing page; its charges and invoices as querysets, newest first, for paging."""
    estimates = list(GoodFaithEstimate.objects.filter(patient=patient).select_related("plan__protocol"))
    rows = estimate_rows(estimates)
    return {
        "balance": patient_balance(patient.pk),
        "charges": Charge.objects.filter(patient=patient)
        .select_related("invoice")
        .only(*CHARGE_COLUMNS)
        .order_by("-service_date", "-pk"),
        "invoices": Invoice.objects.filter(patient=patient).order_by("-issued_on", "-pk"),
        "assessment": current_assessment(patient.pk),
        "assessments": list(SlidingScaleAssessment.objects.filter(patient=patient).select_related("verified_by")),
        "estimates": rows,
        "estimates_exceeded": [row for row in rows if row["exceeded"]],
        "estimates_owed": estimates_owed(patient.pk),
    }


def portal_billing(patient: Patient) -> dict:
    """The patient's own account page; its invoices as a queryset, newest first, for paging."""
    return {
        "balance": patient_balance(patient.pk),
        "invoices": Invoice.objects.filter(patient=patient)
        .exclude(status=Invoice.Status.VOID)
        .order_by("-issued_on", "-pk"),
        "estimates": list(GoodFaithEstimate.objects.filter(patient=patient).select_related("plan__protocol")),
    }
