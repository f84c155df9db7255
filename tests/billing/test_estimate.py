"""Good-faith estimates: the deadline by business days, the expected charges of a plan's booked sessions from the fee
schedule, and the warning once billed charges are $400 or more above the estimate."""

import math
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing import tasks
from billing.coverage import policy_create, self_pay_set
from billing.ledger.estimate import (
    estimate_billed,
    estimate_exceeded,
    estimate_give,
    estimate_given_late,
    estimates_due_alert,
)
from billing.ledger.sliding_scale import sliding_scale_assess
from billing.models import Charge, FeeScheduleItem
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules.good_faith_estimate import (
    ASSUMED_HEAVIEST_WEIGHT_KG,
    add_business_days,
    estimate_due_by,
    estimated_dose_mg,
    exceeds_estimate,
)
from patients.models import Patient
from sessions.models import DoseAdministration, DosingSession, Protocol, TreatmentPlan
from tests.billing.factories import at, book, payer
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


# ---- Weight-based doses ----------------------------------------------------------------------------------------


def _ketamine_priced_per_mg():
    """The clinic prices IV ketamine by the milligram: $0.50 a mg."""
    FeeScheduleItem.objects.filter(code="J3490", route="iv").update(unit="mg", price=Decimal("0.50"))
    return Protocol.objects.get(route="iv", is_active=True)


@pytest.mark.django_db
def test_a_weight_based_dose_is_estimated_from_the_patients_weight(client_for, patient, clinician, front_desk):
    iv = _ketamine_priced_per_mg()
    Patient.objects.filter(pk=patient.pk).update(weight_kg=Decimal("80.0"))
    book(patient, clinician, date(2027, 1, 25), dose=Decimal("0.5"))
    book(patient, clinician, date(2027, 1, 27), dose=Decimal("0.5"))

    estimate = estimate_give(plan=_plan(patient), by=front_desk)

    # 0.5 mg/kg x 80 kg = 40 mg a session, 80 mg in all at $0.50; two infusions at $200.
    assert [(line["code"], line["units"], line["amount"]) for line in estimate.lines] == [
        ("96365", "2", "400.00"),
        ("J3490", "80", "40.00"),
    ]
    assert estimate.total == Decimal("440.00") and estimate.assumptions == ""
    page = client_for(front_desk).get(reverse("billing:estimate_detail", kwargs={"pk": estimate.pk}))
    assert b'data-testid="estimate-assumptions"' not in page.content
    assert iv.dose_is_weight_based


@pytest.mark.django_db
def test_without_a_weight_the_estimate_takes_the_protocols_highest_dose_for_a_heavy_patient_and_says_so(
    client_for, patient, clinician, front_desk, patient_user
):
    iv = _ketamine_priced_per_mg()
    assert patient.weight_kg is None
    book(patient, clinician, date(2027, 1, 25), dose=Decimal("0.5"))

    estimate = estimate_give(plan=_plan(patient), by=front_desk)

    expected_mg = iv.dose_max * ASSUMED_HEAVIEST_WEIGHT_KG  # higher than any planned dose for a lighter patient
    units = math.ceil(expected_mg)
    assert dict((line["code"], line["units"]) for line in estimate.lines) == {"96365": "1", "J3490": str(units)}
    assert estimate.total == Decimal("200.00") + (Decimal("0.50") * units).quantize(Decimal("0.01"))
    assert (
        f"{ASSUMED_HEAVIEST_WEIGHT_KG} kg" in estimate.assumptions and "No weight is recorded" in estimate.assumptions
    )
    page = client_for(patient_user).get(reverse("billing:portal_estimate", kwargs={"pk": estimate.pk}))
    assert b'data-testid="estimate-assumptions"' in page.content and b"No weight is recorded" in page.content


def test_the_estimated_dose_rule():
    fixed = estimated_dose_mg(planned=Decimal("84"), weight_based=False, protocol_max=Decimal("84"), weight_kg=None)
    weighed = estimated_dose_mg(
        planned=Decimal("0.5"), weight_based=True, protocol_max=Decimal("0.75"), weight_kg=Decimal("70")
    )
    unweighed = estimated_dose_mg(
        planned=Decimal("0.5"), weight_based=True, protocol_max=Decimal("0.75"), weight_kg=None
    )
    assert fixed == (Decimal("84"), False)
    assert weighed == (Decimal("35.0"), False)
    assert unweighed == (Decimal("0.75") * ASSUMED_HEAVIEST_WEIGHT_KG, True)


