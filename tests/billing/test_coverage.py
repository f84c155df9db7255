"""Coverage per patient: policies (one active primary, enforced by the database), self-pay, the chart section, and
who may see and edit it."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing.coverage import policy_create, policy_update, self_pay_set
from billing.models import InsurancePolicy, PreauthWorkItem, SelfPay
from billing.services import authorization_create

from .factories import payer

pytestmark = pytest.mark.django_db


def policy(patient, by, **fields):
    values = {
        "payer": payer(),
        "plan_name": "Gold PPO",
        "member_id": "M-100",
        "group_id": "G-7",
        "subscriber_name": "Ada Quill",
        "subscriber_relationship": "self",
        "effective_from": date(2026, 1, 1),
        "rank": "primary",
        "is_active": True,
        **fields,
    }
    return policy_create(patient=patient, by=by, **values)


def test_the_database_refuses_a_second_active_primary_policy(patient, front_desk):
    policy(patient, front_desk)
    with pytest.raises(IntegrityError), transaction.atomic():
        InsurancePolicy.objects.create(
            patient=patient, payer=payer("Other"), member_id="X", subscriber_name="A", effective_from=date(2026, 1, 1)
        )
    # Inactive or secondary ones are fine.
    InsurancePolicy.objects.create(
        patient=patient,
        payer=payer("Old"),
        member_id="X",
        subscriber_name="A",
        effective_from=date(2020, 1, 1),
        is_active=False,
    )
    assert InsurancePolicy.objects.filter(patient=patient).count() == 2


def test_the_service_explains_a_second_primary_and_accepts_a_secondary(patient, front_desk):
    first = policy(patient, front_desk)
    with pytest.raises(ValidationError, match="already has an active primary"):
        policy(patient, front_desk, payer=payer("Other"))
    second = policy(patient, front_desk, payer=payer("Other"), rank="secondary", member_id="S-2")
    assert second.rank == "secondary"
    policy_update(policy=first, by=front_desk, is_active=False)
    policy_update(policy=second, by=front_desk, rank="primary")
    assert InsurancePolicy.objects.get(patient=patient, rank="primary", is_active=True) == second


def test_self_pay_takes_policies_out_of_force_and_a_new_policy_ends_self_pay(patient, front_desk):
    old = policy(patient, front_desk)
    self_pay_set(patient=patient, by=front_desk, since=date(2026, 6, 1), note="Changed jobs")
    old.refresh_from_db()
    assert not old.is_active and SelfPay.objects.get(patient=patient).since == date(2026, 6, 1)
    policy(patient, front_desk, member_id="N-1")
    assert not SelfPay.objects.filter(patient=patient).exists()


def test_only_intake_staff_and_admins_record_coverage(patient, clinician):
    with pytest.raises(PermissionDenied):
        policy(patient, clinician)


def test_the_chart_shows_coverage_with_an_edit_link_for_intake_staff(client_for, patient, front_desk, clinician):
    policy(patient, front_desk)
    chart = reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    page = client_for(front_desk).get(chart).content.decode()
    assert 'data-testid="coverage"' in page
    assert "Acme Health – Gold PPO: member ID M-100, group G-7" in page and "Primary" in page
    assert "Edit coverage" in page
    clinician_page = client_for(clinician).get(chart).content.decode()
    assert "member ID M-100" in clinician_page and "Edit coverage" not in clinician_page


def test_self_pay_on_the_chart(client_for, patient, front_desk):
    self_pay_set(patient=patient, by=front_desk, since=date(2026, 6, 1))
    page = client_for(front_desk).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk})).content.decode()
    assert "Self-pay since 2026-06-01" in page


def test_adding_a_policy_through_the_page(client_for, patient, front_desk):
    client = client_for(front_desk)
    url = reverse("billing:policy_create", kwargs={"patient_pk": patient.pk})
    data = {
        "payer": payer().pk,
        "member_id": "W-9",
        "subscriber_name": "Sam Quill",
        "subscriber_relationship": "spouse",
        "effective_from": "2026-02-01",
        "effective_to": "2026-01-01",
        "rank": "primary",
        "is_active": "on",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400 and "cannot end before it starts" in refused.content.decode()
    data["effective_to"] = ""
    assert client.post(url, data).status_code == 302
    saved = InsurancePolicy.objects.get(patient=patient)
    assert saved.subscriber_relationship == "spouse" and saved.updated_by == front_desk


def test_another_clinicians_patient_is_not_found(client_for, patient, other_clinician, front_desk):
    saved = policy(patient, front_desk)
    authorization = authorization_create(patient=patient, payer=payer(), by=front_desk)
    item = PreauthWorkItem.objects.create(authorization=authorization, kind="follow_up", key="k", summary="Call Acme.")
    client = client_for(other_clinician)
    assert client.get(reverse("billing:patient_coverage", kwargs={"patient_pk": patient.pk})).status_code == 404
    assert "Call Acme." not in client.get(reverse("billing:preauth_work")).content.decode()
    assert saved.pk and item.pk


def test_intake_staff_cannot_edit_through_another_patients_policy_id(
    client_for, patient, other_patient, front_desk, other_clinician
):
    saved = policy(other_patient, front_desk)
    # The other patient's clinician may read their coverage, but editing is intake's and admins' work.
    assert client_for(other_clinician).get(reverse("billing:policy_edit", kwargs={"pk": saved.pk})).status_code == 403
    assert client_for(front_desk).get(reverse("billing:policy_edit", kwargs={"pk": saved.pk})).status_code == 200
