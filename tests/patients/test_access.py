"""Object ownership: nobody reaches a patient they may not see, and a foreign id looks like no id at all."""

import pytest
from django.urls import reverse

from tests.conftest import registration_form

PATIENT_URLS = ("homes:patient_chart", "patients:edit")


@pytest.mark.parametrize("url_name", PATIENT_URLS)
def test_patient_cannot_reach_another_patients_record(client_for, patient_user, patient, other_patient, url_name):
    client = client_for(patient_user)
    response = client.get(reverse(url_name, kwargs={"pk": other_patient.pk}))
    assert response.status_code in (403, 404)
    assert other_patient.family_name not in response.content.decode()
    assert other_patient.mrn not in response.content.decode()


def test_patient_gets_404_for_another_patients_chart(client_for, patient_user, patient, other_patient):
    response = client_for(patient_user).get(reverse("homes:patient_chart", kwargs={"pk": other_patient.pk}))
    assert response.status_code == 404


def test_patient_gets_404_for_an_id_that_does_not_exist(client_for, patient_user, patient):
    response = client_for(patient_user).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk + 1000}))
    assert response.status_code == 404


def test_patient_sees_own_record_without_staff_links(client_for, patient_user, patient):
    response = client_for(patient_user).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    assert response.status_code == 200
    body = response.content.decode()
    assert patient.mrn in body
    assert reverse("patients:edit", kwargs={"pk": patient.pk}) not in body


def test_my_record_leads_to_own_chart(client_for, patient_user, patient):
    response = client_for(patient_user).get(reverse("patients:my_record"))
    assert response.status_code == 302
    assert response["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})


@pytest.mark.parametrize("url_name", PATIENT_URLS)
def test_other_clinician_gets_404_for_a_patient_in_someone_elses_care(client_for, other_clinician, patient, url_name):
    response = client_for(other_clinician).get(reverse(url_name, kwargs={"pk": patient.pk}))
    assert response.status_code == 404


def test_clinician_list_shows_own_and_unassigned_patients_only(client_for, clinician, patient, other_patient):
    body = client_for(clinician).get(reverse("patients:list")).content.decode()
    assert patient.mrn in body
    assert other_patient.mrn not in body


def test_intake_staff_see_every_patient(client_for, front_desk, patient, other_patient):
    body = client_for(front_desk).get(reverse("patients:list")).content.decode()
    assert patient.mrn in body and other_patient.mrn in body


def test_patient_list_keeps_constant_queries(client_for, front_desk, django_assert_max_num_queries):
    from datetime import date

    from patients.services import patient_create

    client = client_for(front_desk)
    for i in range(30):
        patient_create(created_by=None, given_name=f"G{i}", family_name=f"F{i}", date_of_birth=date(1990, 1, 1))
    with django_assert_max_num_queries(13):  # 12, and one insert recording the reads
        assert client.get(reverse("patients:list")).status_code == 200


def test_registering_with_a_missing_field_keeps_what_was_typed(client_for, front_desk):
    response = client_for(front_desk).post(
        reverse("patients:create"), {"given_name": "Rowan", "family_name": "", "date_of_birth": "1990-02-03"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="Rowan"' in body
    assert 'value="1990-02-03"' in body
    assert "This field is required" in body


def test_intake_registers_a_patient_with_a_generated_mrn(client_for, front_desk):
    from patients.models import Patient

    client = client_for(front_desk)
    response = client.post(
        reverse("patients:create"),
        registration_form(client, {"given_name": "Rowan", "family_name": "Ash", "date_of_birth": "1990-02-03"}),
    )
    patient = Patient.objects.get(family_name="Ash")
    assert response.status_code == 302
    assert response["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    assert patient.mrn.startswith("KAP-")
