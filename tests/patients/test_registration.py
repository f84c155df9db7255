"""Registering the same person twice is caught.

A patient who looks like one already on file (the same family name and date of birth, the same email or the same
phone number, however typed) is registered only with an explicit "Register anyway", and the warning lists the
possible matches with links to their charts. Every "Register a patient" form carries a one-time token, spent in the
same transaction as the patient is created: the form posted again (Back then Save, a double click) or twice at once
shows the patient the first post registered instead of creating another.
"""

import threading
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient, PatientRegistration
from patients.services import (
    PossibleDuplicate,
    patient_create,
    patient_possible_duplicates,
    patient_register,
    registration_token_issue,
)
from tests.conftest import registration_form, skip_or_fail
from tests.races import WAIT_SECONDS, OnItsOwnConnection, wait_until_blocked_on_a_lock

IVY = {"given_name": "Ivy", "family_name": "Marsh", "date_of_birth": date(1980, 4, 5)}


def on_file(**fields) -> Patient:
    return patient_create(created_by=None, **{**IVY, **fields})


# ---- The service: possible duplicates ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        pytest.param({"family_name": "  MARSH "}, id="family name in capitals with spaces"),
        pytest.param({"family_name": "Other", "email": "IVY.Marsh@Example.org "}, id="same email"),
        pytest.param(
            {"family_name": "Other", "date_of_birth": date(1990, 1, 1), "phone": "(617) 555.0142"}, id="same phone"
        ),
        pytest.param(
            {"family_name": "Other", "date_of_birth": date(1990, 1, 1), "phone": "+1 617 555 0142"}, id="phone with +1"
        ),
    ],
)
def test_a_likely_duplicate_is_refused_without_confirmation(front_desk, typed):
    first = on_file(email="ivy.marsh@example.org", phone="617-555-0142")
    fields = {**IVY, **typed}

    with pytest.raises(PossibleDuplicate) as refused:
        patient_register(created_by=front_desk, form_token=registration_token_issue(by=front_desk), **fields)

    assert refused.value.matches == [first]
    assert Patient.objects.count() == 1


@pytest.mark.django_db
def test_a_different_person_is_not_a_match(front_desk):
    on_file(email="ivy.marsh@example.org", phone="617-555-0142")
    assert (
        patient_possible_duplicates(
            family_name="Marsh", date_of_birth=date(1980, 4, 6), email="other@example.org", phone="617-555-0143"
        )
        == []
    )
    assert patient_possible_duplicates(family_name="Marshall", date_of_birth=IVY["date_of_birth"]) == []


@pytest.mark.django_db
def test_register_anyway_registers_a_namesake_and_says_so(front_desk):
    first = on_file()
    registration = patient_register(
        created_by=front_desk, form_token=registration_token_issue(by=front_desk), register_anyway=True, **IVY
    )
    assert registration.created and registration.patient != first
    assert registration.matches == [first]
    assert PatientRegistration.objects.get(patient=registration.patient).duplicate_confirmed


# ---- The service: the one-time token -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_form_posted_again_shows_the_first_patient(front_desk):
    token = registration_token_issue(by=front_desk)
    first = patient_register(created_by=front_desk, form_token=token, **IVY)
    # Back, a changed detail, Save again: the same form, so the same patient (no duplicate warning either).
    again = patient_register(created_by=front_desk, form_token=token, **{**IVY, "given_name": "Ivie"})

    assert first.created and not again.created
    assert again.patient == first.patient
    assert Patient.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "forged", "x" * 400])
def test_a_missing_or_forged_token_is_refused(front_desk, token):
    with pytest.raises(ValidationError, match="registration form has expired"):
        patient_register(created_by=front_desk, form_token=token, **IVY)
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_a_token_is_only_good_for_the_user_it_was_issued_to(front_desk, admin_user):
    with pytest.raises(ValidationError, match="registration form has expired"):
        patient_register(created_by=admin_user, form_token=registration_token_issue(by=front_desk), **IVY)


