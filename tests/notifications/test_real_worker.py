"""Reminders through a real Celery worker on real Redis: a killed worker or a restarted Redis loses and doubles nothing.

Each test runs its own redis-server on a spare loopback port (so it can be stopped and started, and a killed worker's
unacknowledged message stays in a Redis nobody else uses), and its own worker processes against the test database
on PostgreSQL. Accepted messages land in files (FileSmsBackend, Django's file email backend) that both the worker
and this process read. Run when REDIS_URL is set, on PostgreSQL, as in CI.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from kombu import pools as kombu_pools
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from kap_clinic.celery import app as celery_app
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.notifications import tasks
from kap_clinic.kernel.notifications.models import Reminder, ReminderRule
from sessions.models import DosingSession, Protocol, TreatmentPlan
from sessions.scheduling.enrollment import enrollment_create
from tests.conftest import make_user, sign_in, skip_or_fail
from tests.test_worker import Worker, kombu_queue, worker_database_url

from .conftest import sms_reminders_due_now

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parent.parent.parent
GATED_SMS = "tests.notifications.gated_backend.GatedFileSmsBackend"
FILE_SMS = "kap_clinic.kernel.notifications.backends.FileSmsBackend"
FILE_EMAIL = "django.core.mail.backends.filebased.EmailBackend"
LEASE_SECONDS = 4
KEY = re.compile(r"reminder-(\d+)-attempt-(\d+)")
DEADLINE = 40.0


@pytest.fixture
def services_available():
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("REDIS_URL is not set: the real-worker tests need Redis")
    if connection.vendor != "postgresql":
        skip_or_fail(
            f"The real-worker tests need PostgreSQL (a worker process shares the database), not {connection.vendor}"
        )
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed: the real-worker tests start and stop their own Redis")


def wait_until(what: str, check, *, timeout: float = DEADLINE, every: float = 0.05, log=None):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"Not within {timeout:.0f} s: {what}" + (f"\n{log()}" if log else ""))
        time.sleep(every)


class RedisServer:
    """redis-server on a spare loopback port; append-only file in its own folder, so a restart keeps the queues."""

    def __init__(self, folder: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
        ]  # fmt: skip
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(
            "redis-server answers", self.answers, timeout=15, log=lambda: (self.folder / "redis.log").read_text()
        )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # a clean shutdown: the append-only file is complete
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


def drop_broker_pools() -> None:
    """Forget this process's broker connections (kombu keeps pools per broker URL, process-wide)."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_on(broker_url: str, queue: str):
    """This process sends tasks through `broker_url` to `queue` (the app read its broker at import)."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager, conf.task_default_queue
    drop_broker_pools()
    conf.broker_url, conf.task_always_eager, conf.task_default_queue = broker_url, False, queue
    try:
        with celery_app.connection_for_write() as conn:
            kombu_queue(queue)(conn.default_channel).declare()
        yield
    finally:
        drop_broker_pools()
        conf.broker_url, conf.task_always_eager, conf.task_default_queue = saved


class Workers:
    """Starts `celery worker` processes (solo pool, prefetch 1, acks_late as configured) on one broker and queue."""

    def __init__(self, broker_url: str, queue: str, folder: Path, env: dict):
        self.broker_url, self.queue, self.folder, self.extra_env = broker_url, queue, folder, env
        self.running: list[Worker] = []

    def start(self, *, wait: bool = True) -> Worker:
        """A new worker; with `wait`, once it answers a ping. (A solo worker held inside a send cannot answer one.)"""
        hostname = f"kap-test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env.update(
            DJANGO_SETTINGS_MODULE="kap_clinic.settings",
            DEBUG="true",
            DATABASE_URL=worker_database_url(connection.settings_dict),
            DB_CONN_MAX_AGE="0",
            REDIS_URL=self.broker_url,
            PYTHONUNBUFFERED="1",
            REMINDER_SENDING_LEASE_SECONDS=str(LEASE_SECONDS),
            REMINDER_QUIET_START="00:00",
            REMINDER_QUIET_END="00:00",
            **self.extra_env,
        )
        command = [
            sys.executable, "-m", "celery", "-A", "kap_clinic.celery", "worker",
            "--pool=solo", "--loglevel=info", "--without-mingle", "--without-gossip",
            "-Q", self.queue, "-n", hostname,
        ]  # fmt: skip
        log_path = self.folder / f"worker-{len(self.running) + 1}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        worker = Worker(process=process, hostname=hostname, queue=self.queue, log_path=log_path)
        self.running.append(worker)
        if wait:
            self.wait_ready(worker)
        return worker

    def wait_ready(self, worker: Worker, timeout: float = DEADLINE) -> None:
        def answers():
            worker.assert_alive()
            try:
                return celery_app.control.ping(destination=[worker.hostname], timeout=0.5)
            except (OSError, OperationalError, RedisError):  # a pooled connection from before a Redis restart
                drop_broker_pools()
                return False

        wait_until(f"worker {worker.hostname} answers a ping", answers, timeout=timeout, log=worker.log_tail)

    @staticmethod
    def kill(worker: Worker) -> None:
        worker.process.kill()  # SIGKILL: no warm shutdown, no acknowledgement, nothing settled
        worker.process.wait(timeout=10)

    def stop_all(self) -> None:
        for worker in self.running:
            if worker.process.poll() is None:
                worker.process.terminate()
                try:
                    worker.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.process.wait(timeout=5)


@pytest.fixture
def stack(services_available, settings):
    """A private Redis and a worker factory; this process sends to them. Everything stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="kap-real-worker-"))
    redis = RedisServer(folder)
    queue = f"kap-test-{uuid.uuid4().hex[:12]}"
    settings.REMINDER_SENDING_LEASE_SECONDS = LEASE_SECONDS
    settings.REMINDER_REQUEUE_SECONDS = 2  # the sweep runs every second here, not every minute
    settings.REMINDER_QUIET_START = settings.REMINDER_QUIET_END = "00:00"
    settings.SMS_FILE_PATH = str(folder / "sms" / "outbox.jsonl")
    settings.EMAIL_FILE_PATH = str(folder / "mail")
    workers = None
    try:
        redis.start()
        with celery_on(redis.url, queue):
            env = {"SMS_FILE_PATH": settings.SMS_FILE_PATH, "EMAIL_FILE_PATH": settings.EMAIL_FILE_PATH}
            workers = Workers(redis.url, queue, folder, env)
            yield folder, redis, workers
    finally:
        gate = folder / "gate"
        for name in ("hold-before", "hold-after"):
            (gate / name).unlink(missing_ok=True)
        if workers is not None:
            workers.stop_all()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)


