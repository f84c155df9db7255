"""The ledger's pages: staff reach a patient's billing page from the chart; a patient sees their own invoices,
superbills and estimates in the portal and nobody else's (404), and staff outside a patient's care see nothing."""

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.ledger.estimate import estimate_give
from billing.ledger.invoices import invoice_create, invoice_void, payment_record
from billing.models import Invoice
from sessions.models import TreatmentPlan
from tests.billing.factories import book
from tests.billing.ledger_factories import loose_charge

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(patient, other_patient, clinician, other_clinician, front_desk):
    """Each patient's invoice and estimate."""
    made = {}
    for who, their_clinician, hour in ((patient, clinician, 9), (other_patient, other_clinician, 13)):
        loose_charge(who, "200.00")
        book(who, their_clinician, date(2027, 1, 25), hour=hour)
        made[who.pk] = {
            "invoice": invoice_create(patient=who, by=front_desk),
            "estimate": estimate_give(plan=TreatmentPlan.objects.get(patient=who), by=front_desk),
        }
    return made


def test_the_chart_links_to_the_billing_page(client_for, patient, front_desk):
    chart = client_for(front_desk).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    assert reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk}).encode() in chart.content


def test_a_patient_sees_their_own_invoices_and_estimate(client_for, patient, patient_user, accounts):
    mine = accounts[patient.pk]
    client = client_for(patient_user)
    page = client.get(reverse("billing:portal_billing"))
    assert page.status_code == 200
    assert mine["invoice"].number.encode() in page.content
    assert b"You owe <strong>$200.00</strong>" in page.content
    invoice = client.get(reverse("billing:portal_invoice", kwargs={"pk": mine["invoice"].pk}))
    assert invoice.status_code == 200 and b"balance $200.00" in invoice.content
    assert b"Record payment" not in invoice.content  # patients read, staff record
    assert client.get(reverse("billing:portal_estimate", kwargs={"pk": mine["estimate"].pk})).status_code == 200


def test_a_patient_sees_nobody_elses_billing(client_for, patient, other_patient, patient_user, accounts):
    theirs = accounts[other_patient.pk]
    client = client_for(patient_user)
    page = client.get(reverse("billing:portal_billing"))
    assert theirs["invoice"].number.encode() not in page.content
    for name, obj in (
        ("billing:portal_invoice", theirs["invoice"]),
        ("billing:portal_superbill", theirs["invoice"]),
        ("billing:portal_estimate", theirs["estimate"]),
    ):
        assert client.get(reverse(name, kwargs={"pk": obj.pk})).status_code == 404, name
    # The staff addresses are not for patients at all.
    assert (
        client.get(reverse("billing:invoice_detail", kwargs={"pk": accounts[patient.pk]["invoice"].pk})).status_code
        == 403
    )


def test_a_clinician_sees_only_their_own_patients_billing(client_for, patient, other_patient, clinician, accounts):
    client = client_for(clinician)
    theirs = accounts[other_patient.pk]
    assert client.get(reverse("billing:patient_billing", kwargs={"patient_pk": other_patient.pk})).status_code == 404
    assert client.get(reverse("billing:invoice_detail", kwargs={"pk": theirs["invoice"].pk})).status_code == 404
    assert client.get(reverse("billing:estimate_detail", kwargs={"pk": theirs["estimate"].pk})).status_code == 404
    assert client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk})).status_code == 200


def test_staff_cannot_pay_another_patients_invoice_through_their_own(client_for, other_clinician, accounts, patient):
    invoice = accounts[patient.pk]["invoice"]
    response = client_for(other_clinician).post(
        reverse("billing:payment_create", kwargs={"pk": invoice.pk}),
        {"amount": "1.00", "method": "cash", "received_on": "2027-02-01"},
    )
    assert response.status_code == 403  # clinicians do not take payments at all
    assert Invoice.objects.get(pk=invoice.pk).total_paid == 0


def test_the_billing_page_shows_balance_charges_and_invoices(client_for, patient, front_desk, accounts):
    loose_charge(patient, "75.00")
    page = client_for(front_desk).get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk}))
    assert page.status_code == 200
    assert b"Total: $275.00" in page.content
    assert accounts[patient.pk]["invoice"].number.encode() in page.content
    assert b"Invoice the charges not yet invoiced" in page.content


