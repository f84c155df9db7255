"""With the broker unreachable, bookings still commit and due reminders wait in the database for the sweep.

The broker failure is simulated here (publishing raises kombu's OperationalError, as it does when Redis refuses the
connection); tests/notifications/test_real_worker.py stops and starts a real Redis under a real worker.
"""

import time as clock
from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from kap_clinic.celery import app as celery_app
from kap_clinic.kernel.notifications import tasks
from kap_clinic.kernel.notifications.backends import LocmemSmsBackend
from kap_clinic.kernel.notifications.models import Reminder
from kap_clinic.kernel.notifications.tasks import enqueue
from sessions.scheduling.changes import session_reschedule

from .conftest import book_series

pytestmark = pytest.mark.django_db(transaction=True)


def test_booking_and_moving_commit_while_the_broker_is_down_and_the_sweep_sends_later(
    seeded, clinic_clock, consenting, clinician, room, monkeypatch, settings
):
    settings.REMINDER_QUIET_START = settings.REMINDER_QUIET_END = "00:00"
    consenting.consents_to_email = False
    consenting.save()
    real = tasks.send_reminder.apply_async

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_reminder, "apply_async", refused)
    # Tue 1 Dec 10:00: a session on Wed 2 Dec at 16:00, so its 48 h reminder is overdue at booking: due now.
    plan = book_series(consenting, clinician, room, first_day=date(2026, 12, 2), start_time=time(16))
    first = plan.sessions.order_by("starts_at").first()
    due = list(Reminder.objects.filter(session=first, next_try_at__lte=timezone.now()))
    assert due and all(r.status == "pending" for r in due)
    assert enqueue([r.pk for r in due]) == 0  # no exception
    session_reschedule(session=first, new_start=first.starts_at - timedelta(hours=3), by=clinician)
    assert not LocmemSmsBackend.outbox

    monkeypatch.setattr(tasks.send_reminder, "apply_async", real)
    tasks.release_due_reminders.apply()
    tasks.release_due_reminders.apply()
    first.refresh_from_db()
    sent = Reminder.objects.filter(status="sent", notice_key__isnull=True)
    assert [r.event_at for r in sent] == [first.starts_at]  # only the reminder for the new time; none stale
    # The notice that the appointment moved went out too, naming the new time.
    assert [r.event_at for r in Reminder.objects.filter(status="sent", notice_key__isnull=False)] == [first.starts_at]
    assert len(LocmemSmsBackend.outbox) == 2  # the reminder and the notice, one text each


def test_enqueue_gives_up_at_once_when_the_broker_refuses():
    """No kombu reconnect loop inside a booking's request: one refused connection and the rows wait for the sweep."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = "redis://127.0.0.1:1/0", False  # nothing listens on port 1
    try:
        started = clock.monotonic()
        assert enqueue([1, 2, 3]) == 0
        assert clock.monotonic() - started < 2
    finally:
        conf.broker_url, conf.task_always_eager = saved
