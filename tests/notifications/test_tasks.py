import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.notifications import tasks
from kap_clinic.kernel.notifications.backends import LocmemSmsBackend
from kap_clinic.kernel.notifications.delivery import reminder_deliver, reminders_settle_stale
from kap_clinic.kernel.notifications.models import DeliveryAttempt, Reminder
from kap_clinic.kernel.notifications.planning import reminder_resend
from sessions.confirmation import confirm_token, session_confirm, session_for_confirm_token
from sessions.models import Route
from sessions.scheduling.changes import session_cancel, session_reschedule

from .conftest import MON_7_DEC, at, book_series

pytestmark = pytest.mark.django_db

# Words that would tell a reader of a lock screen or a mailbox list what the patient is treated for.
CLINICAL = re.compile(
    r"ketamine|esketamine|spravato|infusion|intravenous|\bIV\b|\bIM\b|intramuscular|intranasal|nasal|sublingual|"
    r"lozenge|dose|depress|suicid|PTSD|psychiatr|treatment|therapy|mg\b|fasting|nothing by mouth",
    re.IGNORECASE,
)


def sweep():
    return tasks.release_due_reminders.apply().get()


def first_session(plan):
    return plan.sessions.order_by("starts_at").first()


@pytest.fixture
def series(clinic_clock, consenting, clinician, room):
    return book_series(consenting, clinician, room)


def test_due_reminders_go_out_once_on_each_channel(series, clinic_clock):
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=2), 9), tick=False)
    assert sweep() == 2
    assert len(mail.outbox) == 1 and len(LocmemSmsBackend.outbox) == 1
    assert sweep() == 0
    assert len(mail.outbox) == 1 and len(LocmemSmsBackend.outbox) == 1
    sent = Reminder.objects.filter(status="sent")
    assert sent.count() == 2
    assert {r.recipient for r in sent} == {"ada@example.org", "+1 555 0100"}
    assert set(DeliveryAttempt.objects.values_list("outcome", flat=True)) == {"accepted"}


def test_a_task_delivered_twice_sends_once(series, clinic_clock):
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=2), 9), tick=False)
    reminder = Reminder.objects.filter(channel="sms", status="pending").order_by("scheduled_for").first()
    tasks.send_reminder.apply(args=(reminder.pk,))
    tasks.send_reminder.apply(args=(reminder.pk,))
    assert len(LocmemSmsBackend.outbox) == 1
    assert reminder.attempts_made.count() == 1


def test_a_reminder_not_yet_due_is_not_sent(series):
    reminder = Reminder.objects.order_by("scheduled_for").first()
    assert reminder_deliver(reminder_id=reminder.pk) is None
    assert sweep() == 0
    assert not mail.outbox and not LocmemSmsBackend.outbox


@pytest.mark.parametrize("route", [r.value for r in Route])
def test_messages_carry_no_clinical_detail(clinic_clock, consenting, clinician, room, route, settings):
    settings.REMINDER_QUIET_START = settings.REMINDER_QUIET_END = "00:00"
    plan = book_series(consenting, clinician, room, route=route)
    session = first_session(plan)
    assert CLINICAL.search(session.protocol.preparation_instructions + " " + session.protocol.name)
    for reminder in session.reminders.all():
        clinic_clock.move_to(reminder.scheduled_for, tick=False)
        reminder_deliver(reminder_id=reminder.pk)
    assert len(mail.outbox) == 2 and len(LocmemSmsBackend.outbox) == 2
    for email in mail.outbox:
        html = email.alternatives[0][0]
        for text in (email.subject, email.body, html):
            assert not CLINICAL.search(text), text
            assert "Quill" not in text and "Ada" not in text
        assert "7 Dec" in email.subject or "December 7" in email.body
    for sms in LocmemSmsBackend.outbox:
        assert not CLINICAL.search(sms["text"]), sms["text"]
        assert len(sms["text"]) <= 320