def sms_lines(path: str) -> list[dict]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def sms_keys(path: str) -> list[str]:
    return [line["key"] for line in sms_lines(path)]


def email_keys(folder: str) -> list[str]:
    found = []
    for path in sorted(Path(folder).glob("*")):
        found += re.findall(r"^X-Reminder-Key: (\S+)$", path.read_text(errors="replace"), re.MULTILINE)
    return found


def per_reminder(keys: list[str]) -> Counter:
    return Counter(int(KEY.fullmatch(key).group(1)) for key in keys)


def sweep() -> int:
    """The beat task, run here (its sends go through Redis to the worker). Its value is read without `.get()`, which
    Celery refuses once it believes it is inside a task."""
    result = tasks.release_due_reminders.apply()
    assert result.successful(), result.traceback
    return result.result


def sweep_until(what: str, done, workers: Workers, timeout: float = DEADLINE) -> None:
    """The beat sweep, once a second, until `done()`; the worker must stay up throughout."""

    def swept():
        for worker in workers.running[-1:]:
            worker.assert_alive()
        sweep()
        return done()

    wait_until(what, swept, timeout=timeout, every=1.0, log=workers.running[-1].log_tail)


# ---- 1. A worker killed in the middle of a batch ------------------------------------------------------------------

BATCH = 60


