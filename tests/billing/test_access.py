"""Whose billing a user may open and work on (billing/access.py), asked directly: a clinician reads their patients'
billing but changes none of it, the front office works on it, another clinician's patient is 404, the front-office
refusal comes before the lookup (so it says nothing of whether the record exists), and a portal patient finds
only their own record."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from billing import access

pytestmark = pytest.mark.django_db

NO_SUCH_PK = 999_999


def request_of(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_a_clinician_opens_their_patients_billing_but_does_not_work_on_it(clinician, patient):
    as_clinician = request_of(clinician)
    assert access.billing_patient(as_clinician, patient.pk) == patient
    assert not access.can_work(as_clinician)
    with pytest.raises(PermissionDenied):
        access.working_patient(as_clinician, patient.pk)


def test_the_front_office_works_on_a_patients_billing(front_desk, admin_user, patient):
    for user in (front_desk, admin_user):
        assert access.can_work(request_of(user))
        assert access.working_patient(request_of(user), patient.pk) == patient


def test_another_clinicians_patient_is_not_found(other_clinician, patient):
    with pytest.raises(Http404):
        access.billing_patient(request_of(other_clinician), patient.pk)


@pytest.mark.parametrize(
    "lookup", [access.billing_invoice, access.billing_authorization, access.billing_policy, access.billing_work_item]
)
def test_working_on_a_record_is_refused_before_it_is_looked_up(lookup, clinician, front_desk):
    with pytest.raises(PermissionDenied):
        lookup(request_of(clinician), NO_SUCH_PK, work=True)
    with pytest.raises(Http404):
        lookup(request_of(front_desk), NO_SUCH_PK, work=True)


def test_a_portal_patient_finds_their_own_record_only(patient_user, patient, other_patient):
    as_patient = request_of(patient_user)
    assert access.portal_patient(as_patient) == patient
    assert access.in_portal(as_patient)
    with pytest.raises(Http404):
        access.billing_patient(as_patient, other_patient.pk)
