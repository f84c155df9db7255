"""Invoices, payments, adjustments and balances: money is Decimal in NUMERIC columns, and an invoice's balance is its
lines less its payments less its adjustments, always (the service keeps it so, the database refuses otherwise)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.ledger.invoices import (
    adjustment_record,
    invoice_create,
    invoice_void,
    patient_balance,
    payment_record,
)
from billing.models import Charge, Invoice, InvoiceVoidedLine, Payment
from tests.billing.ledger_factories import loose_charge

pytestmark = pytest.mark.django_db


def _rows_balance(invoice: Invoice) -> Decimal:
    def total(rows):
        return rows.aggregate(t=Sum("amount"))["t"] or Decimal("0")

    # A void invoice's lines are the record of what it billed; its charges may have moved on.
    lines = invoice.voided_lines.all() if invoice.status == Invoice.Status.VOID else invoice.lines.all()
    return total(lines) - total(invoice.payments.all()) - total(invoice.adjustments.all())


def test_no_money_is_stored_as_a_float():
    for model in apps.get_app_config("billing").get_models():
        for field in model._meta.get_fields():
            assert not isinstance(field, models.FloatField), f"{model.__name__}.{field.name}"
    assert isinstance(Invoice._meta.get_field("balance"), models.DecimalField)


def test_an_invoice_takes_every_charge_not_yet_invoiced(patient, front_desk):
    loose_charge(patient, "200.00")
    loose_charge(patient, "50.00", code="J3490")
    invoice = invoice_create(patient=patient, by=front_desk)
    assert (invoice.total_charged, invoice.balance, invoice.status) == (Decimal("250.00"), Decimal("250.00"), "open")
    assert invoice.lines.count() == 2
    with pytest.raises(ValidationError):
        invoice_create(patient=patient, by=front_desk)  # nothing left to invoice
    loose_charge(patient, "75.00")
    assert patient_balance(patient.pk) == {
        "invoiced": Decimal("250.00"),
        "not_invoiced": Decimal("75.00"),
        "total": Decimal("325.00"),
    }


def test_invoicing_leaves_an_audit_entry_for_each_charge_on_the_patients_record(patient, front_desk):
    charges = [loose_charge(patient, "120.00"), loose_charge(patient, "30.00", code="90837")]

    invoice = invoice_create(patient=patient, by=front_desk)

    entries = LogEntry.objects.get_for_objects(Charge.objects.filter(pk__in=[c.pk for c in charges])).filter(
        action=LogEntry.Action.UPDATE
    )
    assert sorted(entry.object_id for entry in entries) == sorted(c.pk for c in charges)
    assert all(entry.changes_dict["invoice"][1] == str(invoice.pk) for entry in entries)
    assert {entry.additional_data["patient_id"] for entry in entries} == {patient.pk}
    assert LogEntry.objects.get_for_object(invoice).filter(action=LogEntry.Action.CREATE).exists()


def test_payments_and_adjustments_bring_the_balance_to_paid(patient, front_desk):
    loose_charge(patient, "250.00")
    invoice = invoice_create(patient=patient, by=front_desk)
    payment_record(invoice=invoice, amount=Decimal("100.00"), method="card", by=front_desk)
    with pytest.raises(ValidationError, match="more than"):
        payment_record(invoice=invoice, amount=Decimal("150.01"), method="card", by=front_desk)
    adjustment_record(invoice=invoice, amount=Decimal("25.00"), reason="Courtesy discount", by=front_desk)
    payment_record(invoice=invoice, amount=Decimal("125.00"), method="cash", by=front_desk)
    invoice.refresh_from_db()
    assert (invoice.total_paid, invoice.total_adjusted, invoice.balance) == (
        Decimal("225.00"),
        Decimal("25.00"),
        Decimal("0.00"),
    )
    assert invoice.status == Invoice.Status.PAID
    with pytest.raises(ValidationError):
        adjustment_record(invoice=invoice, amount=Decimal("0.01"), reason="More", by=front_desk)


def test_fractions_of_a_cent_and_reasonless_adjustments_are_refused(patient, front_desk):
    loose_charge(patient, "10.00")
    invoice = invoice_create(patient=patient, by=front_desk)
    with pytest.raises(ValidationError):
        payment_record(invoice=invoice, amount=Decimal("1.005"), method="card", by=front_desk)
    with pytest.raises(ValidationError):
        adjustment_record(invoice=invoice, amount=Decimal("1.00"), reason=" ", by=front_desk)


def test_clinicians_do_not_work_accounts(patient, clinician):
    loose_charge(patient, "10.00")
    with pytest.raises(PermissionDenied):
        invoice_create(patient=patient, by=clinician)


def test_the_database_refuses_a_balance_that_does_not_reconcile(patient, front_desk):
    loose_charge(patient, "10.00")
    invoice = invoice_create(patient=patient, by=front_desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(balance=F("balance") + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total_paid=Decimal("20.00"), balance=Decimal("-10.00"))


cents = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)
operations = st.lists(st.tuples(st.sampled_from(["pay", "adjust", "void"]), cents), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(cents, min_size=1, max_size=5), ops=operations)
def test_the_balance_is_always_lines_less_payments_less_adjustments(patient, front_desk, lines, ops):
    # Each example starts with nothing left to invoice (earlier examples' invoices stay, counted in `before`).
    InvoiceVoidedLine.objects.filter(charge__patient=patient, charge__invoice__isnull=True).delete()
    Charge.objects.filter(patient=patient, invoice__isnull=True).delete()
    before = patient_balance(patient.pk)["invoiced"]
    for amount in lines:
        loose_charge(patient, str(amount))
    invoice = invoice_create(patient=patient, by=front_desk)
    charged = expected = sum(lines, Decimal("0"))
    void = False
    for kind, amount in ops:
        try:
            if kind == "pay":
                payment_record(invoice=invoice, amount=amount, method="card", by=front_desk)
            elif kind == "adjust":
                adjustment_record(invoice=invoice, amount=amount, reason="Write-off", by=front_desk)
            else:
                invoice_void(invoice=invoice, reason="Billed in error", by=front_desk)
        except ValidationError:
            # Refused only when it is more than is owed, on a void invoice, or a void after money was taken off.
            assert void or (amount > expected if kind != "void" else expected != charged)
        else:
            if kind == "void":
                void = True
            else:
                expected -= amount
        invoice.refresh_from_db()
        assert invoice.balance == expected == _rows_balance(invoice)
        assert invoice.balance >= 0
        if void:
            assert invoice.status == Invoice.Status.VOID
        else:
            assert invoice.status == (Invoice.Status.PAID if expected == 0 else Invoice.Status.OPEN)
        # What the patient owes ignores a void invoice: its charges are owed again, not yet invoiced.
        assert patient_balance(patient.pk) == {
            "invoiced": before + (Decimal("0.00") if void else expected),
            "not_invoiced": charged if void else Decimal("0.00"),
            "total": before + (charged if void else expected),
        }


def test_a_void_invoice_keeps_its_number_and_lines_and_its_charges_go_on_a_new_invoice(patient, front_desk):
    first, second = loose_charge(patient, "200.00"), loose_charge(patient, "50.00", code="J3490")
    invoice = invoice_create(patient=patient, by=front_desk)
    number = invoice.number

    voided = invoice_void(invoice=invoice, reason="  Billed to the wrong payer  ", by=front_desk)

    voided.refresh_from_db()
    assert (voided.number, voided.status, voided.void_reason, voided.voided_by) == (
        number,
        Invoice.Status.VOID,
        "Billed to the wrong payer",
        front_desk,
    )
    assert voided.voided_at is not None
    assert (voided.total_charged, voided.balance) == (Decimal("250.00"), Decimal("250.00"))  # as it was billed
    assert sorted(voided.voided_lines.values_list("charge_id", "amount")) == [
        (first.pk, Decimal("200.00")),
        (second.pk, Decimal("50.00")),
    ]
    assert patient_balance(patient.pk) == {
        "invoiced": Decimal("0.00"),
        "not_invoiced": Decimal("250.00"),
        "total": Decimal("250.00"),
    }
    again = invoice_create(patient=patient, by=front_desk)
    assert again.number != number and sorted(again.lines.values_list("pk", flat=True)) == sorted([first.pk, second.pk])
    assert patient_balance(patient.pk)["total"] == Decimal("250.00")  # owed once, on the new invoice
    with pytest.raises(ValidationError, match="void"):
        invoice_void(invoice=voided, reason="Twice", by=front_desk)
    with pytest.raises(ValidationError, match="void"):
        payment_record(invoice=voided, amount=Decimal("1.00"), method="cash", by=front_desk)


@pytest.mark.parametrize(
    ("paid", "adjusted", "message"),
    [
        ("250.00", None, "refund the payment or adjust the balance first"),  # paid
        ("10.00", None, "refund the payment or adjust the balance first"),  # partly paid
        (None, "25.00", "Correct the balance with an adjustment instead"),
    ],
)
def test_an_invoice_with_money_paid_or_adjusted_cannot_be_voided(patient, front_desk, paid, adjusted, message):
    loose_charge(patient, "250.00")
    invoice = invoice_create(patient=patient, by=front_desk)
    if paid:
        payment_record(invoice=invoice, amount=Decimal(paid), method="card", by=front_desk)
    if adjusted:
        adjustment_record(invoice=invoice, amount=Decimal(adjusted), reason="Courtesy", by=front_desk)

    with pytest.raises(ValidationError, match=message):
        invoice_void(invoice=invoice, reason="Billed in error", by=front_desk)

    invoice.refresh_from_db()
    assert invoice.status != Invoice.Status.VOID and invoice.lines.count() == 1
    assert not InvoiceVoidedLine.objects.exists()


def test_voiding_needs_a_reason_and_a_front_office_role(patient, front_desk, clinician):
    loose_charge(patient, "10.00")
    invoice = invoice_create(patient=patient, by=front_desk)
    with pytest.raises(ValidationError, match="reason"):
        invoice_void(invoice=invoice, reason="  ", by=front_desk)
    with pytest.raises(PermissionDenied):
        invoice_void(invoice=invoice, reason="Billed in error", by=clinician)
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.OPEN


def test_the_database_holds_when_who_and_why_of_a_void_together(patient, front_desk):
    loose_charge(patient, "10.00")
    invoice = invoice_create(patient=patient, by=front_desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)  # no when, who or why
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(void_reason="A reason on an open invoice")
    voided = invoice_void(invoice=invoice, reason="Billed in error", by=front_desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=voided.pk).update(void_reason="")


def test_staff_invoice_and_take_payments_on_the_pages(client_for, patient, front_desk):
    loose_charge(patient, "200.00")
    paid_on = timezone.localdate().isoformat()
    client = client_for(front_desk)
    response = client.post(reverse("billing:invoice_create", kwargs={"patient_pk": patient.pk}))
    invoice = Invoice.objects.get(patient=patient)
    assert response["Location"] == reverse("billing:invoice_detail", kwargs={"pk": invoice.pk})
    paid = client.post(
        reverse("billing:payment_create", kwargs={"pk": invoice.pk}),
        {"amount": "120.00", "method": "card", "received_on": paid_on, "reference": "4242"},
    )
    assert paid.status_code == 302
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    ahead = client.post(
        reverse("billing:payment_create", kwargs={"pk": invoice.pk}),
        {"amount": "20.00", "method": "card", "received_on": tomorrow, "reference": "4243"},
    )
    assert ahead.status_code == 400 and b"A payment is received today or earlier" in ahead.content
    assert f'value="{tomorrow}"'.encode() in ahead.content and b'value="4243"' in ahead.content
    too_much = client.post(
        reverse("billing:payment_create", kwargs={"pk": invoice.pk}),
        {"amount": "80.01", "method": "card", "received_on": paid_on},
    )
    assert too_much.status_code == 400 and b"more than the $80.00 still owed" in too_much.content
    adjusted = client.post(
        reverse("billing:adjustment_create", kwargs={"pk": invoice.pk}), {"amount": "30.00", "reason": "Courtesy"}
    )
    assert adjusted.status_code == 302
    page = client.get(reverse("billing:invoice_detail", kwargs={"pk": invoice.pk}))
    assert b"balance $50.00" in page.content


def test_a_payment_or_adjustment_sent_twice_is_recorded_once(client_for, patient, front_desk):
    """A double click on "Record payment" (or the page sent again) records the money once: the second post finds the
    balance changed since its page was opened, and says so with what was typed; the page then offers the new one."""
    loose_charge(patient, "200.00")
    client = client_for(front_desk)
    client.post(reverse("billing:invoice_create", kwargs={"patient_pk": patient.pk}))
    invoice = Invoice.objects.get(patient=patient)
    page = client.get(reverse("billing:invoice_detail", kwargs={"pk": invoice.pk}))
    seen = page.context["payment_form"]["balance_seen"].value()
    assert Decimal(str(seen)) == Decimal("200.00")
    paid = {"amount": "50.00", "method": "card", "received_on": timezone.localdate().isoformat(), "reference": "4242"}
    url = reverse("billing:payment_create", kwargs={"pk": invoice.pk})
    assert client.post(url, {**paid, "balance_seen": seen}).status_code == 302
    again = client.post(url, {**paid, "balance_seen": seen})
    assert again.status_code == 400
    assert b"This invoice changed after the page was opened: $150.00 is owed now." in again.content
    assert b'value="4242"' in again.content and b'name="balance_seen" value="150.00"' in again.content
    assert Payment.objects.filter(invoice=invoice).count() == 1
    adjust = reverse("billing:adjustment_create", kwargs={"pk": invoice.pk})
    assert client.post(adjust, {"amount": "10.00", "reason": "Courtesy", "balance_seen": "150.00"}).status_code == 302
    twice = client.post(adjust, {"amount": "10.00", "reason": "Courtesy", "balance_seen": "150.00"})
    assert twice.status_code == 400 and b"$140.00 is owed now" in twice.content
    assert client.post(url, {**paid, "balance_seen": "140.00"}).status_code == 302  # a second payment, meant
    assert Invoice.objects.get(pk=invoice.pk).balance == Decimal("90.00")
