"""Staff alerts: raised once with the thing that raised them, shown to the right staff, emailed to each once."""

import pytest
from django.core import mail
from django.urls import reverse

from kap_clinic.kernel.notifications import content, tasks
from kap_clinic.kernel.notifications.alerts import alerts_open_for, staff_alert_raise
from kap_clinic.kernel.notifications.models import Reminder, StaffAlert
from screening.models import SuicideRiskAlert
from screening.services import response_save, screening_start
from sessions.record.monitoring import adverse_event_record
from tests.conftest import make_user, sign_in
from tests.sessions.record_helpers import book_session, checked_and_dosed

pytestmark = pytest.mark.django_db


def sweep():
    return tasks.release_due_reminders.apply().get()


@pytest.fixture
def staff_with_email(admin_user, clinician, other_clinician, front_desk):
    for user in (admin_user, clinician, other_clinician, front_desk):
        user.email = f"{user.username}@clinic.example"
        user.save()
    return {"admin": admin_user, "clinician": clinician, "other": other_clinician, "intake": front_desk}


def raise_relapse(patient, key="relapse-1", **kwargs):
    return staff_alert_raise(
        kind=StaffAlert.Kind.RELAPSE,
        key=key,
        patient_id=patient.pk,
        clinician_id=patient.primary_clinician_id,
        summary="PHQ-9 rose 6 points.",
        **kwargs,
    )


def test_a_suicide_risk_answer_alerts_the_patients_clinician_and_admins_once(staff_with_email, patient):
    screening = screening_start(patient=patient, by=staff_with_email["intake"])
    response_save(screening=screening, code="phq9", answers=[1] * 8 + [2], complete=True, by=staff_with_email["intake"])
    alert = StaffAlert.objects.get(kind="suicide_risk")
    assert alert.urgent and alert.patient == patient
    assert alert.link == reverse("screening:alert_clear", args=[SuicideRiskAlert.objects.get(patient=patient).pk])
    # Saving the same answers again raises nothing new.
    response_save(screening=screening, code="phq9", answers=[1] * 8 + [2], complete=True, by=staff_with_email["intake"])
    assert StaffAlert.objects.count() == 1
    recipients = set(alert.emails.values_list("staff_user__username", flat=True))
    assert recipients == {"admin1", "clinician1"}
    assert sweep() == 2 and sweep() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["admin1@clinic.example", "clinician1@clinic.example"]
    for email in mail.outbox:
        assert "urgent" in email.subject
        assert content.clinical_words(email.subject, sms_or_subject=True) == []
        assert patient.family_name not in email.body and patient.mrn not in email.body


def test_reviewing_the_suicide_risk_flag_acknowledges_its_staff_alerts(staff_with_email, patient):
    from screening.services import alert_clear

    screening = screening_start(patient=patient, by=staff_with_email["intake"])
    response_save(screening=screening, code="phq9", answers=[1] * 8 + [1], complete=True, by=staff_with_email["intake"])
    assert alerts_open_for(staff_with_email["clinician"]).count() == 1
    flag = SuicideRiskAlert.objects.get(patient=patient)
    alert_clear(alert=flag, by=staff_with_email["clinician"], note="Seen today; passive thoughts, safety plan made.")
    assert not alerts_open_for(staff_with_email["clinician"]).exists()
    assert StaffAlert.objects.get().acknowledged_by == staff_with_email["clinician"]


def test_an_unassigned_patients_alert_goes_to_every_clinician(staff_with_email, patient):
    patient.primary_clinician = None
    patient.save()
    alert = raise_relapse(patient)
    assert set(alert.emails.values_list("staff_user__username", flat=True)) == {"admin1", "clinician1", "clinician2"}


def test_front_office_alerts_go_to_admins_and_intake(staff_with_email, patient):
    alert = raise_relapse(patient, audience=StaffAlert.Audience.FRONT_OFFICE)
    assert set(alert.emails.values_list("staff_user__username", flat=True)) == {"admin1", "intake1"}
    assert alerts_open_for(staff_with_email["intake"]).get() == alert
    assert not alerts_open_for(staff_with_email["clinician"]).exists()


def test_an_alert_for_named_staff_is_emailed_to_them_only(staff_with_email, patient):
    alert = raise_relapse(patient, recipient_ids=[staff_with_email["other"].pk])
    assert set(alert.emails.values_list("staff_user__username", flat=True)) == {"clinician2"}


def test_an_alert_raised_by_an_app_reaches_the_patients_own_clinician(staff_with_email, patient, time_machine):
    """The app tells the kernel who the patient's clinician is: the other clinician gets no email."""
    clinician = staff_with_email["clinician"]
    session = book_session(patient, clinician)
    time_machine.move_to(session.starts_at)
    checked_and_dosed(session, clinician)
    adverse_event_record(session=session, by=clinician, kind="resp_depression", severity="severe")
    alert = StaffAlert.objects.get()
    assert alert.patient == patient
    assert set(alert.emails.values_list("staff_user__username", flat=True)) == {"admin1", "clinician1"}