# ---- Voiding an invoice ---------------------------------------------------------------------------------------


def test_front_office_voids_an_invoice_with_a_reason_and_it_is_audited(client_for, patient, front_desk, accounts):
    invoice = accounts[patient.pk]["invoice"]
    client = client_for(front_desk)
    page = client.get(reverse("billing:invoice_detail", kwargs={"pk": invoice.pk}))
    assert b"Void this invoice" in page.content

    response = client.post(reverse("billing:invoice_void", kwargs={"pk": invoice.pk}), {"reason": "Wrong payer"})

    assert response.status_code == 302
    assert response["Location"] == reverse("billing:invoice_detail", kwargs={"pk": invoice.pk})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason, invoice.voided_by) == ("void", "Wrong payer", front_desk)
    change = LogEntry.objects.get_for_object(invoice).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert change.actor == front_desk and change.changes_dict["void_reason"] == ["", "Wrong payer"]
    shown = client.get(reverse("billing:invoice_detail", kwargs={"pk": invoice.pk})).content.decode()
    assert "Void" in shown and "Wrong payer" in shown and "$200.00" in shown  # its number and lines stay
    assert "Void this invoice" not in shown and "Superbill (PDF)" not in shown
    listing = client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk})).content.decode()
    assert invoice.number in listing and "<td>Void</td>" in listing and "void, not owed" in listing
    assert "Owed on invoices: $0.00 · Charged, not yet invoiced: $200.00" in listing
    assert "Invoice the charges not yet invoiced" in listing  # billable again


def test_voiding_without_a_reason_or_after_a_payment_is_refused_on_the_page(client_for, patient, front_desk, accounts):
    invoice = accounts[patient.pk]["invoice"]
    client = client_for(front_desk)
    url = reverse("billing:invoice_void", kwargs={"pk": invoice.pk})

    blank = client.post(url, {"reason": "  "})
    assert blank.status_code == 400 and b"Give the reason for voiding the invoice." in blank.content

    payment_record(invoice=invoice, amount=Decimal("20.00"), method="cash", by=front_desk)
    paid = client.post(url, {"reason": "Billed in error"})
    assert paid.status_code == 400
    assert b"refund the payment or adjust the balance first" in paid.content
    assert b"Billed in error" in paid.content  # what was typed is shown again
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.OPEN


def test_only_front_office_void_and_nobody_voids_what_they_cannot_see(
    client_for, patient, other_patient, patient_user, clinician, front_desk, accounts
):
    mine, theirs = accounts[patient.pk]["invoice"], accounts[other_patient.pk]["invoice"]
    for who, invoice in ((clinician, mine), (patient_user, mine), (patient_user, theirs)):
        response = client_for(who).post(reverse("billing:invoice_void", kwargs={"pk": invoice.pk}), {"reason": "x"})
        assert response.status_code == 403
    missing = client_for(front_desk).post(reverse("billing:invoice_void", kwargs={"pk": 999_999}), {"reason": "x"})
    assert missing.status_code == 404
    invoice_void(invoice=theirs, reason="Wrong payer", by=front_desk)
    # Another patient's invoice, void or not, is not found in the portal.
    assert client_for(patient_user).get(reverse("billing:portal_invoice", kwargs={"pk": theirs.pk})).status_code == 404
    assert Invoice.objects.filter(status=Invoice.Status.VOID).get() == theirs


def test_the_portal_leaves_a_void_invoice_out_of_the_list_and_marks_it_void(
    client_for, patient, patient_user, front_desk, accounts
):
    invoice = invoice_void(invoice=accounts[patient.pk]["invoice"], reason="Wrong payer", by=front_desk)
    client = client_for(patient_user)
    listing = client.get(reverse("billing:portal_billing")).content.decode()
    assert invoice.number not in listing and "You owe <strong>$0.00</strong>" in listing
    page = client.get(reverse("billing:portal_invoice", kwargs={"pk": invoice.pk}))
    assert page.status_code == 200 and b"This invoice was voided" in page.content
    assert b"Wrong payer" not in page.content  # the staff's reason stays with the staff
    assert client.get(reverse("billing:portal_superbill", kwargs={"pk": invoice.pk})).status_code == 404
