"""A large report produced by a real Celery worker on real Redis, its progress followed on the job's page.

The harness is tests/test_worker.py's (a `celery worker` process on its own queue, reaching the test database over
the network): PostgreSQL and REDIS_URL are needed, the test skips elsewhere (fails when KAP_REQUIRE_SERVICES=1).

To see the worker part-way through, the test holds the job's row locked from a second database connection (a gate):
the worker's next write to the job (its claim, then each progress count) waits there, so the progress partial is read
while the worker is known to be stopped at a given point, then the gate opens and the worker goes on.
"""

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.reports.models import ReportJob
from tests import test_worker as harness
from tests.conftest import make_user
from tests.test_worker import TASK_TIMEOUT, Worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ENTRIES = 450  # above the threshold below: the report runs in the background, with a progress count every 100 rows
# The worker harness's fixtures: one worker process for this module, on a queue of its own.
services_available = harness.services_available
worker = harness.worker
tasks_go_to_worker = harness.tasks_go_to_worker

PROGRESS = re.compile(r"(Waiting to start|In progress|Ready): (\d+) of (\d+) rows")


class Gate:
    """The job's row locked FOR UPDATE from connections of the test's own: the worker's writes to the row wait there.

    Two connections take turns holding the lock. To let the worker through exactly one write, the idle one asks for the
    lock while the worker is already waiting, so PostgreSQL queues it behind the worker; the holder then lets go, the
    worker's write goes through, and the lock passes to the other connection before the worker's next write.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.sides = []
        for _ in range(2):
            db = connections.create_connection("default")
            db.ensure_connection()
            raw = db.connection  # the driver's own connection: one side waits for the lock in a thread
            raw.autocommit = False
            with raw.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.sides.append((db, raw, cursor.fetchone()[0]))
        self.holder = 0
        self._lock(self.sides[0][1])

    def _lock(self, raw) -> None:
        with raw.cursor() as cursor:
            cursor.execute("SELECT id FROM reports_reportjob WHERE id = %s FOR UPDATE", [self.job_id])

    def _waiting(self, blocked_by: int | None = None, pid: int | None = None) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND (%s::int IS NULL OR pid = %s)"
                " AND (%s::int IS NULL OR %s = ANY(pg_blocking_pids(pid)))",
                [pid, pid, blocked_by, blocked_by],
            )
            return bool(cursor.fetchone()[0])

    def _until(self, check, running: Worker, what: str) -> None:
        deadline = time.monotonic() + TASK_TIMEOUT
        while not check():
            running.assert_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"{what} within {TASK_TIMEOUT:.0f} s. Worker log:\n{running.log_tail()}")
            time.sleep(0.05)

    def wait_for_worker(self, running: Worker) -> None:
        """Until the worker waits at the gate for its next write."""
        pid = self.sides[self.holder][2]
        self._until(lambda: self._waiting(blocked_by=pid), running, "The worker did not reach the gate")

    def let_one_write_through(self, running: Worker) -> None:
        _, holding, _ = self.sides[self.holder]
        _, taking, taking_pid = self.sides[1 - self.holder]
        with ThreadPoolExecutor(max_workers=1) as pool:
            taken = pool.submit(self._lock, taking)
            self._until(lambda: self._waiting(pid=taking_pid), running, "The gate's second connection did not queue")
            holding.commit()
            taken.result(timeout=TASK_TIMEOUT)
        self.holder = 1 - self.holder
        self.wait_for_worker(running)

    def open(self) -> None:
        for db, raw, _ in self.sides:
            raw.rollback()
            db.close()


def seed_reads(patient, reader, count: int) -> None:
    """`count` reads of the patient's record, one a minute, as the audit trail writes them."""
    patient_type = ContentType.objects.get_for_model(patient)
    start = timezone.now() - timedelta(days=2)
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=patient_type,
            object_pk=str(patient.pk),
            object_id=patient.pk,
            object_repr=str(patient),
            action=LogEntry.Action.ACCESS,
            actor=reader,
            timestamp=start + timedelta(minutes=n),
            additional_data={"patient_id": patient.pk},
        )
        for n in range(count)
    )


def progress_of(client, job: ReportJob) -> tuple[str, int, int]:
    response = client.get(reverse("reports:job_progress", args=[job.pk]))
    assert response.status_code == 200
    found = PROGRESS.search(response.content.decode())
    assert found, response.content.decode()
    return found[1], int(found[2]), int(found[3])


def test_a_large_report_is_produced_by_the_worker_with_its_progress_and_kept_for_the_requester(
    client_for, settings, patient, clinician, admin_user, tasks_go_to_worker
):
    running = tasks_go_to_worker
    settings.REPORT_BACKGROUND_ROWS = 300
    seed_reads(patient, clinician, ENTRIES)
    client = client_for(admin_user)
    # The worker is paused while the job is asked for, so the gate is closed before it can claim the job.
    os.kill(running.process.pid, signal.SIGSTOP)
    try:
        response = client.post(
            reverse("reports:run", args=["audit"]), {"patient": patient.mrn, "format": "csv", "request_id": "w1"}
        )
        job = ReportJob.objects.get(requested_by=admin_user)
        assert response.status_code == 302 and response["Location"] == reverse("reports:job", args=[job.pk])
        gate = Gate(job.pk)
    finally:
        os.kill(running.process.pid, signal.SIGCONT)
    total = job.rows_total  # the seeded reads, and the entries of the patient's registration
    assert total >= ENTRIES
    try:
        gate.wait_for_worker(running)  # at its claim
        assert progress_of(client, job) == ("Waiting to start", 0, total)
        page = client.get(reverse("reports:job", args=[job.pk])).content.decode()
        assert 'hx-trigger="every 2s"' in page and "<progress" in page

        gate.let_one_write_through(running)  # the claim; now at its first count, 100 rows read
        assert progress_of(client, job) == ("In progress", 0, total)
        for done in (100, 200):
            gate.let_one_write_through(running)
            assert progress_of(client, job) == ("In progress", done, total)
        partial = client.get(reverse("reports:job_progress", args=[job.pk])).content.decode()
        assert f'value="{200 * 100 // total}"' in partial and "job-download" not in partial
    finally:
        gate.open()

    deadline = time.monotonic() + TASK_TIMEOUT
    while (state := progress_of(client, job))[0] != "Ready":
        running.assert_alive()
        assert state[1] <= total
        if time.monotonic() > deadline:
            pytest.fail(f"The job was not done within {TASK_TIMEOUT:.0f} s: {state}. Worker log:\n{running.log_tail()}")
        time.sleep(0.2)
    assert state == ("Ready", total, total)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE and job.attempt == 1
    partial = client.get(reverse("reports:job_progress", args=[job.pk])).content.decode()
    assert reverse("reports:job_download", args=[job.pk]) in partial and "hx-get" not in partial

    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert (
        download["Content-Disposition"].startswith("attachment")
        and f"audit-{patient.mrn}.csv" in download["Content-Disposition"]
    )
    lines = b"".join(download.streaming_content).decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffWhen")
    assert sum(",clinician1,Access," in line for line in lines) == ENTRIES

    # Another admin gets neither the job, its progress nor its file.
    other_client = client_for(make_user("admin-other", Role.ADMIN))
    for name in ("reports:job", "reports:job_progress", "reports:job_download"):
        assert other_client.get(reverse(name, args=[job.pk])).status_code == 404, name
