"""The enrollment gate: nobody enters the treatment program without a current, clinician-signed eligible screening
(or a clinician's written override), whichever way they try: service, view or admin."""

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import sync_role_groups
from kap_clinic.kernel.clinic.models import ClinicSettings
from patients.status import Status
from screening import services
from screening.gate import enrollment_gate
from sessions.models import Enrollment
from sessions.scheduling.enrollment import enrollment_create
from tests.conftest import PASSWORD

from .test_services import fill_screening, signed_off_screening

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Outside psychiatrist's full assessment on file; screening repeated at first visit."


def enroll_url(patient):
    return reverse("sessions:enroll", kwargs={"patient_pk": patient.pk})


def eligible_patient(patient, clinician):
    """Patient A with a screening a clinician has just signed off as eligible."""
    screening = signed_off_screening(patient, clinician)
    patient.refresh_from_db()
    return screening


# ---- Shut gate, every way in --------------------------------------------------------------------------------------


def test_service_refuses_enrollment_without_a_signed_off_screening(patient, clinician):
    with pytest.raises(ValidationError) as refused:
        enrollment_create(patient=patient, by=clinician)

    assert "No screening has been signed off by a clinician." in refused.value.messages
    assert not Enrollment.objects.exists()
    patient.refresh_from_db()
    assert patient.status == Status.REFERRED


def test_a_completed_screening_awaiting_sign_off_does_not_open_the_gate(patient, clinician, front_desk):
    fill_screening(patient, front_desk)

    with pytest.raises(ValidationError, match="No screening has been signed off"):
        enrollment_create(patient=patient, by=clinician)


def test_enroll_view_refuses_without_an_eligible_screening_and_shows_why(client_for, patient, clinician):
    response = client_for(clinician).post(enroll_url(patient), {"override_justification": ""})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Enrollment needs a current eligible screening" in body
    assert "No screening has been signed off by a clinician." in body
    # The empty box is named, next to the box itself.
    assert 'id="error_1_id_override_justification"' in body or "is-invalid" in body
    assert "this box is empty" in body
    assert not Enrollment.objects.exists()
    patient.refresh_from_db()
    assert patient.status == Status.REFERRED


def test_enroll_page_shows_the_shut_gate_and_its_reasons(client_for, patient, clinician):
    response = client_for(clinician).get(enroll_url(patient))

    assert response.status_code == 200
    body = response.content.decode()
    assert "The screening gate is shut" in body
    assert "No screening has been signed off by a clinician." in body


@pytest.fixture
def admin_roles_synced(admin_user):
    """The role groups as `migrate` writes them once every app's permissions exist (admins may view enrollments)."""
    sync_role_groups()
    assert User.objects.get(pk=admin_user.pk).has_perm("treatment_sessions.view_enrollment")
    return admin_user


def test_admin_enrollment_add_page_is_refused(client_for, admin_roles_synced, patient):
    client = client_for(admin_roles_synced)
    add_url = reverse("admin:treatment_sessions_enrollment_add")

    assert client.get(add_url).status_code == 403
    response = client.post(
        add_url, {"patient": patient.pk, "override_justification": JUSTIFICATION, "status": "active"}
    )

    assert response.status_code == 403
    assert not Enrollment.objects.exists()


def test_admin_enrollment_list_offers_no_way_to_add(client_for, admin_roles_synced):
    response = client_for(admin_roles_synced).get(reverse("admin:treatment_sessions_enrollment_changelist"))

    assert response.status_code == 200
    assert reverse("admin:treatment_sessions_enrollment_add") not in response.content.decode()


