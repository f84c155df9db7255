"""A real Celery worker sends a pre-authorization request through the test channel exactly once, even when it is
killed in the middle of the task and a new worker takes the submission again (as the beat sweep would queue it).

Like tests/test_worker.py, this needs PostgreSQL and Redis (it skips elsewhere, fails when KAP_REQUIRE_SERVICES=1)."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.db import connection, transaction

from billing.models import ChannelTestReceipt, Payer, PreauthSubmission
from billing.preauth import lifecycle
from billing.services import authorization_create
from kap_clinic.celery import app as celery_app
from kap_clinic.kernel.accounts.roles import Role
from tests.conftest import make_user
from tests.test_worker import BASE_DIR, READY_TIMEOUT, Worker, kombu_queue, services_available, worker_database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
__all__ = ["services_available"]  # the fixture, shared with tests/test_worker.py

TIMEOUT = 60.0


def start_worker(queue: str, *, answer_first: bool = True) -> Worker:
    """A real worker on `queue`; with `answer_first`, once it answers a ping (a worker that will block in its first
    task at once cannot answer one: pass False)."""
    hostname = f"kap-preauth-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="kap_clinic.settings",
        DEBUG="true",
        DATABASE_URL=worker_database_url(connection.settings_dict),
        DB_CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    command = [
        sys.executable, "-m", "celery", "-A", "kap_clinic.celery", "worker",
        "--pool=solo", "--loglevel=info", "--without-mingle", "--without-gossip", "-Q", queue, "-n", hostname,
    ]  # fmt: skip
    log_path = Path(tempfile.mkdtemp(prefix="kap-preauth-worker-")) / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = Worker(process=process, hostname=hostname, queue=queue, log_path=log_path)
    if not answer_first:
        return running
    deadline = time.monotonic() + READY_TIMEOUT
    while not celery_app.control.ping(destination=[hostname], timeout=0.5):
        running.assert_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"No answer to a ping. Worker log:\n{running.log_tail()}")
    return running


def stop(worker: Worker, *, kill: bool = False) -> None:
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        worker.process.wait(timeout=15)


def wait_until(condition, worker: Worker, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        worker.assert_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {TIMEOUT:.0f} s. Worker log:\n{worker.log_tail()}")
        time.sleep(0.3)


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_task_and_a_new_one_send_the_request_once(services_available, settings):
    queue = f"kap-preauth-{uuid.uuid4().hex[:12]}"
    with celery_app.connection_for_write() as conn:
        kombu_queue(queue)(conn.default_channel).declare()
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, queue
    front_desk = make_user("preauth-worker-desk", Role.INTAKE)
    from patients.services import patient_create

    patient = patient_create(created_by=None, given_name="Ada", family_name="Quill", date_of_birth=date(1980, 5, 17))
    payer = Payer.objects.create(name="Worker Health", preauth_channel="test")
    authorization = authorization_create(
        patient=patient,
        payer=payer,
        by=front_desk,
        codes=["96365"],
        units_requested=6,
        requested_starts_on=date(2027, 1, 4),
        requested_ends_on=date(2027, 3, 31),
        diagnoses=["F33.2"],
        justification="Two failed trials.",
    )
    first = second = None
    try:
        submission = lifecycle.preauth_submit(authorization=authorization, by=front_desk)  # queued after its commit
        # Hold the submission's row, then start the worker: its claim waits on the row, in the middle of its task.
        # Then kill the worker.
        with transaction.atomic():
            PreauthSubmission.objects.select_for_update().get(pk=submission.pk)
            first = start_worker(queue, answer_first=False)
            wait_until(waiting_on_a_lock, first, "the worker reaching the submission")
            stop(first, kill=True)
        submission.refresh_from_db()
        assert submission.status == "pending" and not ChannelTestReceipt.objects.exists()

        second = start_worker(queue)
        assert lifecycle.enqueue([submission.pk]) == 1  # as the beat sweep queues a pending submission again
        wait_until(lambda: ChannelTestReceipt.objects.exists(), second, "the second worker sending it")
        assert lifecycle.enqueue([submission.pk]) == 1  # queued once more: found sent, nothing is sent again
        time.sleep(3)
        submission.refresh_from_db()
        assert submission.status == "sent" and submission.attempts == 1
        assert ChannelTestReceipt.objects.filter(key=submission.key).count() == 1
    finally:
        if first is not None:
            stop(first, kill=True)
        if second is not None:
            stop(second)
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = saved
        with celery_app.connection_for_write() as conn:
            bound = kombu_queue(queue)(conn.default_channel)
            bound.declare()
            bound.delete()