@pytest.fixture
def batch(stack, seeded, consenting, clinician, room, settings):
    folder, _redis, workers = stack
    settings.SMS_BACKEND = GATED_SMS
    (folder / "gate").mkdir()
    workers.extra_env.update(SMS_BACKEND=GATED_SMS, KAP_TEST_SMS_GATE=str(folder / "gate"))
    sms_reminders_due_now(consenting, clinician, room, BATCH)
    return stack


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(batch, settings):
    folder, _redis, workers = batch
    gate, outbox = folder / "gate", settings.SMS_FILE_PATH

    # Worker 1 is killed right after the backend accepted the 10th message, before the row was marked sent.
    (gate / "hold-after").write_text("10")
    first = workers.start()
    assert sweep() == BATCH
    wait_until(
        "worker 1 holds after the 10th send",
        lambda: first.assert_alive() or (gate / "held-after").exists(),
        log=first.log_tail,
    )
    workers.kill(first)
    (gate / "hold-after").unlink()
    accepted_unrecorded = int(KEY.fullmatch((gate / "held-after").read_text()).group(1))
    assert len(sms_keys(outbox)) == 10
    assert Reminder.objects.get(pk=accepted_unrecorded).status == "sending"

    # Worker 2 is killed after claiming a reminder and recording the attempt, before the backend saw it.
    (gate / "hold-before").write_text("30")
    second = workers.start(wait=False)  # the queue is full: it works at once, up to the hold
    wait_until(
        "worker 2 holds before the 31st send",
        lambda: second.assert_alive() or (gate / "held-before").exists(),
        log=second.log_tail,
    )
    workers.kill(second)
    (gate / "hold-before").unlink()
    claimed_unsent = int(KEY.fullmatch((gate / "held-before").read_text()).group(1))
    assert len(sms_keys(outbox)) == 30
    assert Reminder.objects.get(pk=claimed_unsent).status == "sending"

    # Worker 3 takes the rest of the queue; the two rows the kills left in `sending` wait for the lease.
    third = workers.start(wait=False)
    wait_until(
        "worker 3 sends the rest of the queue",
        lambda: third.assert_alive() or Reminder.objects.filter(status="sent").count() == BATCH - 2,
        log=workers.running[-1].log_tail,
    )
    assert set(Reminder.objects.exclude(status="sent").values_list("pk", flat=True)) == {
        accepted_unrecorded,
        claimed_unsent,
    }
    # Once their lease is over, the sweep settles each through its idempotency key: one was accepted, one never
    # reached the backend and is sent now. Nothing is sent blind.
    sweep_until(
        "every reminder sent", lambda: Reminder.objects.filter(status="sent").count() == BATCH, workers, timeout=30
    )

    counts = per_reminder(sms_keys(outbox))
    assert set(counts) == set(Reminder.objects.values_list("pk", flat=True))  # none lost
    assert set(counts.values()) == {1}  # none twice
    assert not Reminder.objects.filter(needs_attention=True).exists()
    assert list(Reminder.objects.get(pk=accepted_unrecorded).attempts_made.values_list("outcome", flat=True)) == [
        "settled_sent"
    ]
    assert list(Reminder.objects.get(pk=claimed_unsent).attempts_made.values_list("outcome", flat=True)) == [
        "settled_not_sent",
        "accepted",
    ]
    assert f"reminder-{claimed_unsent}-attempt-2" in sms_keys(outbox)


# ---- 2. Redis stopped, then started again -------------------------------------------------------------------------


