from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.notifications.models import Reminder
from kap_clinic.kernel.notifications.planning import reminders_sync
from sessions.scheduling.changes import session_cancel, session_check_in, session_no_show, session_reschedule

from .conftest import MON_7_DEC, at, book_series

pytestmark = pytest.mark.django_db


def reminder_times(session):
    # Reminders of the session (the notices of a move or cancellation are tested in test_change_notices.py).
    rows = session.reminders.filter(status=Reminder.Status.PENDING, notice_key__isnull=True).select_related("rule")
    return sorted((r.rule.offset_minutes, r.channel, timezone.localtime(r.scheduled_for)) for r in rows)


def test_booking_a_series_writes_48_and_2_hour_reminders_on_each_consented_channel(
    clinic_clock, consenting, clinician, room
):
    plan = book_series(consenting, clinician, room)
    first = plan.sessions.order_by("starts_at").first()
    assert first.starts_at == at(MON_7_DEC, 9)
    sat = MON_7_DEC - timedelta(days=2)
    # 2 h before 09:00 is 07:00, in quiet hours (21:00-08:00): moved to 08:00.
    assert reminder_times(first) == [
        (120, "email", at(MON_7_DEC, 8)),
        (120, "sms", at(MON_7_DEC, 8)),
        (2880, "email", at(sat, 9)),
        (2880, "sms", at(sat, 9)),
    ]
    assert Reminder.objects.filter(session__plan=plan).count() == 4 * plan.sessions.count()


def test_no_reminders_without_consent(clinic_clock, patient, clinician, room):
    patient.email, patient.consents_to_email, patient.phone, patient.consents_to_sms = "a@example.org", False, "", True
    patient.save()
    book_series(patient, clinician, room)
    assert not Reminder.objects.exists()


def test_only_the_consented_channel(clinic_clock, consenting, clinician, room):
    consenting.consents_to_sms = False
    consenting.save()
    book_series(consenting, clinician, room)
    assert set(Reminder.objects.values_list("channel", flat=True)) == {"email"}


def test_reschedule_replaces_pending_reminders(clinic_clock, consenting, clinician, room):
    plan = book_series(consenting, clinician, room)
    sessions = list(plan.sessions.order_by("starts_at"))
    old_ids = set(sessions[0].reminders.values_list("pk", flat=True))
    session_reschedule(session=sessions[0], new_start=at(MON_7_DEC, 13), by=clinician)
    sessions[0].refresh_from_db()
    assert set(Reminder.objects.filter(pk__in=old_ids).values_list("status", flat=True)) == {Reminder.Status.CANCELLED}
    assert reminder_times(sessions[0]) == [
        (120, "email", at(MON_7_DEC, 11)),
        (120, "sms", at(MON_7_DEC, 11)),
        (2880, "email", at(MON_7_DEC - timedelta(days=2), 13)),
        (2880, "sms", at(MON_7_DEC - timedelta(days=2), 13)),
    ]
    assert all(r.event_at == sessions[0].starts_at for r in sessions[0].reminders.filter(status="pending"))


def test_moving_back_revives_the_original_reminders_without_duplicates(clinic_clock, consenting, clinician, room):
    plan = book_series(consenting, clinician, room)
    first = plan.sessions.order_by("starts_at").first()
    session_reschedule(session=first, new_start=at(MON_7_DEC, 13), by=clinician)
    session_reschedule(session=first, new_start=at(MON_7_DEC, 9), by=clinician)
    reminders = first.reminders.filter(notice_key__isnull=True)
    assert reminders.filter(status="pending").count() == 4
    assert reminders.count() == 8  # four for 09:00 (revived) and four cancelled for 13:00
    # Each move told the patient once per channel; only the latest notice still waits.
    assert first.reminders.filter(notice_key__isnull=False).count() == 4


def test_reminders_roll_back_with_a_failed_reschedule(clinic_clock, consenting, clinician, room):
    plan = book_series(consenting, clinician, room)
    first = plan.sessions.order_by("starts_at").first()
    before = sorted(Reminder.objects.values_list("pk", "status", "scheduled_for"))

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        session_reschedule(session=first, new_start=at(MON_7_DEC, 13), by=clinician)
        raise Abandoned
    assert sorted(Reminder.objects.values_list("pk", "status", "scheduled_for")) == before


def test_refused_reschedule_writes_no_reminders(clinic_clock, consenting, clinician, room):
    plan = book_series(consenting, clinician, room)
    first = plan.sessions.order_by("starts_at").first()
    before = Reminder.objects.count()
    with pytest.raises(ValidationError):
        session_reschedule(session=first, new_start=at(MON_7_DEC - timedelta(days=30), 9), by=clinician)
    assert Reminder.objects.count() == before


@pytest.mark.parametrize("action", ["cancel", "check_in"])
def test_cancel_and_check_in_cancel_pending_reminders(clinic_clock, consenting, clinician, room, action):
    plan = book_series(consenting, clinician, room)
    first = plan.sessions.order_by("starts_at").first()
    if action == "cancel":
        session_cancel(session=first, by=clinician, reason="Patient unwell", cancelled_by="patient")
    else:
        clinic_clock.move_to(at(MON_7_DEC, 8, 50), tick=False)
        session_check_in(session=first, by=clinician)
    reminders = first.reminders.filter(notice_key__isnull=True)
    statuses = set(reminders.exclude(status="sent").values_list("status", flat=True))
    assert statuses == {Reminder.Status.CANCELLED}
    assert Reminder.objects.filter(status="pending").exclude(session=first).count() == 20
    notices = first.reminders.filter(notice_key__isnull=False, status="pending")
    assert notices.count() == (2 if action == "cancel" else 0)  # the patient hears of a cancellation


def test_no_show_cancels_what_is_still_pending(clinic_clock, consenting, clinician, room):
    plan = book_series(consenting, clinician, room)
    first = plan.sessions.order_by("starts_at").first()
    clinic_clock.move_to(at(MON_7_DEC, 9, 30), tick=False)
    session_no_show(session=first, by=clinician)
    assert not first.reminders.filter(status="pending").exists()


def test_sync_twice_changes_nothing(clinic_clock, consenting, clinician, room):
    plan = book_series(consenting, clinician, room)
    first = plan.sessions.order_by("starts_at").first()
    before = sorted(Reminder.objects.values_list("pk", "status", "scheduled_for"))
    reminders_sync(first)
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=1), 12), tick=False)  # the 48 h one is now overdue
    reminders_sync(first)
    assert sorted(Reminder.objects.values_list("pk", "status", "scheduled_for")) == before
