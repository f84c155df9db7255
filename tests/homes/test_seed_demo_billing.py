"""The demo clinic shows coverage and the patient ledger: an insured patient with an approved authorization, a
self-pay patient with a good-faith estimate and a part-paid invoice, and a billing provider for superbills; seeding
again adds nothing."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from billing.coverage import is_self_pay
from billing.models import (
    Charge,
    GoodFaithEstimate,
    InsurancePolicy,
    Invoice,
    Payment,
    PriorAuthorization,
    SelfPay,
)
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.clinic.models import ClinicSettings
from patients.models import Patient

pytestmark = pytest.mark.django_db

MODELS = (InsurancePolicy, SelfPay, GoodFaithEstimate, Charge, Invoice, Payment, PriorAuthorization)


def test_seed_demo_gives_the_demo_patients_coverage_and_a_ledger_once(settings, monkeypatch, client_for):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    counts = [model.objects.count() for model in MODELS]
    call_command("seed_demo")
    assert [model.objects.count() for model in MODELS] == counts

    insured = Patient.objects.get(given_name="Pat", family_name="Demo")
    policy = InsurancePolicy.objects.get(patient=insured)
    assert policy.is_active and policy.rank == "primary" and not is_self_pay(insured.pk)
    assert PriorAuthorization.objects.filter(patient=insured, status="approved").exists()

    self_pay = Patient.objects.get(given_name="Alex", family_name="Lindqvist")
    assert SelfPay.objects.filter(patient=self_pay).exists() and is_self_pay(self_pay.pk)
    estimate = GoodFaithEstimate.objects.get(patient=self_pay)
    assert estimate.total > 0
    invoice = Invoice.objects.get(patient=self_pay)
    assert invoice.total_paid > 0 and invoice.balance == invoice.total_charged - invoice.total_paid > 0

    clinic = ClinicSettings.load()
    assert clinic.billing_provider_name and clinic.billing_npi and clinic.billing_tax_id
    client = client_for(User.objects.get(username="intake"))
    assert client.get(reverse("billing:patient_billing", kwargs={"patient_pk": self_pay.pk})).status_code == 200
    superbill = client.get(reverse("billing:superbill", kwargs={"pk": invoice.pk}))
    assert superbill.status_code == 200 and superbill["Content-Type"] == "application/pdf"
