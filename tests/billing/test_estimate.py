"""Good-faith estimates: the deadline by business days, the expected charges of a plan's booked sessions from the fee
schedule, and the warning once billed charges are $400 or more above the estimate."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.ledger.estimate import estimate_billed, estimate_exceeded, estimate_give, estimate_given_late
from billing.ledger.sliding_scale import sliding_scale_assess
from kap_clinic.rules.good_faith_estimate import add_business_days, estimate_due_by, exceeds_estimate
from sessions.models import DosingSession, TreatmentPlan
from tests.billing.factories import at, book
from tests.billing.ledger_factories import complete

MONDAY = date(2027, 1, 4)


@pytest.mark.parametrize(
    ("scheduled", "first", "requested", "due"),
    [
        (MONDAY, date(2027, 1, 18), False, date(2027, 1, 7)),  # 10 business days ahead: within 3 business days
        (MONDAY, date(2027, 1, 15), False, date(2027, 1, 5)),  # 9 ahead: within 1 business day
        (MONDAY, date(2027, 1, 7), False, date(2027, 1, 5)),  # 3 ahead: within 1 business day
        (MONDAY, date(2027, 1, 6), False, date(2027, 1, 6)),  # 2 ahead: before the service at the latest
        (date(2027, 1, 8), date(2027, 1, 20), False, date(2027, 1, 11)),  # Friday: the next business day is Monday
        (MONDAY, date(2027, 1, 5), True, date(2027, 1, 7)),  # asked for: within 3 business days
    ],
)
def test_the_estimate_is_due_within_the_no_surprises_act_deadlines(scheduled, first, requested, due):
    assert estimate_due_by(scheduled_on=scheduled, first_service_on=first, requested=requested) == due


def test_closures_are_not_business_days():
    assert add_business_days(date(2027, 1, 8), 1, holidays={date(2027, 1, 11)}) == date(2027, 1, 12)


@pytest.mark.parametrize(
    ("billed", "estimated", "exceeded"),
    [("649.99", "250.00", False), ("650.00", "250.00", True), ("250.00", "250.00", False), ("0", "0", False)],
)
def test_the_dispute_threshold_is_400_dollars_or_more(billed, estimated, exceeded):
    assert exceeds_estimate(billed=Decimal(billed), estimated=Decimal(estimated)) is exceeded


def _plan(patient):
    return TreatmentPlan.objects.get(patient=patient)


@pytest.mark.django_db
def test_an_estimate_prices_the_booked_series_and_records_when_it_was_due_and_given(patient, clinician, front_desk):
    with time_machine.travel(at(MONDAY, 9), tick=False):
        for day in (date(2027, 1, 25), date(2027, 1, 27), date(2027, 1, 29)):
            book(patient, clinician, day)
        estimate = estimate_give(plan=_plan(patient), by=front_desk)
    assert estimate.total == Decimal("750.00")  # 3 x (infusion $200 + ketamine $50)
    assert [(line["code"], line["units"], line["amount"]) for line in estimate.lines] == [
        ("96365", "3", "600.00"),
        ("J3490", "3", "150.00"),
    ]
    assert (estimate.scheduled_on, estimate.first_service_on, estimate.due_by) == (
        MONDAY,
        date(2027, 1, 25),
        date(2027, 1, 7),
    )
    assert estimate.given_by == front_desk and not estimate_given_late(estimate)


@pytest.mark.django_db
def test_an_estimate_includes_the_sliding_scale_discount(patient, clinician, front_desk):
    sliding_scale_assess(
        patient=patient, household_size=1, household_income=Decimal("20000"), evidence="tax_return", by=front_desk
    )
    book(patient, clinician, date(2027, 1, 25))
    estimate = estimate_give(plan=_plan(patient), by=front_desk)
    assert (estimate.discount_percent, estimate.total) == (50, Decimal("125.00"))


@pytest.mark.django_db
def test_billed_charges_400_or_more_above_the_estimate_are_flagged(client_for, patient, clinician, front_desk):
    first = book(patient, clinician, date(2027, 1, 25))
    estimate = estimate_give(plan=_plan(patient), by=front_desk)  # one session: $250
    later = [book(patient, clinician, date(2027, 1, 27)), book(patient, clinician, date(2027, 1, 29))]
    DosingSession.objects.filter(plan=_plan(patient)).update(status=DosingSession.Status.IN_PROGRESS)
    page_url = reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk})
    complete(first)
    complete(later[0])
    assert estimate_billed(estimate) == Decimal("500.00") and not estimate_exceeded(estimate)  # $250 above
    assert b'data-testid="estimate-exceeded"' not in client_for(front_desk).get(page_url).content
    complete(later[1])
    assert estimate_billed(estimate) == Decimal("750.00") and estimate_exceeded(estimate)  # $500 above
    page = client_for(front_desk).get(page_url)
    assert b'data-testid="estimate-exceeded"' in page.content
    assert b"$400 or more above the good-faith estimate of $250.00" in page.content


@pytest.mark.django_db
def test_a_plan_without_an_estimate_shows_when_it_is_due(client_for, patient, clinician, front_desk):
    book(patient, clinician, date(2027, 1, 25))
    client = client_for(front_desk)
    page = client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk}))
    assert b'data-testid="estimate-owed"' in page.content
    response = client.post(
        reverse("billing:estimate_create", kwargs={"patient_pk": patient.pk}), {"plan": _plan(patient).pk}
    )
    assert response.status_code == 302
    page = client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk}))
    assert b'data-testid="estimate-owed"' not in page.content


@pytest.mark.django_db
def test_the_patient_is_given_the_estimate_in_the_portal(client_for, patient, clinician, front_desk, patient_user):
    book(patient, clinician, date(2027, 1, 25))
    estimate = estimate_give(plan=_plan(patient), by=front_desk)
    client = client_for(patient_user)
    home = client.get(reverse("homes:home"))
    assert reverse("billing:portal_billing").encode() in home.content
    account = client.get(reverse("billing:portal_billing"))
    assert reverse("billing:portal_estimate", kwargs={"pk": estimate.pk}).encode() in account.content
    page = client.get(reverse("billing:portal_estimate", kwargs={"pk": estimate.pk}))
    assert page.status_code == 200 and b"$250.00" in page.content and b"dispute" in page.content
