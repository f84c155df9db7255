"""The superbill: an itemized statement a patient sends their insurer for out-of-network reimbursement (provider
NPI and tax id, the patient, ICD-10 diagnoses, each service's date, code, units and fee, the payments received), as
a PDF. One renderer draws any list of lines: an invoice's, or every invoiced line of a patient's over a period (a
quarter, say) across invoices."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone

from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.pdf import render_pdf
from patients.models import Patient
from screening.models import Diagnosis

from ..ledger_models import Charge, Invoice, Payment

PRINT_CSS = "css/print.css"
TEMPLATE = "billing/ledger/superbill_pdf.html"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Superbill:
    """What one superbill states: the patient's lines and the payments received, and what the statement covers."""

    patient: Patient
    lines: Sequence[Charge]
    payments: Sequence[Payment]
    covers: str  # for the subtitle: "invoice INV-2027-0001", "services from 01/01/2027 to 03/31/2027"
    invoice: Invoice | None = None

    @property
    def total_charged(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def total_paid(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), ZERO)


def diagnosis_codes(patient_id: int) -> list[dict]:
    """The patient's ICD-10 diagnoses, primary first, each code once."""
    seen, codes = set(), []
    for diagnosis in Diagnosis.objects.filter(screening__patient_id=patient_id).order_by("-is_primary", "-pk"):
        if diagnosis.icd10_code not in seen:
            seen.add(diagnosis.icd10_code)
            codes.append({"code": diagnosis.icd10_code, "description": diagnosis.description})
    return codes


def invoice_superbill(invoice: Invoice) -> Superbill:
    return Superbill(
        patient=invoice.patient,
        lines=list(invoice.lines.all()),
        payments=list(invoice.payments.all()),
        covers=f"invoice {invoice.number}",
        invoice=invoice,
    )


def period_superbill(*, patient: Patient, start: date, end: date) -> Superbill:
    """Every service of this patient's dated within start..end (inclusive) that is on an invoice that is not void,
    whichever invoice, and the payments received on their invoices within the period."""
    lines = (
        Charge.objects.filter(patient=patient, invoice__isnull=False, service_date__range=(start, end))
        .exclude(invoice__status=Invoice.Status.VOID)
        .order_by("service_date", "pk")
    )
    payments = (
        Payment.objects.filter(invoice__patient=patient, received_on__range=(start, end))
        .exclude(invoice__status=Invoice.Status.VOID)
        .order_by("received_on", "pk")
    )
    return Superbill(
        patient=patient,
        lines=list(lines),
        payments=list(payments),
        covers=f"services from {start:%m/%d/%Y} to {end:%m/%d/%Y}",
    )


def superbill_context(bill: Superbill) -> dict:
    return {
        "bill": bill,
        "invoice": bill.invoice,
        "patient": bill.patient,
        "lines": bill.lines,
        "payments": bill.payments,
        "diagnoses": diagnosis_codes(bill.patient.pk),
        "clinic": ClinicSettings.load(),
        "printed_on": timezone.localdate(),
        "stylesheet": PRINT_CSS,
    }


def render_superbill(bill: Superbill) -> bytes:
    """The superbill's PDF, drawn from the clinic's static files only (kap_clinic.kernel.pdf)."""
    return render_pdf(render_to_string(TEMPLATE, superbill_context(bill)))


def superbill_pdf(invoice: Invoice) -> bytes:
    return render_superbill(invoice_superbill(invoice))