def test_48_hour_reminder_carries_a_working_confirmation_link(series, clinic_clock, client):
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=2), 9), tick=False)
    sweep()
    link = re.search(r"https?://\S+/reminders/confirm/\S+/", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 200
    response = client.post("/" + path, {"driver_name": "Sam Quill"})
    assert response.status_code == 200
    session = first_session(series)
    assert session.confirmation.driver_name == "Sam Quill"
    assert session.confirmation.confirmed_start == session.starts_at


def test_confirmation_link_dies_when_the_session_moves_or_expires(series, clinic_clock, clinician, settings):
    session = first_session(series)
    token = confirm_token(session)
    assert session_for_confirm_token(token) == session
    assert session_for_confirm_token(token + "x") is None
    session_reschedule(session=session, new_start=at(MON_7_DEC, 13), by=clinician)
    assert session_for_confirm_token(token) is None
    session.refresh_from_db()
    fresh = confirm_token(session)
    clinic_clock.move_to(timezone.now() + timedelta(days=settings.REMINDER_CONFIRM_LINK_DAYS, minutes=1), tick=False)
    assert session_for_confirm_token(fresh) is None


def test_moved_session_is_never_reminded_for_its_old_time(series, clinic_clock, clinician):
    session = first_session(series)
    stale = session.reminders.get(channel="sms", rule__offset_minutes=120)
    # The row escaped cancellation (e.g. claimed before the move committed): the send-time check still stops it.
    session_reschedule(session=session, new_start=at(MON_7_DEC, 13), by=clinician)
    Reminder.objects.filter(pk=stale.pk).update(status="pending")
    clinic_clock.move_to(at(MON_7_DEC, 8, 30), tick=False)
    reminder_deliver(reminder_id=stale.pk)
    stale.refresh_from_db()
    assert stale.status == "cancelled" and "moved" in stale.status_reason
    assert not LocmemSmsBackend.outbox


def test_missing_sms_configuration_is_a_visible_failure(series, clinic_clock, settings):
    settings.SMS_BACKEND = ""
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=2), 9), tick=False)
    sweep()
    sms = Reminder.objects.get(channel="sms", status__in=["failed", "sent"])
    assert sms.status == "failed"
    assert "not configured" in sms.status_reason
    assert sms.attempts_made.get().outcome == "failed"
    assert Reminder.objects.get(channel="email", status__in=["failed", "sent"]).status == "sent"


def test_a_transient_failure_is_retried_with_backoff_then_sent(series, clinic_clock, monkeypatch):
    from kap_clinic.kernel.notifications.backends import SendResult

    real_send = LocmemSmsBackend.send
    answers = iter([SendResult(False, "provider timeout"), None])

    def flaky(self, to, text, key):
        answer = next(answers)
        return answer if answer is not None else real_send(self, to, text, key)

    monkeypatch.setattr(LocmemSmsBackend, "send", flaky)
    due = at(MON_7_DEC - timedelta(days=2), 9)
    clinic_clock.move_to(due, tick=False)
    sweep()
    sms = Reminder.objects.get(channel="sms", attempts=1)
    assert sms.status == "pending" and sms.next_try_at == due + timedelta(seconds=60)
    sweep()
    assert not LocmemSmsBackend.outbox
    clinic_clock.move_to(due + timedelta(seconds=61), tick=False)
    sweep()
    sms.refresh_from_db()
    assert sms.status == "sent" and len(LocmemSmsBackend.outbox) == 1
    assert list(sms.attempts_made.values_list("outcome", flat=True)) == ["failed", "accepted"]


def crash_mid_send(reminder_id, *, reached_backend: bool):
    """What a SIGKILL leaves behind: the row claimed, the attempt written, the send perhaps done, nothing settled."""
    reminder = Reminder.objects.get(pk=reminder_id)
    Reminder.objects.filter(pk=reminder_id).update(status="sending", attempts=1, claimed_at=timezone.now())
    attempt = DeliveryAttempt.objects.create(reminder=reminder, number=1, idempotency_key=reminder.idempotency_key(1))
    if reached_backend:
        LocmemSmsBackend().send("+1 555 0100", "text", attempt.idempotency_key)
    return attempt


