"""Invoices, payments, adjustments and balances: money is Decimal in NUMERIC columns, and an invoice's balance is its
lines less its payments less its adjustments, always (the service keeps it so, the database refuses otherwise)."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Sum
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.ledger.invoices import adjustment_record, invoice_create, patient_balance, payment_record
from billing.models import Charge, Invoice
from tests.billing.ledger_factories import loose_charge

pytestmark = pytest.mark.django_db


def _rows_balance(invoice: Invoice) -> Decimal:
    def total(rows):
        return rows.aggregate(t=Sum("amount"))["t"] or Decimal("0")

    return total(invoice.lines.all()) - total(invoice.payments.all()) - total(invoice.adjustments.all())


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
operations = st.lists(st.tuples(st.sampled_from(["pay", "adjust"]), cents), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(cents, min_size=1, max_size=5), ops=operations)
def test_the_balance_is_always_lines_less_payments_less_adjustments(patient, front_desk, lines, ops):
    Charge.objects.filter(patient=patient, invoice__isnull=True).delete()
    for amount in lines:
        loose_charge(patient, str(amount))
    invoice = invoice_create(patient=patient, by=front_desk)
    expected = sum(lines, Decimal("0"))
    for kind, amount in ops:
        try:
            if kind == "pay":
                payment_record(invoice=invoice, amount=amount, method="card", by=front_desk)
            else:
                adjustment_record(invoice=invoice, amount=amount, reason="Write-off", by=front_desk)
        except ValidationError:
            assert amount > expected  # refused only when it is more than is owed
        else:
            expected -= amount
        invoice.refresh_from_db()
        assert invoice.balance == expected == _rows_balance(invoice)
        assert invoice.balance >= 0
        assert invoice.status == (Invoice.Status.PAID if expected == 0 else Invoice.Status.OPEN)


def test_staff_invoice_and_take_payments_on_the_pages(client_for, patient, front_desk):
    loose_charge(patient, "200.00")
    client = client_for(front_desk)
    response = client.post(reverse("billing:invoice_create", kwargs={"patient_pk": patient.pk}))
    invoice = Invoice.objects.get(patient=patient)
    assert response["Location"] == reverse("billing:invoice_detail", kwargs={"pk": invoice.pk})
    paid = client.post(
        reverse("billing:payment_create", kwargs={"pk": invoice.pk}),
        {"amount": "120.00", "method": "card", "received_on": "2027-02-01", "reference": "4242"},
    )
    assert paid.status_code == 302
    too_much = client.post(
        reverse("billing:payment_create", kwargs={"pk": invoice.pk}),
        {"amount": "80.01", "method": "card", "received_on": "2027-02-01"},
    )
    assert too_much.status_code == 400 and b"more than the $80.00 still owed" in too_much.content
    adjusted = client.post(
        reverse("billing:adjustment_create", kwargs={"pk": invoice.pk}), {"amount": "30.00", "reason": "Courtesy"}
    )
    assert adjusted.status_code == 302
    page = client.get(reverse("billing:invoice_detail", kwargs={"pk": invoice.pk}))
    assert b"balance $50.00" in page.content