@pytest.mark.django_db
def test_a_form_left_open_over_a_day_is_refused(front_desk, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    token = registration_token_issue(by=front_desk)
    time_machine.shift(60 * 60 * 25)
    with pytest.raises(ValidationError, match="registration form has expired"):
        patient_register(created_by=front_desk, form_token=token, **IVY)


# ---- Two posts at once, each on its own connection (PostgreSQL) --------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "second_name",
    [
        pytest.param("Marsh", id="same details (a double click)"),
        pytest.param("Marshe", id="details changed (the token alone holds it)"),
    ],
)
def test_the_same_form_posted_twice_at_once_registers_one_patient(front_desk, second_name):
    if connection.vendor != "postgresql":
        skip_or_fail(f"The race needs two connections to PostgreSQL, not {connection.vendor}")
    token = registration_token_issue(by=front_desk)
    first_saved, release = threading.Event(), threading.Event()

    def first_post():
        with transaction.atomic():  # held open until the second post is waiting on it
            registration = patient_register(created_by=front_desk, form_token=token, **IVY)
            first_saved.set()
            release.wait(WAIT_SECONDS)
        return registration

    def second_post():
        return patient_register(created_by=front_desk, form_token=token, **{**IVY, "family_name": second_name})

    first = OnItsOwnConnection(first_post)
    first.start()
    assert first_saved.wait(WAIT_SECONDS), first.error
    second = OnItsOwnConnection(second_post)
    second.start()
    second.started_work.wait(WAIT_SECONDS)
    wait_until_blocked_on_a_lock(second.backend_pid, failure="The second post never waited on the first")
    release.set()
    first.finish()
    second.finish()

    assert first.error is None and second.error is None, (first.error, second.error)
    assert first.result.created and not second.result.created
    assert second.result.patient.pk == first.result.patient.pk
    assert Patient.objects.count() == 1 and PatientRegistration.objects.count() == 1


# ---- The page ----------------------------------------------------------------------------------------------------

FORM = {"given_name": "Ivy", "family_name": "Marsh", "date_of_birth": "1980-04-05"}


@pytest.mark.django_db
def test_the_page_lists_possible_matches_with_links_and_records_the_reads(client_for, front_desk):
    first = on_file()
    client = client_for(front_desk)
    data = registration_form(client, {**FORM, "family_name": "marsh "})

    response = client.post(reverse("patients:create"), data)

    assert response.status_code == 400
    body = response.content.decode()
    assert "This person may already be registered" in body
    assert f'href="{reverse("homes:patient_chart", kwargs={"pk": first.pk})}"' in body
    assert first.mrn in body and "5 Apr 1980" in body
    assert "Register anyway" in body
    assert Patient.objects.count() == 1
    assert LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, additional_data__patient_id=first.pk, actor=front_desk
    ).exists()

    # Ticking "Register anyway" (the same form, its token unspent) registers the new patient.
    response = client.post(reverse("patients:create"), {**data, "register_anyway": "on"})
    assert response.status_code == 302
    assert Patient.objects.count() == 2


@pytest.mark.django_db
def test_back_then_save_shows_the_patient_already_registered(client_for, front_desk):
    client = client_for(front_desk)
    data = registration_form(client, FORM)
    first = client.post(reverse("patients:create"), data)
    again = client.post(reverse("patients:create"), data, follow=True)

    patient = Patient.objects.get()
    assert first["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    assert again.redirect_chain[0][0] == first["Location"]
    assert f"This form was already saved: patient {patient.mrn} was registered then." in again.content.decode()


@pytest.mark.django_db
def test_a_post_without_a_form_token_keeps_what_was_typed_and_gets_a_fresh_token(client_for, front_desk):
    client = client_for(front_desk)
    response = client.post(reverse("patients:create"), FORM)

    assert response.status_code == 400
    assert "registration form has expired" in response.content.decode()
    assert 'value="Ivy"' in response.content.decode()
    assert not Patient.objects.exists()
    fresh = response.context["form"].data["form_token"]
    assert client.post(reverse("patients:create"), {**FORM, "form_token": fresh}).status_code == 302