def test_even_a_superuser_cannot_add_or_change_an_enrollment_in_the_admin(client_for, patient, clinician):
    superuser = User.objects.create_superuser(username="root", password=PASSWORD, email="root@example.org")
    TOTPDevice.objects.create(user=superuser, name="test", confirmed=True)
    enrollment = enrollment_create(patient=patient, by=clinician, override_justification=JUSTIFICATION)
    client = client_for(superuser)

    assert client.get(reverse("admin:treatment_sessions_enrollment_add")).status_code == 403
    change_url = reverse("admin:treatment_sessions_enrollment_change", args=[enrollment.pk])
    response = client.post(change_url, {"patient": patient.pk, "override_justification": "", "status": "ended"})

    assert response.status_code == 403
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.override_justification) == ("active", JUSTIFICATION)
    delete_url = reverse("admin:treatment_sessions_enrollment_delete", args=[enrollment.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()


# ---- Open gate ----------------------------------------------------------------------------------------------------


def test_enrollment_succeeds_with_a_current_signed_off_eligible_screening(patient, clinician):
    screening = eligible_patient(patient, clinician)

    enrollment = enrollment_create(patient=patient, by=clinician)

    assert enrollment.screening == screening
    assert enrollment.override_justification == ""
    assert enrollment.is_override is False
    assert enrollment.enrolled_by == clinician
    patient.refresh_from_db()
    assert patient.status == Status.ENROLLED
    assert patient.status_changes.first().reason == "Enrolled through the screening gate."


def test_enroll_view_enrolls_through_an_open_gate(client_for, patient, clinician):
    screening = eligible_patient(patient, clinician)
    client = client_for(clinician)

    page = client.get(enroll_url(patient))
    assert f"Screening #{screening.pk} was signed off as eligible" in page.content.decode()
    response = client.post(enroll_url(patient), {})

    assert response.status_code == 302
    assert response["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    assert Enrollment.objects.get(patient=patient).screening == screening


def test_a_justification_written_while_the_gate_is_open_is_not_stored_as_an_override(patient, clinician):
    eligible_patient(patient, clinician)

    enrollment = enrollment_create(patient=patient, by=clinician, override_justification=JUSTIFICATION)

    assert enrollment.override_justification == ""
    assert enrollment.is_override is False


def test_enrollment_is_refused_once_the_eligible_screening_is_older_than_the_clinic_window(patient, clinician):
    eligible_patient(patient, clinician)
    valid_days = ClinicSettings.load().screening_valid_days

    with time_machine.travel(timezone.now() + timedelta(days=valid_days, hours=1)):
        with pytest.raises(ValidationError) as refused:
            enrollment_create(patient=patient, by=clinician)

    assert any(f"more than {valid_days} days ago" in message for message in refused.value.messages)
    assert not Enrollment.objects.exists()


def test_the_window_counts_from_the_answers_not_from_a_late_sign_off(patient, clinician, front_desk):
    """A screening answered 45 days ago and signed off today is not current: the PHQ-9 asks about the last 2 weeks, and
    the clinic's window is 30 days. Before, the window counted from the sign-off, so the gate opened."""
    valid_days = ClinicSettings.load().screening_valid_days
    with time_machine.travel(timezone.now() - timedelta(days=valid_days + 15)):
        screening = fill_screening(patient, front_desk)
    services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible")

    gate = enrollment_gate(patient)

    assert not gate.is_open
    assert f"more than {valid_days} days ago" in gate.reasons[0]
    with pytest.raises(ValidationError):
        enrollment_create(patient=patient, by=clinician)


def test_the_screening_window_follows_the_clinic_setting(patient, clinician):
    settings = ClinicSettings.load()
    settings.screening_valid_days = 7
    settings.save()
    eligible_patient(patient, clinician)

    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert enrollment_gate(patient).is_open
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        gate = enrollment_gate(patient)
    assert not gate.is_open
    assert "more than 7 days ago" in gate.reasons[0]


def test_enrollment_is_refused_when_the_latest_signed_off_screening_is_ineligible(patient, clinician):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        older = eligible_patient(patient, clinician)
    latest = signed_off_screening(
        patient, clinician, final_outcome="ineligible", medical={"conditions": ["ketamine_hypersensitivity"]}
    )
    assert (older.final_outcome, latest.final_outcome) == ("eligible", "ineligible")

    with pytest.raises(ValidationError) as refused:
        enrollment_create(patient=patient, by=clinician)

    assert "The latest signed-off screening found the patient not eligible." in refused.value.messages
    assert not Enrollment.objects.exists()


def test_a_newer_screening_awaiting_sign_off_shuts_the_gate(patient, clinician, front_desk):
    """The screening completed since the eligible one found an absolute contraindication; until a clinician signs it
    off, the older eligible screening does not enroll the patient."""
    with time_machine.travel(timezone.now() - timedelta(days=5)):
        eligible_patient(patient, clinician)
    newer = fill_screening(patient, front_desk, medical={"conditions": ["ketamine_hypersensitivity"]})
    assert newer.computed_outcome == "ineligible"

    gate = enrollment_gate(patient)

    assert not gate.is_open
    completed = timezone.localtime(newer.completed_at).date().isoformat()
    assert gate.reasons == (
        f"A newer screening, completed on {completed}, awaits a clinician's sign-off: its result decides, not the "
        "older one's.",
    )
    with pytest.raises(ValidationError):
        enrollment_create(patient=patient, by=clinician)
    services.screening_sign_off(screening=newer, by=clinician, final_outcome="ineligible")
    assert enrollment_gate(patient).reasons == ("The latest signed-off screening found the patient not eligible.",)


def test_a_high_suicide_risk_alert_shuts_the_gate_until_a_clinician_clears_it(patient, clinician, front_desk):
    eligible_patient(patient, clinician)
    rescreen = services.screening_start(patient=patient, by=front_desk)
    services.response_save(
        screening=rescreen, code="cssrs", answers=[1, 1, 0, 1, None, None, None], complete=False, by=front_desk
    )

    with pytest.raises(ValidationError) as refused:
        enrollment_create(patient=patient, by=clinician)
    assert (
        "A high suicide-risk alert is open; a clinician must review and clear it before enrollment."
        in refused.value.messages
    )

    alert = rescreen.risk_alerts.get()
    services.alert_clear(alert=alert, by=clinician, note="Seen in person; no current intent; safety plan agreed.")
    assert enrollment_gate(patient).is_open


def test_a_moderate_alert_shuts_the_gate_and_no_override_lifts_it(patient, clinician, front_desk):
    """C-SSRS triage (docs/clinical-references.md#c-ssrs, #clinical-review, clinical review 2026-12-01): moderate risk
    needs a same-day clinician review; enrollment is refused while any suicide-risk alert of the patient is open,
    override included."""
    eligible_patient(patient, clinician)
    rescreen = services.screening_start(patient=patient, by=front_desk)
    services.response_save(screening=rescreen, code="phq9", answers=[None] * 8 + [1], complete=False, by=front_desk)

    gate = enrollment_gate(patient)
    assert not gate.is_open
    assert gate.blocking == (
        "A moderate suicide-risk alert is open; a clinician must review and clear it before enrollment.",
    )
    with pytest.raises(ValidationError, match="refused while a suicide-risk alert is open"):
        enrollment_create(patient=patient, by=clinician, override_justification=JUSTIFICATION)
    assert not Enrollment.objects.exists()

    services.alert_clear(alert=rescreen.risk_alerts.get(), by=clinician, note="Reviewed today; passive thoughts only.")
    assert enrollment_gate(patient).is_open


# ---- Override -----------------------------------------------------------------------------------------------------


def test_clinician_override_with_a_written_justification_enrolls_and_is_audited(client_for, patient, clinician):
    response = client_for(clinician).post(enroll_url(patient), {"override_justification": f"  {JUSTIFICATION}  "})

    assert response.status_code == 302
    enrollment = Enrollment.objects.get(patient=patient)
    assert enrollment.screening is None
    assert enrollment.override_justification == JUSTIFICATION
    assert enrollment.is_override is True
    patient.refresh_from_db()
    assert patient.status == Status.ENROLLED
    entry = LogEntry.objects.get_for_model(Enrollment).get(
        additional_data__patient_id=patient.pk, action=LogEntry.Action.CREATE
    )
    assert entry.object_pk == str(enrollment.pk)
    assert entry.actor == clinician
    assert entry.changes_dict["override_justification"][1] == JUSTIFICATION


def test_override_and_enroll_is_refused_while_a_high_alert_is_open(client_for, patient, clinician, front_desk):
    """Clinical review 2026-12-01 (C-SSRS triage, docs/clinical-references.md#c-ssrs): "Override and enroll" with one
    sentence no longer enrolls a patient whose gate says a high suicide-risk alert is open; the page offers no
    override."""
    eligible_patient(patient, clinician)
    rescreen = services.screening_start(patient=patient, by=front_desk)
    services.response_save(
        screening=rescreen, code="cssrs", answers=[0, 1, 0, 0, 1, 0, None], complete=False, by=front_desk
    )

    with pytest.raises(ValidationError, match="refused while a suicide-risk alert is open"):
        enrollment_create(patient=patient, by=clinician, override_justification=JUSTIFICATION)
    client = client_for(clinician)
    page = client.get(enroll_url(patient)).content.decode()
    assert 'data-testid="enroll-blocked"' in page
    assert "Override and enroll" not in page
    response = client.post(enroll_url(patient), {"override_justification": JUSTIFICATION})
    assert response.status_code == 400
    assert not Enrollment.objects.exists()
    patient.refresh_from_db()
    assert patient.status != Status.ENROLLED


@pytest.mark.parametrize("justification", ["Known to us.", "   too short, padded    "])
def test_a_short_justification_is_refused(patient, clinician, justification):
    with pytest.raises(ValidationError, match="at least 20 characters"):
        enrollment_create(patient=patient, by=clinician, override_justification=justification)

    assert not Enrollment.objects.exists()


def test_enroll_view_refuses_a_short_justification(client_for, patient, clinician):
    response = client_for(clinician).post(enroll_url(patient), {"override_justification": "Known to us."})

    assert response.status_code == 400
    assert "Write at least 20 characters" in response.content.decode()
    assert not Enrollment.objects.exists()


# ---- Who may enroll -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["front_desk", "admin_user", "patient_user"])
def test_only_a_clinician_can_enroll_through_the_service(request, patient, clinician, person):
    eligible_patient(patient, clinician)

    with pytest.raises(PermissionDenied):
        enrollment_create(patient=patient, by=request.getfixturevalue(person), override_justification=JUSTIFICATION)

    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("person", ["front_desk", "admin_user", "patient_user"])
def test_only_a_clinician_can_open_the_enroll_page(request, client_for, patient, clinician, person):
    eligible_patient(patient, clinician)
    client = client_for(request.getfixturevalue(person))

    assert client.get(enroll_url(patient)).status_code == 403
    assert client.post(enroll_url(patient), {"override_justification": JUSTIFICATION}).status_code == 403
    assert not Enrollment.objects.exists()


def test_another_clinician_gets_404_for_the_enroll_page(client_for, patient, clinician, other_clinician):
    eligible_patient(patient, clinician)
    client = client_for(other_clinician)

    assert client.get(enroll_url(patient)).status_code == 404
    assert client.post(enroll_url(patient), {"override_justification": JUSTIFICATION}).status_code == 404
    assert not Enrollment.objects.exists()


def test_a_patient_already_enrolled_cannot_be_enrolled_twice(patient, clinician):
    eligible_patient(patient, clinician)
    enrollment_create(patient=patient, by=clinician)

    with pytest.raises(ValidationError, match="already enrolled"):
        enrollment_create(patient=patient, by=clinician, override_justification=JUSTIFICATION)

    assert Enrollment.objects.filter(patient=patient).count() == 1


# ---- Database backstops -------------------------------------------------------------------------------------------


def test_database_refuses_an_enrollment_with_neither_screening_nor_justification(patient, clinician):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(patient=patient, enrolled_by=clinician)


def test_database_refuses_a_second_active_enrollment(patient, clinician):
    Enrollment.objects.create(patient=patient, enrolled_by=clinician, override_justification=JUSTIFICATION)

    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(patient=patient, enrolled_by=clinician, override_justification=JUSTIFICATION)
