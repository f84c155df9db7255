"""Patients hear when staff move or cancel an appointment: one notice per change and channel, through the reminder
outbox, with the patient's consent, the new time and the clinic's phone, and nothing clinical."""

import re
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from aftercare.services import integration_session_cancel, integration_session_reschedule
from kap_clinic.kernel.notifications import tasks
from kap_clinic.kernel.notifications.backends import LocmemSmsBackend
from kap_clinic.kernel.notifications.models import NOTICE_EVENTS, Reminder, ReminderRule
from kap_clinic.kernel.notifications.planning import notice_write
from sessions.scheduling.changes import session_cancel, session_reschedule
from tests.aftercare.helpers import book, local_at

from .conftest import CLINIC_TZ, MON_7_DEC, at, book_series

pytestmark = pytest.mark.django_db

Event = ReminderRule.Event
CLINICAL = re.compile(r"ketamine|infusion|\bIV\b|nasal|dose|dosing|treatment|therap|integration", re.IGNORECASE)


def notices(**target):
    return Reminder.objects.filter(rule__event__in=NOTICE_EVENTS, **target).order_by("channel")


def sweep():
    return tasks.release_due_reminders.apply().get()


@pytest.fixture
def phone(settings):
    settings.REMS_SETTING_PHONE = "+1 555 0199"


@pytest.fixture
def first(clinic_clock, consenting, clinician, room):
    return book_series(consenting, clinician, room).sessions.order_by("starts_at").first()


def test_moving_a_dosing_session_writes_one_notice_per_channel_and_sends_it(first, clinician, phone):
    session_reschedule(session=first, new_start=at(MON_7_DEC, 13), by=clinician)
    first.refresh_from_db()
    rows = list(notices(session=first))
    assert [(r.channel, r.rule.event, r.event_at) for r in rows] == [
        ("email", Event.APPOINTMENT_MOVED, first.starts_at),
        ("sms", Event.APPOINTMENT_MOVED, first.starts_at),
    ]
    # Later sessions of the series pushed by the move are told of their new times as well, each once.
    assert (
        sweep()
        == notices().count()
        == 2 * Reminder.objects.filter(notice_key__isnull=False).values("session").distinct().count()
    )
    assert sweep() == 0
    assert len(mail.outbox) == len(LocmemSmsBackend.outbox) == notices().count() // 2
    text = next(m["text"] for m in LocmemSmsBackend.outbox if "Mon 7 Dec 2026, 1:00 PM" in m["text"])
    assert "+1 555 0199" in text
    email = next(m for m in mail.outbox if "Mon 7 Dec 2026, 1:00 PM" in m.subject)
    assert "Mon 7 Dec 2026, 1:00 PM" in email.subject
    assert "+1 555 0199" in email.body and "moved" in email.body
    for words in (text, email.subject, email.body):
        assert not CLINICAL.search(words)
    assert set(notices(session=first).values_list("status", flat=True)) == {"sent"}
    # The 48- and 2-hour reminders are still planned as before, for the new time.
    assert first.reminders.filter(status="pending", notice_key__isnull=True).count() == 4


def test_cancelling_a_dosing_session_notifies_once(first, clinician, phone):
    session_cancel(session=first, by=clinician, reason="Clinician unwell", cancelled_by="clinic")
    rows = list(notices(session=first))
    assert [(r.channel, r.rule.event) for r in rows] == [
        ("email", Event.APPOINTMENT_CANCELLED),
        ("sms", Event.APPOINTMENT_CANCELLED),
    ]
    assert sweep() == 2
    assert "cancelled" in mail.outbox[0].body and "+1 555 0199" in mail.outbox[0].body
    assert "Mon 7 Dec 2026" in mail.outbox[0].subject


def test_a_notice_respects_consent(clinic_clock, consenting, clinician, room):
    consenting.consents_to_sms = False
    consenting.save()
    first = book_series(consenting, clinician, room).sessions.order_by("starts_at").first()
    session_reschedule(session=first, new_start=at(MON_7_DEC, 13), by=clinician)
    assert list(notices(session=first).values_list("channel", flat=True)) == ["email"]
    # Consent withdrawn before the send: checked again when it goes out.
    consenting.consents_to_email = False
    consenting.save()
    sweep()
    assert not mail.outbox
    assert notices(session=first).get().status == "cancelled"


def test_at_most_once_per_change_enforced_by_the_database(first, clinician):
    session_reschedule(session=first, new_start=at(MON_7_DEC, 13), by=clinician)
    first.refresh_from_db()
    assert notice_write(first, change=Event.APPOINTMENT_MOVED) == []  # the same change again writes nothing
    assert notices(session=first).count() == 2
    row = notices(session=first).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            notice_key=row.notice_key,
            patient=row.patient,
            session=first,
            rule=row.rule,
            channel=row.channel,
            scheduled_for=row.scheduled_for,
            event_at=row.event_at,
            next_try_at=row.next_try_at,
        )


def test_a_second_move_replaces_the_waiting_notice(first, clinician):
    session_reschedule(session=first, new_start=at(MON_7_DEC, 13), by=clinician)
    session_reschedule(session=first, new_start=at(MON_7_DEC, 15), by=clinician)
    rows = notices(session=first)
    assert rows.count() == 4
    assert {r.event_at for r in rows.filter(status="pending")} == {at(MON_7_DEC, 15)}
    sweep()
    about_first = [m.subject for m in mail.outbox if "Mon 7 Dec" in m.subject]
    assert len(about_first) == 1 and "3:00 PM" in about_first[0]


def test_a_notice_waits_for_the_end_of_quiet_hours(first, clinician, clinic_clock):
    clinic_clock.move_to(datetime(2026, 12, 1, 22, 30, tzinfo=CLINIC_TZ), tick=False)
    session_reschedule(session=first, new_start=at(MON_7_DEC, 13), by=clinician)
    assert {r.scheduled_for for r in notices(session=first)} == {at(MON_7_DEC - timedelta(days=5), 8)}
    assert sweep() == 0
    clinic_clock.move_to(datetime(2026, 12, 2, 8, 0, tzinfo=CLINIC_TZ), tick=False)
    assert sweep() == notices().count()  # the pushed sessions' notices too


def test_switching_the_rule_off_stops_notices(first, clinician):
    ReminderRule.objects.filter(event=Event.APPOINTMENT_CANCELLED).update(is_active=False)
    session_cancel(session=first, by=clinician, reason="Clinician unwell", cancelled_by="clinic")
    assert not notices(session=first).exists()


def test_integration_session_moved_and_cancelled(clinic_clock, consenting, clinician, phone):
    visit = book(consenting, clinician, days=3)
    integration_session_reschedule(integration_session=visit, starts_at=local_at(4, 14), by=clinician)
    assert notices(integration_session=visit, rule__event=Event.APPOINTMENT_MOVED).count() == 2
    sweep()
    assert len(mail.outbox) == 1 and len(LocmemSmsBackend.outbox) == 1
    assert "2:00 PM" in mail.outbox[0].subject and "+1 555 0199" in mail.outbox[0].body
    assert not CLINICAL.search(mail.outbox[0].body)
    integration_session_cancel(integration_session=visit, reason="Clinician unwell", by=clinician)
    assert notices(integration_session=visit, rule__event=Event.APPOINTMENT_CANCELLED).count() == 2
    sweep()
    assert len(mail.outbox) == 2 and "cancelled" in mail.outbox[1].body