def test_while_redis_is_down_bookings_and_pages_answer_and_afterwards_each_due_reminder_goes_out_once(
    stack, seeded, consenting, clinician, room, settings, client
):
    folder, redis, workers = stack
    settings.SMS_BACKEND, settings.EMAIL_BACKEND = FILE_SMS, FILE_EMAIL
    workers.extra_env.update(SMS_BACKEND=FILE_SMS, EMAIL_BACKEND=FILE_EMAIL)
    # The long reminder ten days ahead (admins edit offsets): the first sessions' reminders are due at booking,
    # whatever the day of the week the test runs on.
    ReminderRule.objects.filter(event="dosing_session", offset_minutes=2880).update(offset_minutes=14400)
    enrollment_create(patient=consenting, by=clinician, override_justification="Screened on paper before go-live.")
    protocol = Protocol.objects.get(route="iv")
    workers.start()
    sign_in(client, clinician)
    front_desk = make_user("frontdesk-redis", Role.INTAKE)

    redis.stop()
    assert not redis.answers()

    started = time.monotonic()
    response = client.post(
        reverse("sessions:plan_create", kwargs={"patient_pk": consenting.pk}),
        {
            "protocol": protocol.pk,
            "first_day": (timezone.localdate() + timedelta(days=1)).isoformat(),
            "start_time": "09:00",
            "room": room.pk,
            "clinician": clinician.pk,
            "planned_dose": str(protocol.default_dose),
            "action": "confirm",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = TreatmentPlan.objects.get(patient=consenting)
    assert response.url == reverse("sessions:plan_detail", kwargs={"pk": plan.pk})
    first = plan.sessions.order_by("starts_at").first()
    old_start = first.starts_at
    new_start = timezone.localtime(old_start) + timedelta(hours=2)
    response = client.post(
        reverse("sessions:session_reschedule", kwargs={"pk": first.pk}),
        {"new_start": new_start.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get(reverse("sessions:plan_detail", kwargs={"pk": plan.pk})).status_code == 200
    assert client.get(reverse("homes:home")).status_code == 200
    sign_in(client, front_desk)
    assert client.get(reverse("homes:home")).status_code == 200
    assert time.monotonic() - started < 10, "pages and bookings waited on the broker"

    # Committed while the broker was down: the series, the move, and reminders for the new time only.
    first.refresh_from_db()
    assert first.starts_at == new_start
    assert plan.sessions.filter(status=DosingSession.Status.SCHEDULED).count() > 1
    now = timezone.now()
    stale = set(Reminder.objects.filter(session=first, event_at=old_start).values_list("pk", flat=True))
    assert stale and set(Reminder.objects.filter(pk__in=stale).values_list("status", flat=True)) == {"cancelled"}
    due = set(Reminder.objects.filter(status="pending", next_try_at__lte=now).values_list("pk", flat=True))
    # The first session's reminder was due before the move and is due after it: the same key (its time is "now"),
    # rewritten for the new start.
    moved_due = set(
        Reminder.objects.filter(pk__in=due, session=first, notice_key__isnull=True).values_list("pk", flat=True)
    )
    # The notice that the appointment moved is due too (its own row, sent once like the reminders).
    notices = set(Reminder.objects.filter(pk__in=due, notice_key__isnull=False).values_list("pk", flat=True))
    assert moved_due and all(r.event_at == new_start for r in Reminder.objects.filter(pk__in=moved_due))
    assert {c for c in Reminder.objects.filter(pk__in=due).values_list("channel", flat=True)} == {"sms", "email"}
    assert not sms_keys(settings.SMS_FILE_PATH) and not email_keys(settings.EMAIL_FILE_PATH)

    redis.start()
    workers.wait_ready(workers.running[-1], timeout=60)  # the same worker, reconnected
    sweep_until(
        "every due reminder sent",
        lambda: Reminder.objects.filter(pk__in=due, status="sent").count() == len(due),
        workers,
    )
    time.sleep(2)
    sweep()  # a later sweep finds nothing more to send
    time.sleep(1)

    sent = per_reminder(sms_keys(settings.SMS_FILE_PATH)) + per_reminder(email_keys(settings.EMAIL_FILE_PATH))
    assert set(sent) == due
    assert set(sent.values()) == {1}
    assert not stale & set(sent)
    # What the patient reads names the session's new time, never the old one.
    old_text, new_text = (date_filter(timezone.localtime(moment), "D j M, g:i A") for moment in (old_start, new_start))
    texts = [
        line["text"] for line in sms_lines(settings.SMS_FILE_PATH) if per_reminder([line["key"]]).keys() & moved_due
    ]
    assert texts and all(new_text in text and old_text not in text for text in texts)
    notice_texts = [
        line["text"] for line in sms_lines(settings.SMS_FILE_PATH) if per_reminder([line["key"]]).keys() & notices
    ]
    moved_to = date_filter(timezone.localtime(new_start), "D j M Y, g:i A")
    assert notice_texts and all("has moved" in text and moved_to in text for text in notice_texts)
    for reminder in Reminder.objects.filter(pk__in=due).select_related("session"):
        assert reminder.status == "sent" and reminder.event_at == reminder.session.starts_at
    assert not Reminder.objects.filter(status="pending", next_try_at__lte=timezone.now()).exists()
