import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from tests.conftest import registration_form

pytestmark = pytest.mark.django_db


def _entries_for(patient):
    return LogEntry.objects.filter(additional_data__patient_id=patient.pk)


def test_opening_a_chart_is_recorded_with_who_and_where(client_for, clinician, patient):
    client = client_for(clinician)
    client.get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}), REMOTE_ADDR="10.1.2.3")
    entry = _entries_for(patient).get(action=LogEntry.Action.ACCESS)
    assert entry.actor == clinician
    assert entry.remote_addr == "10.1.2.3"
    assert entry.object_pk == str(patient.pk)


def test_a_patient_reading_their_own_record_is_recorded(client_for, patient_user, patient):
    client_for(patient_user).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    assert _entries_for(patient).filter(action=LogEntry.Action.ACCESS, actor=patient_user).count() == 1


def test_a_refused_chart_view_records_nothing(client_for, other_clinician, patient):
    client_for(other_clinician).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    assert not _entries_for(patient).filter(action=LogEntry.Action.ACCESS).exists()


def _registered_then_birth_date_changed(client) -> Patient:
    """A patient registered through the page, then their date of birth corrected on the edit page."""
    client.post(
        reverse("patients:create"),
        registration_form(client, {"given_name": "Ida", "family_name": "Vale", "date_of_birth": "1970-01-01"}),
    )
    patient = Patient.objects.get(family_name="Vale")
    client.post(
        reverse("patients:edit", kwargs={"pk": patient.pk}),
        {"given_name": "Ida", "family_name": "Vale", "date_of_birth": "1971-01-01"},
    )
    return patient


def test_registration_and_edits_are_recorded_with_the_changed_fields(client_for, front_desk):
    patient = _registered_then_birth_date_changed(client_for(front_desk))
    own = _entries_for(patient).filter(content_type__model="patient")  # not the registration form's own entry
    created = own.get(action=LogEntry.Action.CREATE)
    updated = own.get(action=LogEntry.Action.UPDATE)
    assert created.actor == front_desk and updated.actor == front_desk
    form_used = _entries_for(patient).get(content_type__model="patientregistration")
    assert form_used.actor == front_desk and "token" not in form_used.changes
    assert set(updated.changes) == {"date_of_birth"}


def test_a_view_rolled_back_leaves_no_audit_entry(patient):
    from kap_clinic.kernel.audit.services import record_chart_view

    with pytest.raises(RuntimeError), transaction.atomic():
        record_chart_view(obj=patient)
        raise RuntimeError("the request failed")
    assert not _entries_for(patient).filter(action=LogEntry.Action.ACCESS).exists()


def test_the_database_refuses_to_change_or_delete_audit_entries(patient):
    entry = _entries_for(patient).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(object_repr="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.object_repr == patient.mrn


def test_the_admin_site_cannot_delete_audit_entries(client_for, admin_user, patient):
    entry = _entries_for(patient).first()
    client = client_for(admin_user)
    response = client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_admin_filters_the_log_by_patient(client_for, admin_user, clinician, patient, other_patient):
    client_for(clinician).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    response = client_for(admin_user).get(reverse("homes:audit_log"), {"patient": patient.mrn})
    body = response.content.decode()
    assert response.status_code == 200
    assert patient.mrn in body
    assert other_patient.mrn not in body


def test_the_log_names_changed_fields_as_the_forms_do_and_not_a_new_records_empty_lists(
    client_for, front_desk, admin_user
):
    patient = _registered_then_birth_date_changed(client_for(front_desk))
    response = client_for(admin_user).get(reverse("homes:audit_log"), {"patient": patient.mrn})
    rows = {(row.action, row.record): row.changed for row in response.context["rows"]}
    changed = rows[("update", f"patient {patient}")]
    assert changed == "date of birth"
    created = rows[("create", f"patient {patient}")]
    assert "date of birth" in created and "given name" in created
    assert "_" not in created and "calendar" not in created and "screenings" not in created


def test_the_patient_filter_takes_the_mrn_in_any_case_and_rows_say_who_did_what_when(
    client_for, admin_user, clinician, patient
):
    client_for(clinician).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    response = client_for(admin_user).get(reverse("homes:audit_log"), {"patient": f" {patient.mrn.lower()} "})
    assert response.status_code == 200
    entry = response.context["page"].object_list[0]
    when = timezone.localtime(entry.timestamp).strftime("%Y-%m-%d %H:%M:%S")
    row = f"<tr><td>{when}</td><td>{clinician.username}</td><td>{entry.get_action_display()}</td>"
    assert row in response.content.decode()


def test_admin_filters_the_log_by_user_and_period(client_for, admin_user, clinician, front_desk, patient):
    from django.utils import timezone

    client_for(clinician).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    client_for(front_desk).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    today = timezone.localdate().isoformat()
    query = {"user": clinician.pk, "start": today, "end": today}
    response = client_for(admin_user).get(reverse("homes:audit_log"), query)
    page = response.context["page"]
    assert {entry.actor_id for entry in page.object_list} == {clinician.pk}
    response = client_for(admin_user).get(reverse("homes:audit_log"), {"start": "2001-01-01", "end": "2001-01-02"})
    assert list(response.context["page"].object_list) == []


def test_an_unknown_mrn_is_a_clear_error(client_for, admin_user):
    response = client_for(admin_user).get(reverse("homes:audit_log"), {"patient": "KAP-NOPE"})
    assert response.status_code == 400
    assert "No patient has that MRN" in response.content.decode()
    assert 'value="KAP-NOPE"' in response.content.decode()


def test_audit_log_page_keeps_constant_queries(
    client_for, admin_user, clinician, patient, django_assert_max_num_queries
):
    client = client_for(clinician)
    for _ in range(20):
        client.get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}))
    admin_client = client_for(admin_user)
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("homes:audit_log")).status_code == 200


def test_a_forged_forwarded_for_header_does_not_change_the_recorded_address(client_for, clinician, patient):
    client_for(clinician).get(
        reverse("homes:patient_chart", kwargs={"pk": patient.pk}),
        REMOTE_ADDR="10.9.8.7",
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    assert _entries_for(patient).get(action=LogEntry.Action.ACCESS).remote_addr == "10.9.8.7"


def test_behind_a_proxy_the_address_it_forwarded_is_recorded(settings, client_for, clinician, patient):
    settings.PROXY_COUNT = 1
    client_for(clinician).get(
        reverse("homes:patient_chart", kwargs={"pk": patient.pk}),
        REMOTE_ADDR="172.18.0.5",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
    )
    assert _entries_for(patient).get(action=LogEntry.Action.ACCESS).remote_addr == "203.0.113.9"


def test_the_user_filter_names_people(client_for, admin_user, clinician):
    body = client_for(admin_user).get(reverse("homes:audit_log")).content.decode()
    assert f"{clinician.get_full_name()} ({clinician.username}, clinician)" in body
