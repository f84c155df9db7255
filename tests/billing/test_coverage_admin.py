"""The back office shows coverage and pre-authorization rows without changing them, and records reads of the patients
they belong to; the admin home links to the fee schedule and the payers."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.coverage import policy_create, self_pay_set
from billing.models import PreauthSubmission, PreauthWorkItem
from billing.preauth import lifecycle
from billing.services import authorization_create

from .factories import payer

pytestmark = pytest.mark.django_db


def _reads(user, patient):
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user, additional_data__patient_id=patient.pk)


def _submitted(patient, front_desk, settings, capture):
    settings.PREAUTH_DEFAULT_CHANNEL = "outbox"
    authorization = authorization_create(
        patient=patient,
        payer=payer(),
        by=front_desk,
        codes=["96365"],
        units_requested=6,
        requested_starts_on=date(2027, 1, 4),
        requested_ends_on=date(2027, 3, 31),
        diagnoses=["F33.2"],
        justification="Two failed antidepressant trials.",
    )
    with capture(execute=True):
        lifecycle.preauth_submit(authorization=authorization, by=front_desk)
    return PreauthSubmission.objects.get(authorization=authorization)


def test_policies_and_self_pay_are_shown_read_only_and_their_reads_recorded(
    client_for, admin_user, front_desk, patient, other_patient
):
    policy = policy_create(
        patient=patient,
        by=front_desk,
        payer=payer(),
        member_id="M-1",
        subscriber_name="A Q",
        effective_from=date(2026, 1, 1),
    )
    self_pay = self_pay_set(patient=other_patient, by=front_desk, since=date(2026, 6, 1))
    client = client_for(admin_user)
    for name, row, whose in (("insurancepolicy", policy, patient), ("selfpay", self_pay, other_patient)):
        assert client.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200
        assert _reads(admin_user, whose).count() == 1
        page = client.get(reverse(f"admin:billing_{name}_change", args=[row.pk]))
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert _reads(admin_user, whose).count() == 2
        assert client.get(reverse(f"admin:billing_{name}_add")).status_code == 403
        assert client.post(reverse(f"admin:billing_{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403


def test_submissions_and_work_items_record_reads_of_the_authorizations_patient(
    client_for, admin_user, front_desk, patient, settings, django_capture_on_commit_callbacks
):
    submission = _submitted(patient, front_desk, settings, django_capture_on_commit_callbacks)
    item = PreauthWorkItem.objects.get(submission=submission)
    client = client_for(admin_user)
    for name, row in (("preauthsubmission", submission), ("preauthworkitem", item)):
        before = _reads(admin_user, patient).count()
        assert client.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200
        assert _reads(admin_user, patient).count() == before + 1
        page = client.get(reverse(f"admin:billing_{name}_change", args=[row.pk]))
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert _reads(admin_user, patient).count() == before + 2
        assert client.get(reverse(f"admin:billing_{name}_add")).status_code == 403


def test_the_admin_home_links_to_the_fee_schedule_and_the_payers(client_for, admin_user):
    page = client_for(admin_user).get(reverse("homes:home")).content.decode()
    assert reverse("admin:billing_feescheduleitem_changelist") in page
    assert reverse("admin:billing_payer_changelist") in page
