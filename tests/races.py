"""Two things at once on PostgreSQL: work run in a thread on its own database connection, a wait until one
connection queues behind another's lock, and the two together: one transaction writing while a second queues behind
it. Shared by the race tests (registration, booking, charges, unpriced services)."""

import threading
import time as clock

import pytest
from django.db import connection, transaction

WAIT_SECONDS = 20


class OnItsOwnConnection(threading.Thread):
    """Runs `work` in a thread of its own, on its own database connection, keeping what it returned or raised."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work = work
        self.result = None
        self.error: BaseException | None = None
        self.backend_pid: int | None = None
        self.started_work = threading.Event()

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend_pid = cursor.fetchone()[0]
            self.started_work.set()
            self.result = self.work()
        except BaseException as exc:  # handed to the test thread to assert on
            self.error = exc
        finally:
            self.started_work.set()
            connection.close()

    def finish(self):
        self.join(WAIT_SECONDS)
        assert not self.is_alive(), "the work on its own connection did not finish"


def wait_until_blocked_on_a_lock(backend_pid: int, *, failure: str) -> None:
    """Wait until that connection is waiting for another transaction's lock; fail with `failure` if it never does."""
    deadline = clock.monotonic() + WAIT_SECONDS
    while clock.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [backend_pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        clock.sleep(0.02)
    pytest.fail(failure)


def second_queues_behind_first(work, *, failure: str) -> tuple:
    """Run `work` twice, each in its own transaction on its own connection: the first writes and keeps its transaction
    open until the second is seen waiting on the first's lock (else the test fails with `failure`), then commits.
    Returns what each returned; an exception in either is raised here."""
    written, commit = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            result = work()
            written.set()
            assert commit.wait(WAIT_SECONDS), "the second never queued"
            return result

    def second():
        with transaction.atomic():
            return work()

    one = OnItsOwnConnection(first)
    one.start()
    assert written.wait(WAIT_SECONDS), "the first did not write"
    two = OnItsOwnConnection(second)
    two.start()
    two.started_work.wait(WAIT_SECONDS)
    try:
        wait_until_blocked_on_a_lock(two.backend_pid, failure=failure)
    finally:
        commit.set()
        one.finish()
        two.finish()
    for thread in (one, two):
        if thread.error is not None:
            raise thread.error
    return one.result, two.result