@pytest.mark.django_db
def test_a_completed_session_priced_per_mg_is_charged_the_milligrams_given(patient, clinician):
    _ketamine_priced_per_mg()
    session = book(patient, clinician, date(2027, 2, 1), status="in_progress", dose=Decimal("0.5"))
    DoseAdministration.objects.create(
        session=session,
        dose_mg_given=Decimal("37.5"),
        dose_mg_per_kg=Decimal("0.5"),
        weight_kg=Decimal("75.0"),
        dosed_at=session.starts_at,
        dosed_by=clinician,
    )
    complete(session)
    drug = Charge.objects.get(session=session, code="J3490")
    assert (drug.units, drug.amount) == (Decimal("38.0"), Decimal("19.00"))  # whole milligrams, rounded up


# ---- Estimates due ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_daily_check_alerts_the_front_office_once_when_an_estimate_is_due_and_closes_when_given(
    patient, clinician, front_desk
):
    with time_machine.travel(at(MONDAY, 9), tick=False):  # booked Monday for three weeks on: due Thursday
        book(patient, clinician, date(2027, 1, 25))
    plan = _plan(patient)

    assert estimates_due_alert(today=date(2027, 1, 6)) == []  # not due yet
    with time_machine.travel(at(date(2027, 1, 6), 5, 50), tick=False):
        tasks.alert_estimates_due.apply()
    assert not StaffAlert.objects.filter(kind="estimate_due").exists()
    with time_machine.travel(at(date(2027, 1, 7), 5, 50), tick=False):
        tasks.alert_estimates_due.apply()  # the beat's daily run
    alert = StaffAlert.objects.get(kind="estimate_due")
    assert alert.kind == "estimate_due" and alert.audience == "front_office" and alert.patient == patient
    assert "due today" in alert.summary
    assert estimates_due_alert(today=date(2027, 1, 8))[0].pk == alert.pk  # once per plan
    assert StaffAlert.objects.filter(kind="estimate_due").count() == 1

    estimate_give(plan=plan, by=front_desk)
    alert.refresh_from_db()
    assert alert.acknowledged_by == front_desk
    assert estimates_due_alert(today=date(2027, 1, 11)) == []


@pytest.mark.django_db
def test_no_estimate_alert_for_an_insured_patient(patient, clinician, front_desk):
    policy_create(
        patient=patient,
        by=front_desk,
        payer=payer(),
        member_id="M-1",
        subscriber_name="Ada Quill",
        effective_from=date(2026, 1, 1),
    )
    with time_machine.travel(at(MONDAY, 9), tick=False):
        book(patient, clinician, date(2027, 1, 25))
    assert estimates_due_alert(today=date(2027, 1, 12)) == []
    assert not StaffAlert.objects.filter(kind="estimate_due").exists()


@pytest.mark.django_db
def test_the_daily_check_owes_estimates_to_the_uninsured_that_day_and_to_self_pay_patients_only(
    patient, other_patient, clinician, other_clinician, front_desk
):
    def insure(who, member_id, **dates):
        policy_create(patient=who, by=front_desk, payer=payer(), member_id=member_id, subscriber_name="Self", **dates)

    insure(patient, "M-1", effective_from=date(2026, 1, 1), effective_to=date(2026, 12, 31))  # lapsed by then
    insure(other_patient, "M-2", effective_from=date(2026, 1, 1))
    with time_machine.travel(at(MONDAY, 9), tick=False):
        book(patient, clinician, date(2027, 1, 25))
        book(other_patient, other_clinician, date(2027, 1, 26))

    assert [a.patient for a in estimates_due_alert(today=date(2027, 1, 12))] == [patient]

    self_pay_set(patient=other_patient, by=front_desk, since=date(2027, 1, 12))
    assert {a.patient for a in estimates_due_alert(today=date(2027, 1, 13))} == {patient, other_patient}


@pytest.mark.django_db
def test_the_estimate_deadline_counts_from_when_the_sessions_were_booked_not_when_the_plan_was_made(
    patient, clinician, front_desk
):
    with time_machine.travel(at(MONDAY, 9), tick=False):  # the plan's first session, later cancelled by the clinic
        first = book(patient, clinician, date(2027, 1, 6))
    DosingSession.objects.filter(pk=first.pk).update(status=DosingSession.Status.CANCELLED, cancelled_by="clinic")
    with time_machine.travel(at(date(2027, 2, 1), 9), tick=False):  # booked Monday 1 Feb for three weeks on
        book(patient, clinician, date(2027, 2, 22))

    assert estimates_due_alert(today=date(2027, 2, 3)) == []  # due within 3 business days of booking: Thursday
    with time_machine.travel(at(date(2027, 2, 2), 10), tick=False):
        estimate = estimate_give(plan=_plan(patient), by=front_desk)
    assert (estimate.scheduled_on, estimate.due_by) == (date(2027, 2, 1), date(2027, 2, 4))
    assert not estimate_given_late(estimate)