@pytest.mark.parametrize("reached_backend", [True, False])
def test_a_crash_in_sending_is_settled_through_the_idempotency_key(series, clinic_clock, settings, reached_backend):
    due = at(MON_7_DEC - timedelta(days=2), 9)
    clinic_clock.move_to(due, tick=False)
    sms = Reminder.objects.get(channel="sms", scheduled_for=due)
    crash_mid_send(sms.pk, reached_backend=reached_backend)
    assert reminders_settle_stale() == {}  # within the lease: the sender may still be working
    clinic_clock.move_to(due + timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS + 1), tick=False)
    sweep()
    sweep()
    sms.refresh_from_db()
    assert sms.status == "sent"
    assert len(LocmemSmsBackend.outbox) == 1
    outcomes = list(sms.attempts_made.values_list("outcome", flat=True))
    assert outcomes == (["settled_sent"] if reached_backend else ["settled_not_sent", "accepted"])


def test_a_crash_the_backend_cannot_settle_is_flagged_and_resent_only_by_hand(
    series, clinic_clock, settings, front_desk
):
    settings.SMS_BACKEND = "kap_clinic.kernel.notifications.backends.ConsoleSmsBackend"
    due = at(MON_7_DEC - timedelta(days=2), 9)
    clinic_clock.move_to(due, tick=False)
    sms = Reminder.objects.get(channel="sms", scheduled_for=due)
    crash_mid_send(sms.pk, reached_backend=False)
    clinic_clock.move_to(due + timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS + 1), tick=False)
    sweep()
    sweep()
    sms.refresh_from_db()
    assert sms.status == "failed" and sms.needs_attention
    assert sms.attempts_made.get().outcome == "unknown"
    settings.SMS_BACKEND = "kap_clinic.kernel.notifications.backends.LocmemSmsBackend"
    reminder_resend(reminder=sms, by=front_desk)
    sweep()
    sms.refresh_from_db()
    assert sms.status == "sent" and not sms.needs_attention and len(LocmemSmsBackend.outbox) == 1


def test_staff_see_failures_with_reasons_and_resend_by_post(series, clinic_clock, settings, client_for, front_desk):
    settings.SMS_BACKEND = ""
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=2), 9), tick=False)
    sweep()
    failed = Reminder.objects.get(status="failed")
    client = client_for(front_desk)
    page = client.get(reverse("notifications:list") + "?status=failed").content.decode()
    assert "not configured" in page and "Send again" in page
    assert client.get(reverse("notifications:resend", args=[failed.pk])).status_code == 405
    settings.SMS_BACKEND = "kap_clinic.kernel.notifications.backends.LocmemSmsBackend"
    response = client.post(reverse("notifications:resend", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status in ("pending", "sent")


def test_clinician_cannot_resend_another_clinicians_patient(series, other_clinician, client_for):
    reminder = Reminder.objects.first()
    client = client_for(other_clinician)
    assert client.post(reverse("notifications:resend", args=[reminder.pk])).status_code == 404


def test_front_desk_sees_tomorrows_unconfirmed_sessions(series, clinic_clock, client_for, front_desk):
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=1), 12), tick=False)
    client = client_for(front_desk)
    page = client.get(reverse("homes:home")).content.decode()
    assert "Not confirmed; no driver named" in page
    session_confirm(session=first_session(series), driver_name="Sam Quill")
    page = client.get(reverse("homes:home")).content.decode()
    assert "Not confirmed; no driver named" not in page
    assert "Everyone for tomorrow has confirmed" in page