def test_an_alert_acknowledged_before_its_email_leaves_is_not_emailed(staff_with_email, patient, client):
    alert = raise_relapse(patient)
    sign_in(client, staff_with_email["clinician"])
    response = client.post(reverse("notifications:alert_acknowledge", args=[alert.pk]), {"back": "home"})
    assert response.status_code == 302 and response["Location"] == reverse("homes:home")
    sweep()
    assert not mail.outbox
    assert set(Reminder.objects.filter(alert=alert).values_list("status", flat=True)) == {"cancelled"}
    alert.refresh_from_db()
    assert alert.acknowledged_by == staff_with_email["clinician"]


def test_a_severe_adverse_event_raises_an_urgent_alert(staff_with_email, patient, time_machine):
    clinician = staff_with_email["clinician"]
    session = book_session(patient, clinician)
    time_machine.move_to(session.starts_at)
    checked_and_dosed(session, clinician)
    adverse_event_record(session=session, by=clinician, kind="nausea", severity="mild")
    assert not StaffAlert.objects.exists()
    adverse_event_record(session=session, by=clinician, kind="resp_depression", severity="severe")
    alert = StaffAlert.objects.get()
    assert alert.kind == "adverse_event" and alert.urgent
    assert alert.link == reverse("sessions:record_detail", args=[session.pk])


def test_the_clinicians_home_shows_their_alerts_and_acknowledging_clears_them(staff_with_email, patient, client):
    alert = raise_relapse(patient)
    other = make_user("clinician3", "clinician")
    sign_in(client, other)
    assert alert.summary not in client.get(reverse("homes:home")).content.decode()
    assert client.post(reverse("notifications:alert_acknowledge", args=[alert.pk])).status_code == 404
    sign_in(client, staff_with_email["clinician"])
    page = client.get(reverse("homes:home")).content.decode()
    assert alert.summary in page and patient.mrn in page
    client.post(reverse("notifications:alert_acknowledge", args=[alert.pk]))
    assert alert.summary not in client.get(reverse("homes:home")).content.decode()
    listing = client.get(reverse("notifications:alerts"), {"show": "all"}).content.decode()
    assert alert.summary in listing and "clinician1" in listing
    again = client.post(reverse("notifications:alert_acknowledge", args=[alert.pk]), follow=True)
    assert "already acknowledged" in again.content.decode()


def test_a_patient_cannot_see_alerts(patient_user, patient, client):
    alert = raise_relapse(patient)
    sign_in(client, patient_user)
    assert client.get(reverse("notifications:alerts")).status_code == 403
    assert client.post(reverse("notifications:alert_acknowledge", args=[alert.pk])).status_code == 403
    assert alert.summary not in client.get(reverse("homes:home"), follow=True).content.decode()


@pytest.mark.parametrize("role", ["clinician", "intake", "admin"])
def test_home_pages_keep_their_query_count_as_alerts_grow(
    staff_with_email, patient, client, role, django_assert_max_num_queries
):
    user = staff_with_email[role]
    audience = StaffAlert.Audience.FRONT_OFFICE if role == "intake" else StaffAlert.Audience.CLINICAL
    sign_in(client, user)
    raise_relapse(patient, key="first", audience=audience)
    with django_assert_max_num_queries(40) as few:
        assert client.get(reverse("homes:home")).status_code == 200
    for n in range(15):
        raise_relapse(patient, key=f"more-{n}", audience=audience)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("homes:home"))
    assert page.content.decode().count('type="submit">Acknowledge</button>') == 16


def test_the_admin_home_counts_failed_reminders(staff_with_email, patient, client):
    alert = raise_relapse(patient)
    Reminder.objects.filter(alert=alert).update(status="failed", needs_attention=True)
    sign_in(client, staff_with_email["admin"])
    page = client.get(reverse("homes:home")).content.decode()
    assert "2 failed reminders, 2 to check with the patient before resending" in page


def test_the_reminder_list_shows_what_each_message_was_about(staff_with_email, patient, client):
    raise_relapse(patient)
    sign_in(client, staff_with_email["admin"])
    page = client.get(reverse("notifications:list")).content.decode()
    assert page.count("Staff alert, emailed to a member of staff") == 2
    assert "admin1@clinic.example" not in page  # recipients show once sent, not before
    sweep()
    page = client.get(reverse("notifications:list")).content.decode()
    assert "admin1@clinic.example" in page and "clinician1@clinic.example" in page
