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

from ..ledger_models import Adjustment, Charge, Invoice, InvoiceVoidedLine, Payment
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
    for charge in charges:  # one row at a time: the audit trail shows each charge going on the invoice
        charge.invoice = invoice
        charge.save(update_fields=["invoice"])
    return _reconcile(invoice)


def _lock_open(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status == Invoice.Status.VOID:
        raise ValidationError("This invoice is void.")
    return locked


def _check_balance_seen(locked: Invoice, balance_seen) -> None:
    """Refuse money recorded against a balance the invoice no longer has: the same form sent twice."""
    if balance_seen is not None and _money(balance_seen) != locked.balance:
        raise ValidationError(
            f"This invoice changed after the page was opened: ${locked.balance} is owed now. "
            "Check the payments and adjustments listed before recording this again."
        )


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount,
    method: str,
    by: User,
    received_on: date | None = None,
    reference: str = "",
    balance_seen=None,
) -> Payment:
    _check_worker(by)
    locked = _lock_open(invoice)
    _check_balance_seen(locked, balance_seen)
    amount = _money(amount)
    if amount <= 0:
        raise ValidationError("A payment is more than $0.00.")
    if amount > locked.balance:
        raise ValidationError(f"That is more than the ${locked.balance} still owed on this invoice.")
    if method not in Payment.Method.values:
        raise ValidationError("Choose how it was paid.")
    today = timezone.localdate()
    if received_on is not None and received_on > today:
        raise ValidationError({"received_on": f"A payment is received today or earlier, not after {today:%d %b %Y}."})
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
def adjustment_record(*, invoice: Invoice, amount, reason: str, by: User, balance_seen=None) -> Adjustment:
    _check_worker(by)
    locked = _lock_open(invoice)
    _check_balance_seen(locked, balance_seen)
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


@transaction.atomic
def invoice_void(*, invoice: Invoice, reason: str, by: User) -> Invoice:
    """Void an issued invoice on which nothing has been paid or adjusted, with the reason, who and when. It keeps its
    number, totals and a record of its lines (`voided_lines`) but no longer counts in what the patient owes, and its
    charges are free to go on a new invoice."""
    _check_worker(by)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason for voiding the invoice.")
    locked = _lock_open(invoice)
    if locked.total_paid > 0 or locked.status == Invoice.Status.PAID:
        raise ValidationError(
            f"${locked.total_paid} has been paid on this invoice: refund the payment or adjust the balance first. "
            "Only an invoice with nothing paid on it can be voided."
        )
    if locked.total_adjusted > 0:
        raise ValidationError(
            f"${locked.total_adjusted} has been adjusted off this invoice: voiding it would bill those charges again "
            "in full. Correct the balance with an adjustment instead."
        )
    lines = list(locked.lines.select_for_update())
    for line in lines:  # one row at a time: the audit trail shows each charge kept on the record and set free
        InvoiceVoidedLine.objects.create(invoice=locked, charge=line, amount=line.amount)
        line.invoice = None
        line.save(update_fields=["invoice"])
    locked.status, locked.voided_at, locked.voided_by, locked.void_reason = (
        Invoice.Status.VOID,
        timezone.now(),
        by,
        reason,
    )
    # The totals stay as they were billed: balance = charged - paid - adjusted still holds on the void invoice.
    locked.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
    return locked


def patient_balance(patient_id: int) -> dict[str, Decimal]:
    """What the patient owes: on open invoices (never a void one), and charged but not yet invoiced (with the charges
    of a void invoice)."""
    invoiced = _sum(Invoice.objects.filter(patient_id=patient_id, status=Invoice.Status.OPEN), "balance")
    pending = _sum(uninvoiced_charges(patient_id))
    return {"invoiced": invoiced, "not_invoiced": pending, "total": invoiced + pending}
