"""Reminders of integration sessions and check-ins, and the route's preparation in dosing reminders."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from aftercare.models import CheckIn, IntegrationSession
from kap_clinic.kernel.notifications import content, tasks
from kap_clinic.kernel.notifications.backends import LocmemSmsBackend
from kap_clinic.kernel.notifications.delivery import reminder_deliver
from kap_clinic.kernel.notifications.models import PreparationText, Reminder
from kap_clinic.kernel.notifications.planning import reminders_sync
from kap_clinic.rules import instruments
from sessions.models import Route

from .conftest import MON_7_DEC, at, book_series

pytestmark = pytest.mark.django_db

TUE_8_DEC = date(2026, 12, 8)


def sweep():
    return tasks.release_due_reminders.apply().get()


def plan(rows):
    """(rule event, channel, local due time) of each pending reminder."""
    return sorted(
        (r.rule.event, r.channel, timezone.localtime(r.scheduled_for).replace(tzinfo=None))
        for r in rows
        if r.status == "pending"
    )


def local(day, hour, minute=0):
    return at(day, hour, minute).replace(tzinfo=None)


def book_visit(patient, clinician, starts_at):
    visit = IntegrationSession.objects.create(patient=patient, clinician=clinician, modality="cbt", starts_at=starts_at)
    reminders_sync(visit)
    return visit


def open_checkin(patient, opens_at, *, due_days=3, close_days=7):
    due = opens_at + timedelta(days=due_days)
    checkin = CheckIn.objects.create(
        patient=patient,
        instruments=["phq9", "gad7"],
        opens_at=opens_at,
        due_at=due,
        closes_at=due + timedelta(days=close_days),
    )
    reminders_sync(checkin)
    return checkin


def deliver_all_due():
    for reminder in Reminder.objects.filter(status="pending", next_try_at__lte=timezone.now()):
        reminder_deliver(reminder_id=reminder.pk)


# ---- Integration sessions ------------------------------------------------------------------------


def test_an_integration_session_is_reminded_a_day_before_on_each_consented_channel(clinic_clock, consenting, clinician):
    visit = book_visit(consenting, clinician, at(MON_7_DEC, 14))
    assert plan(visit.reminders.all()) == [
        ("integration_session", "email", local(MON_7_DEC - timedelta(days=1), 14)),
        ("integration_session", "sms", local(MON_7_DEC - timedelta(days=1), 14)),
    ]
    assert {r.patient_id for r in visit.reminders.all()} == {consenting.pk}


def test_moving_an_integration_session_replaces_its_reminders_and_cancelling_cancels_them(
    clinic_clock, consenting, clinician
):
    visit = book_visit(consenting, clinician, at(MON_7_DEC, 14))
    visit.starts_at = at(TUE_8_DEC, 10)
    visit.save()
    reminders_sync(visit)
    assert plan(visit.reminders.all()) == [
        ("integration_session", "email", local(MON_7_DEC, 10)),
        ("integration_session", "sms", local(MON_7_DEC, 10)),
    ]
    old = visit.reminders.filter(status="cancelled")
    assert old.count() == 2 and all("moved" in r.status_reason for r in old)
    visit.status = IntegrationSession.Status.CANCELLED
    visit.save()
    assert reminders_sync(visit) == []
    assert not visit.reminders.filter(status="pending").exists()
    latest = visit.reminders.filter(event_at=at(TUE_8_DEC, 10))
    assert latest.count() == 2 and all("cancelled" in r.status_reason for r in latest)


def test_an_integration_reminder_goes_out_once_with_no_clinical_detail(clinic_clock, consenting, clinician):
    book_visit(consenting, clinician, at(MON_7_DEC, 14))
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=1), 14), tick=False)
    assert sweep() == 2
    assert sweep() == 0
    assert len(mail.outbox) == 1 and len(LocmemSmsBackend.outbox) == 1
    email, sms = mail.outbox[0], LocmemSmsBackend.outbox[0]["text"]
    assert "Monday 7 December at 2:00 PM" in email.body
    assert content.clinical_words(email.subject + " " + sms, sms_or_subject=True) == []
    assert content.clinical_words(email.body + email.alternatives[0][0]) == []
    assert "Ada" not in email.body + sms and "Quill" not in email.body + sms


# ---- Check-ins -----------------------------------------------------------------------------------


def test_a_check_in_is_reminded_when_it_opens_and_a_day_after_it_was_due(clinic_clock, consenting):
    checkin = open_checkin(consenting, at(TUE_8_DEC, 9))
    fri = TUE_8_DEC + timedelta(days=3)
    assert plan(checkin.reminders.all()) == [
        ("checkin_opens", "email", local(TUE_8_DEC, 9)),
        ("checkin_opens", "sms", local(TUE_8_DEC, 9)),
        ("checkin_overdue", "email", local(fri + timedelta(days=1), 9)),
        ("checkin_overdue", "sms", local(fri + timedelta(days=1), 9)),
    ]


def test_a_check_in_opening_in_quiet_hours_is_reminded_when_they_end(clinic_clock, consenting):
    checkin = open_checkin(consenting, at(TUE_8_DEC, 6, 30))
    opens = [r for r in checkin.reminders.all() if r.rule.event == "checkin_opens"]
    assert {timezone.localtime(r.scheduled_for).hour for r in opens} == {8}


def test_a_completed_check_in_gets_no_overdue_nudge(clinic_clock, consenting):
    checkin = open_checkin(consenting, at(TUE_8_DEC, 9))
    clinic_clock.move_to(at(TUE_8_DEC, 9), tick=False)
    sweep()
    assert len(mail.outbox) == 1 and "questionnaire" in mail.outbox[0].subject
    CheckIn.objects.filter(pk=checkin.pk).update(status="completed", completed_at=timezone.now())
    checkin.refresh_from_db()
    reminders_sync(checkin)
    nudges = checkin.reminders.filter(rule__event="checkin_overdue")
    assert {r.status for r in nudges} == {"cancelled"}
    assert all("completed" in r.status_reason for r in nudges)
    clinic_clock.move_to(at(TUE_8_DEC + timedelta(days=4), 9), tick=False)
    assert sweep() == 0
    assert len(mail.outbox) == 1


def test_a_nudge_that_escaped_cancellation_is_stopped_when_the_check_in_is_done(clinic_clock, consenting):
    checkin = open_checkin(consenting, at(TUE_8_DEC, 9))
    nudge = checkin.reminders.get(rule__event="checkin_overdue", channel="sms")
    CheckIn.objects.filter(pk=checkin.pk).update(status="completed", completed_at=timezone.now())  # no sync
    clinic_clock.move_to(nudge.scheduled_for, tick=False)
    reminder_deliver(reminder_id=nudge.pk)
    nudge.refresh_from_db()
    assert nudge.status == "cancelled" and "completed" in nudge.status_reason
    assert not LocmemSmsBackend.outbox


def test_the_overdue_nudge_says_the_questionnaire_is_still_waiting(clinic_clock, consenting):
    checkin = open_checkin(consenting, at(TUE_8_DEC, 9))
    nudge = checkin.reminders.get(rule__event="checkin_overdue", channel="email")
    clinic_clock.move_to(nudge.scheduled_for, tick=False)
    reminder_deliver(reminder_id=nudge.pk)
    assert "Still waiting" in mail.outbox[-1].subject
    assert "Friday 11 December" in mail.outbox[-1].body


def test_time_travel_over_a_check_in_series_sends_exactly_the_expected_messages(clinic_clock, consenting):
    consenting.consents_to_sms = False
    consenting.save()
    checkins = [open_checkin(consenting, at(TUE_8_DEC + timedelta(weeks=week), 9)) for week in range(4)]
    done_weeks = {0, 2}  # the patient fills these in on the day they open; weeks 1 and 3 are left undone
    sent = []
    moment = at(TUE_8_DEC, 0)
    end = at(TUE_8_DEC + timedelta(weeks=5), 0)
    while moment < end:
        clinic_clock.move_to(moment, tick=False)
        sweep()
        for week in done_weeks:
            checkin = checkins[week]
            checkin.refresh_from_db()
            if checkin.status == "open" and moment >= checkin.opens_at + timedelta(hours=2):
                CheckIn.objects.filter(pk=checkin.pk).update(status="completed", completed_at=moment)
                checkin.refresh_from_db()
                reminders_sync(checkin)
        for email in mail.outbox[len(sent) :]:
            sent.append((timezone.localtime(moment).replace(tzinfo=None), email.subject.split(":")[0]))
        moment += timedelta(hours=1)
    opened = [(local(TUE_8_DEC + timedelta(weeks=w), 9), "A short questionnaire from KAP Clinic") for w in range(4)]
    nudged = [(local(TUE_8_DEC + timedelta(weeks=w, days=4), 9), "Still waiting") for w in (1, 3)]
    assert sorted(sent) == sorted(opened + nudged)


# ---- Preparation in dosing reminders -------------------------------------------------------------


@pytest.mark.parametrize("route", [r.value for r in Route])
def test_dosing_reminders_carry_the_routes_preparation(clinic_clock, consenting, clinician, room, route, settings):
    settings.REMINDER_QUIET_START = settings.REMINDER_QUIET_END = "00:00"
    series = book_series(consenting, clinician, room, route=route)
    session = series.sessions.order_by("starts_at").first()
    preparation = PreparationText.objects.get(route=route)
    for reminder in session.reminders.filter(rule__offset_minutes=2880):
        clinic_clock.move_to(reminder.scheduled_for, tick=False)
        reminder_deliver(reminder_id=reminder.pk)
    email, sms = mail.outbox[0], LocmemSmsBackend.outbox[0]["text"]
    assert preparation.email_text in " ".join(email.body.split())
    assert preparation.email_text.replace("'", "&#x27;") in " ".join(email.alternatives[0][0].split())
    assert preparation.sms_text in sms
    assert content.clinical_words(email.body + email.alternatives[0][0]) == []
    assert content.clinical_words(email.subject + " " + sms, sms_or_subject=True) == []


def test_preparation_text_that_names_the_drug_or_the_route_is_refused():
    text = PreparationText.objects.get(route="intranasal")
    text.email_text = "Bring your esketamine device."
    text.sms_text = "Use your nose spray 1 h before."
    with pytest.raises(ValidationError) as refused:
        text.full_clean()
    assert set(refused.value.message_dict) == {"email_text", "sms_text"}
    assert "esketamine" in refused.value.message_dict["email_text"][0]


def test_a_message_that_would_reveal_the_treatment_is_refused_visibly(clinic_clock, consenting, clinician, room):
    PreparationText.objects.filter(route="iv").update(sms_text="Your ketamine infusion: no food 6 h before.")
    series = book_series(consenting, clinician, room, route="iv")
    reminder = series.sessions.order_by("starts_at").first().reminders.get(rule__offset_minutes=2880, channel="sms")
    clinic_clock.move_to(reminder.scheduled_for, tick=False)
    reminder_deliver(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == "failed"
    assert "clinical detail" in reminder.status_reason and "ketamine" in reminder.status_reason
    assert not LocmemSmsBackend.outbox


# ---- Consent changed after booking ---------------------------------------------------------------


def test_consent_given_after_booking_plans_reminders_for_what_is_already_booked(
    clinic_clock, patient, clinician, room, front_desk
):
    from patients.services import patient_update

    series = book_series(patient, clinician, room)
    checkin = open_checkin(patient, at(TUE_8_DEC, 9))
    assert not Reminder.objects.exists()
    patient_update(patient=patient, updated_by=front_desk, email="ada@example.org", consents_to_email=True)
    first = series.sessions.order_by("starts_at").first()
    assert {(r.rule.offset_minutes, r.channel) for r in first.reminders.filter(status="pending")} == {
        (2880, "email"),
        (120, "email"),
    }
    assert checkin.reminders.filter(status="pending", channel="email").count() == 2
    # Withdrawn again: nothing more goes out by email.
    patient_update(patient=patient, updated_by=front_desk, consents_to_email=False)
    assert not Reminder.objects.filter(status="pending").exists()
    assert all("consent" in r.status_reason for r in Reminder.objects.all())


def test_consent_given_in_the_back_office_plans_reminders_too(
    clinic_clock, patient, clinician, room, admin_user, client
):
    from tests.conftest import sign_in

    series = book_series(patient, clinician, room)
    assert not Reminder.objects.exists()
    sign_in(client, admin_user)
    url = f"/admin/patients/patient/{patient.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    data.update(email="ada@example.org", consents_to_email="on")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    first = series.sessions.order_by("starts_at").first()
    assert {r.channel for r in first.reminders.filter(status="pending")} == {"email"}


def test_a_change_that_is_not_about_contact_leaves_reminders_alone(
    clinic_clock, consenting, clinician, room, front_desk
):
    from patients.services import patient_update

    book_series(consenting, clinician, room)
    before = list(Reminder.objects.values_list("pk", "status", "updated_at"))
    patient_update(patient=consenting, updated_by=front_desk, referral_source="GP letter")
    assert list(Reminder.objects.values_list("pk", "status", "updated_at")) == before


def test_admins_edit_preparation_texts_and_clinical_words_are_refused_with_the_input_kept(admin_user, client):
    from tests.conftest import sign_in

    sign_in(client, admin_user)
    text = PreparationText.objects.get(route="oral")
    url = f"/admin/notifications/preparationtext/{text.pk}/change/"
    refused = client.post(url, {"route": "oral", "email_text": "Take your ketamine lozenge.", "sms_text": "Ok."})
    assert refused.status_code == 200 and "ketamine" in refused.content.decode()
    text.refresh_from_db()
    assert "ketamine" not in text.email_text
    client.post(url, {"route": "oral", "email_text": "Only a light meal in the 4 hours before.", "sms_text": "Ok."})
    text.refresh_from_db()
    assert text.email_text == "Only a light meal in the 4 hours before."


# ---- Through the aftercare services --------------------------------------------------------------


def test_aftercare_services_keep_reminders_in_step(clinic_clock, consenting, clinician, patient_user):
    from aftercare import services as aftercare

    visit = aftercare.integration_session_book(
        patient=consenting, clinician=clinician, modality="mbct", starts_at=at(TUE_8_DEC, 15), by=clinician
    )
    assert visit.reminders.filter(status="pending").count() == 2
    aftercare.integration_session_reschedule(integration_session=visit, starts_at=at(TUE_8_DEC, 16), by=clinician)
    reminders = visit.reminders.filter(notice_key__isnull=True)
    assert {timezone.localtime(r.scheduled_for).hour for r in reminders.filter(status="pending")} == {16}
    aftercare.integration_session_cancel(integration_session=visit, reason="Patient unwell.", by=clinician)
    assert not reminders.filter(status="pending").exists()
    # The move's notices were replaced by the cancellation's, one per channel.
    assert visit.reminders.filter(notice_key__isnull=False, status="pending").count() == 2

    checkins = aftercare.checkin_series_create(patient=consenting, by=clinician, induction_ended_on=MON_7_DEC)
    first = checkins[0]
    assert first.reminders.filter(status="pending").count() == 4  # opening and overdue, by email and SMS
    clinic_clock.move_to(first.opens_at + timedelta(hours=1), tick=False)
    answers = {code: [0] * len(instruments.get(code).items) for code in first.instruments}
    aftercare.checkin_submit(checkin=first, answers=answers, by=patient_user)
    assert not first.reminders.filter(status="pending").exists()
    second = checkins[1]
    clinic_clock.move_to(second.closes_at + timedelta(minutes=1), tick=False)
    aftercare.checkin_mark_missed(checkin_id=second.pk)
    assert not second.reminders.filter(status="pending").exists()


def test_links_and_the_clinics_own_name_are_not_read_as_clinical_words(settings):
    settings.CLINIC_NAME = "Bay Ketamine Center"
    text = "Bay Ketamine Center: confirm at https://clinic.example/reminders/confirm/eyJz:1xX-mg-Iv/ please."
    assert content.clinical_words(text) != []
    assert content.clinical_words(content.without_links(text), sms_or_subject=True) == []


def test_a_signed_link_that_happens_to_spell_a_word_does_not_stop_the_reminder(
    clinic_clock, consenting, clinician, room, monkeypatch
):
    from sessions import confirmation

    monkeypatch.setattr(confirmation, "confirm_token", lambda session: "eyJzIjo:1xX-mg-PTSD")
    series = book_series(consenting, clinician, room)
    reminder = series.sessions.order_by("starts_at").first().reminders.get(rule__offset_minutes=2880, channel="email")
    clinic_clock.move_to(reminder.scheduled_for, tick=False)
    reminder_deliver(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == "sent"
    assert "-mg-PTSD" in mail.outbox[0].body


def test_plain_text_reminders_are_not_html_escaped(clinic_clock, consenting, clinician, room, settings):
    """O'Brien, not O&#x27;Brien: the text part, subject and SMS are plain text; only the HTML part is escaped."""
    settings.REMINDER_QUIET_START = settings.REMINDER_QUIET_END = "00:00"
    settings.CLINIC_NAME = "O'Brien & Daughters Clinic"
    series = book_series(consenting, clinician, room, route="iv")
    session = series.sessions.order_by("starts_at").first()
    for reminder in session.reminders.filter(rule__offset_minutes=2880):
        clinic_clock.move_to(reminder.scheduled_for, tick=False)
        reminder_deliver(reminder_id=reminder.pk)
    email, sms = mail.outbox[0], LocmemSmsBackend.outbox[0]["text"]
    for text in (email.subject, email.body, sms):
        assert "O'Brien & Daughters Clinic" in text
        assert "&#x27;" not in text and "&amp;" not in text
    assert "O&#x27;Brien &amp; Daughters Clinic" in email.alternatives[0][0]
