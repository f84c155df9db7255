"""Invoices, payments and adjustments. An invoice's totals are written only here, from its rows, in the same
transaction as the row that changes them, and the database holds them to balance = charged - paid - adjusted."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from patients.models import Patient

from ..ledger_models import Adjustment, Charge, Invoice, Payment
from .sliding_scale import LEDGER_ROLES

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _check_worker(by: User) -> None:
    if not by.has_role(*LEDGER_ROLES):
        raise PermissionDenied("Only intake staff and admins work patients' accounts.")


def _money(amount) -> Decimal:
    amount = Decimal(amount)
    if amount != amount.quantize(CENT):
        raise ValidationError("Enter an amount in dollars and cents.")
    return amount.quantize(CENT)


def _sum(rows, field: str = "amount") -> Decimal:
    return Decimal(rows.aggregate(total=Sum(field))["total"] or ZERO).quantize(CENT)


def _reconcile(invoice: Invoice) -> Invoice:
    """Totals from the rows; paid once nothing is left to pay."""
    invoice.total_charged = _sum(invoice.lines.all())
    invoice.total_paid = _sum(invoice.payments.all())
    invoice.total_adjusted = _sum(invoice.adjustments.all())
    invoice.balance = invoice.total_charged - invoice.total_paid - invoice.total_adjusted
    if invoice.status != Invoice.Status.VOID:
        invoice.status = Invoice.Status.PAID if invoice.balance == 0 else Invoice.Status.OPEN
    invoice.save(update_fields=["total_charged", "total_paid", "total_adjusted", "balance", "status"])
    return invoice


def uninvoiced_charges(patient_id: int):
    return Charge.objects.filter(patient_id=patient_id, invoice__isnull=True)


@transaction.atomic
def invoice_create(*, patient: Patient, by: User, issued_on: date | None = None) -> Invoice:
    """An invoice for every charge of the patient not yet on one."""
    _check_worker(by)
    Patient.objects.select_for_update().get(pk=patient.pk)  # one invoice at a time per patient
    charges = list(uninvoiced_charges(patient.pk).select_for_update())
    if not charges:
        raise ValidationError("There are no charges to invoice.")
    issued_on = issued_on or timezone.localdate()
    invoice = Invoice.objects.create(patient=patient, number=f"new-{patient.pk}", issued_on=issued_on, created_by=by)
    invoice.number = f"{issued_on:%Y}-{invoice.pk:06d}"
    invoice.save(update_fields=["number"])
    Charge.objects.filter(pk__in=[c.pk for c in charges]).update(invoice=invoice)
    return _reconcile(invoice)


def _lock_open(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status == Invoice.Status.VOID:
        raise ValidationError("This invoice is void.")
    return locked


@transaction.atomic
def payment_record(
    *, invoice: Invoice, amount, method: str, by: User, received_on: date | None = None, reference: str = ""
) -> Payment:
    _check_worker(by)
    locked = _lock_open(invoice)
    amount = _money(amount)
    if amount <= 0:
        raise ValidationError("A payment is more than $0.00.")
    if amount > locked.balance:
        raise ValidationError(f"That is more than the ${locked.balance} still owed on this invoice.")
    if method not in Payment.Method.values:
        raise ValidationError("Choose how it was paid.")
    payment = Payment.objects.create(
        invoice=locked,
        amount=amount,
        method=method,
        reference=reference.strip(),
        received_on=received_on or timezone.localdate(),
        recorded_by=by,
    )
    _reconcile(locked)
    return payment


@transaction.atomic
def adjustment_record(*, invoice: Invoice, amount, reason: str, by: User) -> Adjustment:
    _check_worker(by)
    locked = _lock_open(invoice)
    amount = _money(amount)
    if not reason.strip():
        raise ValidationError("Give the reason for the adjustment.")
    if amount <= 0:
        raise ValidationError("An adjustment is more than $0.00.")
    if amount > locked.balance:
        raise ValidationError(f"That is more than the ${locked.balance} still owed on this invoice.")
    adjustment = Adjustment.objects.create(invoice=locked, amount=amount, reason=reason.strip(), recorded_by=by)
    _reconcile(locked)
    return adjustment


def patient_balance(patient_id: int) -> dict[str, Decimal]:
    """What the patient owes: on open invoices, and charged but not yet invoiced."""
    invoiced = _sum(Invoice.objects.filter(patient_id=patient_id, status=Invoice.Status.OPEN), "balance")
    pending = _sum(uninvoiced_charges(patient_id))
    return {"invoiced": invoiced, "not_invoiced": pending, "total": invoiced + pending}
