"""The superbill PDF for out-of-network reimbursement, read back: provider NPI and tax id, the patient, ICD-10
diagnoses, each service's code with units and fee, and the dates of service."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from billing.ledger.invoices import invoice_create
from billing.ledger.superbill import superbill_pdf
from kap_clinic.kernel.clinic.models import ClinicSettings
from screening.models import Diagnosis
from screening.services import screening_start
from tests.billing.factories import book
from tests.billing.ledger_factories import SERVICE_DAY, complete, spravato_session

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def invoiced(patient, clinician, front_desk):
    policy = ClinicSettings.load()
    policy.billing_provider_name = "Harbor Ketamine Clinic"
    policy.billing_npi = "1234567893"
    policy.billing_tax_id = "12-3456789"
    policy.save()
    screening = screening_start(patient=patient, by=front_desk)
    Diagnosis.objects.create(
        screening=screening,
        icd10_code="F33.2",
        description="Major depressive disorder, recurrent, severe",
        is_primary=True,
    )
    complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))
    complete(spravato_session(patient, clinician, date(2027, 2, 8), dose="84"))
    return invoice_create(patient=patient, by=front_desk)


def test_the_superbill_carries_what_an_insurer_asks_for(invoiced):
    text = text_of(superbill_pdf(invoiced))
    for expected in [
        "Superbill",
        "Harbor Ketamine Clinic",
        "1234567893",  # NPI
        "12-3456789",  # tax id
        "Ada Quill",
        "05/17/1980",
        "F33.2",
        "96365",
        "J3490",
        "G2083",
        "02/01/2027",  # dates of service
        "02/08/2027",
        "$200.00",
        "$1289.82",
        "Total charged: $1539.82",
    ]:
        assert expected in text, expected
    assert invoiced.lines.get(code="G2083").units == Decimal("1")


def test_staff_and_the_patient_download_it_and_nobody_else(
    client_for, invoiced, front_desk, patient_user, other_patient_user, other_clinician
):
    staff = client_for(front_desk).get(reverse("billing:superbill", kwargs={"pk": invoiced.pk}))
    assert staff.status_code == 200 and staff["Content-Type"] == "application/pdf"
    assert "Quill" not in staff["Content-Disposition"]  # the file name names no patient
    own = client_for(patient_user).get(reverse("billing:portal_superbill", kwargs={"pk": invoiced.pk}))
    assert own.status_code == 200 and "F33.2" in text_of(own.content)
    assert (
        client_for(other_patient_user).get(reverse("billing:portal_superbill", kwargs={"pk": invoiced.pk})).status_code
        == 404
    )
    assert client_for(other_clinician).get(reverse("billing:superbill", kwargs={"pk": invoiced.pk})).status_code == 404