def test_the_schedule_day_view_shows_attendance_and_driver(series, clinic_clock, client_for, front_desk):
    client = client_for(front_desk)
    day = {"day": MON_7_DEC.isoformat(), "span": "day"}
    page = client.get(reverse("sessions:schedule"), day).content.decode()
    assert "Not confirmed" in page
    session_confirm(session=first_session(series), driver_name="Sam Quill")
    page = client.get(reverse("sessions:schedule"), day).content.decode()
    assert "Confirmed" in page and "Driver: Sam Quill" in page and "Not confirmed" not in page


def test_time_travel_over_a_whole_induction_sends_exactly_the_expected_reminders(series, clinic_clock, clinician):
    """Six IV sessions Mon/Wed/Fri from 7 Dec 2026 at 09:00; session 3 moved to 14:00 on the Thursday before."""
    sessions = list(series.sessions.order_by("starts_at"))
    assert [timezone.localtime(s.starts_at).day for s in sessions] == [7, 9, 11, 14, 16, 18]
    moment = timezone.now()
    end = at(MON_7_DEC + timedelta(days=12), 10)
    moved = False
    while moment < end:
        moment += timedelta(minutes=30)
        clinic_clock.move_to(moment, tick=False)
        if not moved and moment >= at(MON_7_DEC + timedelta(days=2), 12):  # Wed noon: Friday's session moves
            session_reschedule(session=sessions[2], new_start=at(MON_7_DEC + timedelta(days=4), 14), by=clinician)
            moved = True
        sweep()
    sent = sorted(
        (timezone.localtime(r.sent_at).strftime("%a %d %H:%M"), r.channel, r.session.sequence)
        for r in Reminder.objects.filter(status="sent").select_related("session")
    )
    expected = []
    for sequence, day, hour in [(1, 7, 9), (2, 9, 9), (3, 11, 14), (4, 14, 9), (5, 16, 9), (6, 18, 9)]:
        start = at(MON_7_DEC.replace(day=day), hour)
        two_before = max(start - timedelta(hours=2), at(start.date(), 8))  # quiet hours end at 08:00
        times = [start - timedelta(days=2), two_before]
        if sequence == 3:  # the 48 h reminder for Friday 09:00 went out on Wednesday at 09:00, then it moved to 14:00
            times = [at(MON_7_DEC.replace(day=9), 9), start - timedelta(days=2), start - timedelta(hours=2)]
        for when in times:
            for channel in ("email", "sms"):
                expected.append((timezone.localtime(when).strftime("%a %d %H:%M"), channel, sequence))
    # The move is told to the patient when it is made (Wednesday noon), once per channel.
    expected += [("Wed 09 12:00", channel, 3) for channel in ("email", "sms")]
    assert sent == sorted(expected)
    assert len(mail.outbox) + len(LocmemSmsBackend.outbox) == len(expected)
    assert not Reminder.objects.filter(status__in=["pending", "sending", "failed"]).exists()


def test_a_reminder_left_sending_for_a_since_cancelled_session_never_goes_out(
    series, clinic_clock, settings, clinician
):
    due = at(MON_7_DEC - timedelta(days=2), 9)
    clinic_clock.move_to(due, tick=False)
    sms = Reminder.objects.get(channel="sms", scheduled_for=due)
    crash_mid_send(sms.pk, reached_backend=False)
    session_cancel(session=sms.session, by=clinician, reason="Patient unwell", cancelled_by="patient")
    sms.refresh_from_db()
    assert sms.status == "sending"  # the cancellation leaves a claimed row to its sender, or to the settle step
    clinic_clock.move_to(due + timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS + 1), tick=False)
    sweep()
    sweep()
    sms.refresh_from_db()
    assert sms.status == "cancelled" and "cancelled" in sms.status_reason
    assert list(sms.attempts_made.values_list("outcome", flat=True)) == ["settled_not_sent", "skipped"]
    # Only the notice of the cancellation went out, never the reminder.
    assert [m["text"] for m in LocmemSmsBackend.outbox if "is cancelled" not in m["text"]] == []
    assert len(LocmemSmsBackend.outbox) == 1
