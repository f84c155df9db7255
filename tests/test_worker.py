"""A real Celery worker, on real Redis, does the work the site enqueues, and only committed work.

The worker is a separate process, so it must reach the test database over the network: these tests
run on PostgreSQL with REDIS_URL set (as in CI) and skip elsewhere (fail when KAP_REQUIRE_SERVICES=1).
Each run uses its own queue and worker name, so another worker on the same Redis never takes its tasks.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from kombu import Exchange, Queue

from kap_clinic.celery import app as celery_app
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.clinic.models import WorkerHeartbeat
from kap_clinic.kernel.clinic.tasks import record_worker_heartbeat
from tests.conftest import make_user, sign_in, skip_or_fail

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0
TASK_TIMEOUT = 30.0


@dataclass
class Worker:
    process: subprocess.Popen
    hostname: str
    queue: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no worker log)"
        return "\n".join(text.splitlines()[-lines:])

    def assert_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"The Celery worker exited with status {self.process.returncode}:\n{self.log_tail()}")


def worker_database_url(settings_dict: dict) -> str:
    """A DATABASE_URL naming the database this test process uses (pytest-django's test_<name>)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    host = settings_dict.get("HOST") or ""
    port = settings_dict.get("PORT") or ""
    if host.startswith("/"):  # a Unix socket directory
        host = quote(host, safe="")
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    netloc = f"{auth}{host}{f':{port}' if port else ''}"
    options = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{netloc}/{quote(settings_dict['NAME'], safe='')}{query}"


def kombu_queue(name: str) -> Queue:
    """The queue as Celery creates it for an unknown task_default_queue: a direct exchange of its name."""
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


@pytest.fixture(scope="module")
def services_available():
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("REDIS_URL is not set: the worker tests need a real Redis broker")
    if not os.environ.get("DATABASE_URL"):
        skip_or_fail("DATABASE_URL is not set: a worker process cannot share an in-memory SQLite test database")
    if connection.vendor != "postgresql":
        skip_or_fail(f"The worker tests need PostgreSQL, not {connection.vendor}")


@pytest.fixture(scope="module")
def worker(services_available, django_db_setup):
    """One `celery worker` process for this module, consuming only its own queue from the test database."""
    token = uuid.uuid4().hex[:12]
    queue = f"kap-test-{token}"
    hostname = f"kap-test-{token}@{socket.gethostname()}"

    with celery_app.connection_for_write() as conn:
        kombu_queue(queue)(conn.default_channel).declare()
        kombu_queue(queue)(conn.default_channel).purge()

    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="kap_clinic.settings",
        DEBUG="true",
        DATABASE_URL=worker_database_url(connection.settings_dict),
        DB_CONN_MAX_AGE="0",
        REDIS_URL=os.environ["REDIS_URL"],
        PRIVATE_MEDIA_ROOT=str(settings.PRIVATE_MEDIA_ROOT),  # the site and the worker share the private files
        PYTHONUNBUFFERED="1",
    )
    command = [
        sys.executable, "-m", "celery", "-A", "kap_clinic.celery", "worker",
        "--pool=solo", "--loglevel=info", "--without-mingle", "--without-gossip",
        "-Q", queue, "-n", hostname,
    ]  # fmt: skip
    log_dir = Path(tempfile.mkdtemp(prefix="kap-worker-"))
    log_path = log_dir / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = Worker(process=process, hostname=hostname, queue=queue, log_path=log_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            running.assert_alive()
            if celery_app.control.ping(destination=[hostname], timeout=0.5):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"No answer to a ping within {READY_TIMEOUT:.0f} s. Worker log:\n{running.log_tail()}")
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        with celery_app.connection_for_write() as conn:
            bound = kombu_queue(queue)(conn.default_channel)
            bound.declare()
            bound.delete()
        log_path.unlink(missing_ok=True)
        log_dir.rmdir()


@pytest.fixture
def tasks_go_to_worker(worker):
    """Tasks are sent through Redis to the test worker's queue instead of running in-process."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = worker.queue
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = saved


def wait_for_heartbeat(worker: Worker, **filters) -> WorkerHeartbeat:
    deadline = time.monotonic() + TASK_TIMEOUT
    while True:
        found = WorkerHeartbeat.objects.filter(**filters).first()
        if found is not None:
            return found
        worker.assert_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"No heartbeat {filters} within {TASK_TIMEOUT:.0f} s. Worker log:\n{worker.log_tail()}")
        time.sleep(0.2)


def test_admin_worker_check_is_done_by_the_worker(client, tasks_go_to_worker):
    worker = tasks_go_to_worker
    admin = make_user("admin-worker", Role.ADMIN)
    sign_in(client, admin)

    response = client.post(reverse("clinic:worker_check"))

    assert response.status_code == 302
    assert response.url == reverse("homes:home")
    heartbeat = wait_for_heartbeat(worker, source=WorkerHeartbeat.Source.CHECK, requested_by=admin)
    assert heartbeat.worker_hostname
    # Written by the test worker, not run in-process (eager runs would carry this machine's bare hostname).
    assert heartbeat.worker_hostname == worker.hostname


def test_task_enqueued_in_a_rolled_back_transaction_never_runs(tasks_go_to_worker):
    worker = tasks_go_to_worker

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        transaction.on_commit(lambda: record_worker_heartbeat.delay(WorkerHeartbeat.Source.CHECK))
        raise Abandoned

    # A committed task sent afterwards: the solo worker takes its one queue in order, so once this
    # one has run, a task sent before it would have run too.
    record_worker_heartbeat.delay(WorkerHeartbeat.Source.BEAT)
    wait_for_heartbeat(worker, source=WorkerHeartbeat.Source.BEAT, worker_hostname=worker.hostname)
    time.sleep(1)
    assert not WorkerHeartbeat.objects.filter(source=WorkerHeartbeat.Source.CHECK).exists()
