"""Good-faith estimates follow the patient's coverage: owed, and held to their deadline, only for a patient who pays
for their own care (recorded as self-pay, or with no insurance policy in force); and the front office is alerted once
when billed charges reach $400 or more above an estimate."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from billing.coverage import is_self_pay, policy_create, self_pay_set
from billing.ledger.charges import session_charges_post
from billing.ledger.estimate import estimate_give, estimate_given_late, estimates_owed
from kap_clinic.kernel.notifications.models import StaffAlert
from sessions.models import DosingSession, TreatmentPlan
from tests.billing.factories import at, book, payer
from tests.billing.ledger_factories import complete

pytestmark = pytest.mark.django_db

MONDAY = date(2027, 1, 4)


def _insure(patient, by, **fields):
    values = {
        "payer": payer(),
        "member_id": "M-100",
        "subscriber_name": "Ada Quill",
        "effective_from": date(2026, 1, 1),
        **fields,
    }
    return policy_create(patient=patient, by=by, **values)


def _billing_page(client, patient):
    return client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk}))


def test_an_insured_patient_is_owed_no_estimate(client_for, patient, clinician, front_desk):
    _insure(patient, front_desk)
    book(patient, clinician, date(2027, 1, 25))
    assert not is_self_pay(patient.pk, on=date(2027, 1, 4)) and estimates_owed(patient.pk) == []
    assert b'data-testid="estimate-owed"' not in _billing_page(client_for(front_desk), patient).content


def test_a_self_pay_patient_is_owed_an_estimate(client_for, patient, clinician, front_desk):
    _insure(patient, front_desk)
    self_pay_set(patient=patient, by=front_desk, since=date(2026, 6, 1))
    book(patient, clinician, date(2027, 1, 25))
    assert is_self_pay(patient.pk) and len(estimates_owed(patient.pk)) == 1
    page = _billing_page(client_for(front_desk), patient)
    assert b'data-testid="estimate-owed"' in page.content and b"pays for their own care" in page.content


def test_a_patient_whose_policy_has_ended_is_uninsured(patient, clinician, front_desk):
    _insure(patient, front_desk, effective_to=date(2026, 6, 30))
    book(patient, clinician, date(2027, 1, 25))
    assert is_self_pay(patient.pk, on=date(2026, 12, 1)) and not is_self_pay(patient.pk, on=date(2026, 6, 1))
    assert len(estimates_owed(patient.pk)) == 1


@pytest.mark.parametrize(("insured", "late"), [(False, True), (True, False)])
def test_the_deadline_binds_only_for_self_pay(patient, clinician, front_desk, insured, late):
    if insured:
        _insure(patient, front_desk)
    with time_machine.travel(at(MONDAY, 9), tick=False):
        book(patient, clinician, date(2027, 1, 25))  # due within 3 business days: by Thursday 7 January
    with time_machine.travel(at(date(2027, 1, 12), 9), tick=False):
        estimate = estimate_give(plan=TreatmentPlan.objects.get(patient=patient), by=front_desk)
    assert estimate.due_by == date(2027, 1, 7)
    assert estimate_given_late(estimate) is late


def _alerts():
    return StaffAlert.objects.filter(kind=StaffAlert.Kind.ESTIMATE_EXCEEDED)


def test_billing_400_over_the_estimate_alerts_the_front_office_once(patient, clinician, front_desk):
    first = book(patient, clinician, date(2027, 1, 25))
    plan = TreatmentPlan.objects.get(patient=patient)
    estimate = estimate_give(plan=plan, by=front_desk)  # one session: $250
    later = [book(patient, clinician, day) for day in (date(2027, 1, 27), date(2027, 1, 29), date(2027, 2, 1))]
    DosingSession.objects.filter(plan=plan).update(status=DosingSession.Status.IN_PROGRESS)
    complete(first)
    complete(later[0])  # $500 billed: $250 above
    assert not _alerts().exists()
    complete(later[1])  # $750 billed: $500 above
    alert = _alerts().get()
    assert alert.key == f"estimate-exceeded-{estimate.pk}" and alert.patient_id == patient.pk
    assert alert.audience == StaffAlert.Audience.FRONT_OFFICE
    assert alert.link == reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk})
    assert "$750.00" in alert.summary and "$250.00" in alert.summary and patient.family_name not in alert.summary
    complete(later[2])  # further above: still the one alert
    session_charges_post(session=later[1])  # posted again: nothing new
    assert _alerts().count() == 1


def test_charges_within_400_of_the_estimate_raise_no_alert(patient, clinician, front_desk):
    sessions = [book(patient, clinician, day) for day in (date(2027, 1, 25), date(2027, 1, 27))]
    plan = TreatmentPlan.objects.get(patient=patient)
    estimate_give(plan=plan, by=front_desk)  # two sessions: $500
    DosingSession.objects.filter(plan=plan).update(status=DosingSession.Status.IN_PROGRESS)
    for session in sessions:
        complete(session)
    assert not _alerts().exists()
