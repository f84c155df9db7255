"""Two sweeps racing over the same due reminders, on PostgreSQL with a connection per thread: each sent once."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from kap_clinic.kernel.notifications import tasks
from kap_clinic.kernel.notifications.backends import LocmemSmsBackend
from kap_clinic.kernel.notifications.models import Reminder
from tests.conftest import skip_or_fail

from .conftest import book_series, sms_reminders_due_now

pytestmark = pytest.mark.django_db(transaction=True)
COUNT = 1000


@pytest.fixture
def many_due(seeded, consenting, clinician, room, settings):
    if connection.vendor != "postgresql":
        skip_or_fail(f"The race test needs PostgreSQL (row locks between connections), not {connection.vendor}")
    settings.REMINDER_REQUEUE_SECONDS = 0  # every sweep releases every due row: the claim alone decides
    session = sms_reminders_due_now(consenting, clinician, room, COUNT)
    return session


def run_concurrently(target, n=2):
    errors, barrier = [], threading.Barrier(n)

    def body():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors


def test_two_sweeps_racing_over_1000_due_reminders_send_each_once(many_due):
    def sweep_until_done():
        while Reminder.objects.filter(status="pending").exists():
            tasks.release_due_reminders.apply()

    run_concurrently(sweep_until_done)
    keys = Counter(m["key"].rsplit("-attempt-", 1)[0] for m in LocmemSmsBackend.outbox)
    assert len(keys) == COUNT
    assert set(keys.values()) == {1}
    assert Reminder.objects.filter(status="sent").count() == COUNT


def test_two_workers_given_the_same_1000_tasks_send_each_once(many_due):
    ids = list(Reminder.objects.values_list("pk", flat=True))

    def deliver_all():
        for pk in ids:
            tasks.send_reminder.apply(args=(pk,))

    run_concurrently(deliver_all)
    assert len(LocmemSmsBackend.outbox) == COUNT
    assert len({m["key"] for m in LocmemSmsBackend.outbox}) == COUNT


def test_a_cancellation_racing_a_claimed_send_is_seen_before_anything_goes_out(
    seeded, consenting, clinician, room, monkeypatch
):
    """The session is cancelled after the worker claimed its reminder but before it checked the session: the check
    waits for the cancellation's commit (session row lock), sees it, and sends nothing."""
    if connection.vendor != "postgresql":
        skip_or_fail(f"The race test needs PostgreSQL (row locks between connections), not {connection.vendor}")
    from kap_clinic.kernel import sending
    from kap_clinic.kernel.notifications import delivery
    from sessions.scheduling.changes import session_cancel

    consenting.consents_to_email = False
    consenting.save()
    plan = book_series(consenting, clinician, room, first_day=timezone.localdate() + timedelta(days=7))
    session = plan.sessions.order_by("starts_at").first()
    reminder = Reminder.objects.filter(session=session, channel="sms").order_by("scheduled_for").first()
    Reminder.objects.filter(pk=reminder.pk).update(next_try_at=timezone.now() - timedelta(minutes=1))

    claimed, cancelling = threading.Event(), threading.Event()
    real_claim = sending.claim

    def claim_then_pause(model, reminder_id, now):
        won = real_claim(model, reminder_id, now)
        claimed.set()
        assert cancelling.wait(10)
        return won

    monkeypatch.setattr(sending, "claim", claim_then_pause)
    errors = []

    def worker():
        try:
            delivery.reminder_deliver(reminder_id=reminder.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def front_desk():
        try:
            assert claimed.wait(10)
            with transaction.atomic():
                session_cancel(session=session, by=clinician, reason="Patient unwell", cancelled_by="patient")
                cancelling.set()
                time.sleep(0.5)  # the worker runs on meanwhile, up to the session lock
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker), threading.Thread(target=front_desk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    reminder.refresh_from_db()
    assert reminder.status == "cancelled"
    assert "cancelled" in reminder.status_reason
    assert list(reminder.attempts_made.values_list("outcome", flat=True)) == ["skipped"]
    # The reminder itself never went out. The cancellation's own notice to the patient may, depending on the
    # time of day (quiet hours hold it overnight); whatever went out says the appointment is cancelled.
    assert [m for m in LocmemSmsBackend.outbox if m["key"].startswith(f"reminder-{reminder.pk}-")] == []
    assert all("cancelled" in m["text"] for m in LocmemSmsBackend.outbox), LocmemSmsBackend.outbox
