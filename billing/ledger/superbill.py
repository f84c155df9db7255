"""The superbill: an itemized statement a patient sends their insurer for out-of-network reimbursement (provider
NPI and tax id, the patient, ICD-10 diagnoses, each service's code, units, fee and date), as a PDF by WeasyPrint."""

from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from kap_clinic.kernel.clinic.models import ClinicSettings
from screening.models import Diagnosis

from ..ledger_models import Invoice

PRINT_CSS = "css/print.css"


def diagnosis_codes(patient_id: int) -> list[dict]:
    """The patient's ICD-10 diagnoses, primary first, each code once."""
    seen, codes = set(), []
    for diagnosis in Diagnosis.objects.filter(screening__patient_id=patient_id).order_by("-is_primary", "-pk"):
        if diagnosis.icd10_code not in seen:
            seen.add(diagnosis.icd10_code)
            codes.append({"code": diagnosis.icd10_code, "description": diagnosis.description})
    return codes


def superbill_context(invoice: Invoice) -> dict:
    return {
        "invoice": invoice,
        "patient": invoice.patient,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.all()),
        "diagnoses": diagnosis_codes(invoice.patient_id),
        "clinic": ClinicSettings.load(),
        "printed_on": timezone.localdate(),
        "stylesheet": PRINT_CSS,
    }


def superbill_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango is slow and only PDFs need it

    found = finders.find(PRINT_CSS)
    base_url = str(Path(found).parent.parent) + "/" if found else None
    html = render_to_string("billing/ledger/superbill_pdf.html", superbill_context(invoice))
    return HTML(string=html, base_url=base_url).write_pdf()
