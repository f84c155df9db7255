"""Which patient a portal account belongs to: one lookup, used by every portal page and service."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from patients.selectors import get_patient_of_portal_user, is_portal_user_of, patient_of_portal_user
from patients.services import patient_create

pytestmark = pytest.mark.django_db


def test_a_portal_account_finds_its_own_patient(patient_user, patient):
    assert patient_of_portal_user(patient_user) == patient
    assert get_patient_of_portal_user(patient_user) == patient
    assert is_portal_user_of(patient_user, patient)


def test_a_portal_account_with_no_record_finds_none(other_patient_user):
    assert patient_of_portal_user(other_patient_user) is None
    with pytest.raises(Http404):
        get_patient_of_portal_user(other_patient_user)


def test_staff_and_visitors_are_nobodys_portal_account(clinician, front_desk, patient):
    for user in (clinician, front_desk, AnonymousUser()):
        assert patient_of_portal_user(user) is None
        assert not is_portal_user_of(user, patient)


def test_a_staff_account_linked_to_a_record_by_mistake_is_still_not_a_portal_account(front_desk):
    record = patient_create(
        created_by=None, given_name="Kit", family_name="Marlow", date_of_birth=date(1990, 1, 1), user=front_desk
    )
    assert patient_of_portal_user(front_desk) is None
    assert not is_portal_user_of(front_desk, record)


def test_another_patients_account_is_not_this_patients(other_patient_user, patient):
    assert not is_portal_user_of(other_patient_user, patient)
