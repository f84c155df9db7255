"""One superbill over a period (a quarter, say) across the patient's invoices, read back from the PDF: the lines of
every invoice dated in the period, the payments received in it, nothing outside it and nothing of another patient's;
who may download it, and the read it records."""

import io
from datetime import UTC, date, datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from pypdf import PdfReader

from billing.ledger.invoices import invoice_create, invoice_void, payment_record
from billing.ledger.superbill import period_superbill, render_superbill
from kap_clinic.kernel.clinic.models import ClinicSettings
from screening.models import Diagnosis
from screening.services import screening_start
from tests.billing.ledger_factories import loose_charge

pytestmark = pytest.mark.django_db

Q1 = {"start": "2027-01-01", "end": "2027-03-31"}


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def billed(patient, other_patient, front_desk, time_machine):
    """Patient A: two invoices with lines in the first quarter of 2027, a third with a line in April; a payment in
    the quarter and one after it. Patient B: a line and a payment in the same quarter. Billed in May 2027."""
    time_machine.move_to(datetime(2027, 5, 3, 15, 0, tzinfo=UTC))
    policy = ClinicSettings.load()
    policy.billing_provider_name = "Harbor Ketamine Clinic"
    policy.billing_npi = "1234567893"
    policy.billing_tax_id = "12-3456789"
    policy.save()
    Diagnosis.objects.create(
        screening=screening_start(patient=patient, by=front_desk),
        icd10_code="F33.2",
        description="Major depressive disorder, recurrent, severe",
        is_primary=True,
    )
    Diagnosis.objects.create(
        screening=screening_start(patient=other_patient, by=front_desk), icd10_code="F43.10", description="PTSD"
    )
    loose_charge(patient, "110.00", code="99213", day=date(2027, 1, 11))
    loose_charge(patient, "180.00", code="90837", day=date(2027, 2, 1))
    first = invoice_create(patient=patient, by=front_desk)
    loose_charge(patient, "250.00", code="90791", day=date(2027, 3, 31))
    second = invoice_create(patient=patient, by=front_desk)
    loose_charge(patient, "160.00", code="99214", day=date(2027, 4, 1))
    third = invoice_create(patient=patient, by=front_desk)
    payment_record(invoice=first, amount="100.00", method="card", by=front_desk, received_on=date(2027, 2, 20))
    payment_record(invoice=third, amount="60.00", method="cash", by=front_desk, received_on=date(2027, 4, 10))
    loose_charge(other_patient, "220.00", code="99215", day=date(2027, 2, 15))
    theirs = invoice_create(patient=other_patient, by=front_desk)
    payment_record(invoice=theirs, amount="77.00", method="check", by=front_desk, received_on=date(2027, 2, 16))
    return {"invoices": (first, second, third), "theirs": theirs}


def test_the_quarter_holds_the_lines_of_both_invoices_and_its_payments_only(patient, billed):
    text = text_of(render_superbill(period_superbill(patient=patient, start=date(2027, 1, 1), end=date(2027, 3, 31))))
    for expected in [
        "Superbill",
        "services from 01/01/2027 to 03/31/2027",
        "Harbor Ketamine Clinic",
        "1234567893",  # NPI
        "12-3456789",  # tax id
        "Ada Quill",
        "05/17/1980",
        "F33.2",
        "01/11/2027",
        "99213",
        "$110.00",
        "02/01/2027",
        "90837",
        "$180.00",
        "03/31/2027",  # the last day is in the period
        "90791",
        "$250.00",
        "Total charged: $540.00",
        "02/20/2027",
        "Card",
        "Total paid: $100.00",
    ]:
        assert expected in text, expected
    for absent in ["99214", "$160.00", "04/01/2027", "04/10/2027", "$60.00", "Cash"]:  # after the period
        assert absent not in text, absent
    for absent in ["Bram", "Holt", "99215", "$220.00", "F43.10", "$77.00", "02/15/2027"]:  # the other patient's
        assert absent not in text, absent


def test_a_void_invoice_is_left_out(patient, billed, front_desk):
    invoice_void(invoice=billed["invoices"][1], reason="Issued in error", by=front_desk)
    bill = period_superbill(patient=patient, start=date(2027, 1, 1), end=date(2027, 3, 31))
    assert [line.code for line in bill.lines] == ["99213", "90837"]


def test_front_desk_downloads_it_from_the_billing_page_and_the_read_is_recorded(
    client_for, patient, front_desk, billed
):
    client = client_for(front_desk)
    page = client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk})).content.decode()
    url = reverse("billing:period_superbill", kwargs={"patient_pk": patient.pk})
    assert f'href="{url}"' in page
    form = client.get(url)
    assert form.status_code == 200 and 'name="start"' in form.content.decode()
    reads = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=front_desk, additional_data__patient_id=patient.pk
    )
    before = reads.count()
    response = client.get(url, Q1)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="superbill-20270101-20270331.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert "90791" in text_of(response.content) and "99215" not in text_of(response.content)
    assert reads.count() == before + 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2027-03-31", "end": "2027-01-01"}, "The period must end on or after its first day."),
        ({"start": "2026-01-01", "end": "2027-03-31"}, "A superbill covers at most a year: choose a shorter period."),
        ({"start": "2027-13-01", "end": "2027-03-31"}, "Enter a valid date."),
        ({"start": "", "end": "2027-03-31"}, "This field is required."),
        (
            {"start": "2026-06-01", "end": "2026-06-30"},
            "No invoiced services or payments between 06/01/2026 and 06/30/2026.",
        ),
    ],
)
def test_a_period_that_will_not_do_is_shown_again_with_the_reason(
    client_for, patient, front_desk, billed, query, message
):
    response = client_for(front_desk).get(reverse("billing:period_superbill", kwargs={"patient_pk": patient.pk}), query)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    for typed in query.values():
        if typed:
            assert f'value="{typed}"' in page  # what was typed is shown again


def test_the_patient_downloads_their_own_in_the_portal_and_nobody_elses(
    client_for, patient, patient_user, other_patient_user, billed
):
    client = client_for(patient_user)
    url = reverse("billing:portal_period_superbill")
    assert f'href="{url}"' in client.get(reverse("billing:portal_billing")).content.decode()
    reads = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=patient_user, additional_data__patient_id=patient.pk
    )
    before = reads.count()
    own = client.get(url, {**Q1, "patient": billed["theirs"].patient_id, "patient_pk": billed["theirs"].patient_id})
    assert own.status_code == 200
    text = text_of(own.content)
    assert "Ada Quill" in text and "90791" in text and "Holt" not in text and "99215" not in text
    assert reads.count() == before + 1
    # Patient B's own download names only B, whatever is added to the address.
    other = client_for(other_patient_user).get(url, {**Q1, "patient": patient.pk})
    text = text_of(other.content)
    assert "Bram Holt" in text and "99215" in text and "Quill" not in text and "90791" not in text


def test_staff_who_do_not_work_accounts_get_nothing_and_no_such_patient_is_not_found(
    client_for, patient, clinician, front_desk, admin_user, patient_user, billed
):
    url = reverse("billing:period_superbill", kwargs={"patient_pk": patient.pk})
    assert client_for(clinician).get(url, Q1).status_code == 403  # clinicians do not work patients' accounts
    assert client_for(patient_user).get(url, Q1).status_code == 403  # the patient's own is in the portal
    assert client_for(admin_user).get(url, Q1).status_code == 200
    missing = reverse("billing:period_superbill", kwargs={"patient_pk": patient.pk + 1000})
    assert client_for(front_desk).get(missing, Q1).status_code == 404
