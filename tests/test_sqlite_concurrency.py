"""The embedded demo on SQLite: the site, a worker and beat write to one file at once and none of them fails with
"database is locked".

Runs on its own SQLite file in subprocesses (each its own connection, as the real processes are), whichever
database the rest of the suite uses.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
WRITES = 25

# Each writer reads, then writes, in one transaction: the pattern that fails at once on a deferred SQLite
# transaction when another process holds the write lock.
SITE_WRITER = """
from datetime import date
from django.db import transaction
from kap_clinic.kernel.clinic.models import ClinicSettings
from patients.models import Patient
from patients.services import patient_create

for n in range(WRITES):
    with transaction.atomic():
        Patient.objects.count()
        patient = patient_create(
            created_by=None, given_name=f"Site{NAME}", family_name=f"Writer{n}", date_of_birth=date(1980, 1, 1)
        )
    with transaction.atomic():
        settings_row = ClinicSettings.load()
        settings_row.rems_warn_days = 2
        settings_row.save()
"""

WORKER_WRITER = """
from datetime import date, timedelta
from django.db import transaction
from django.utils import timezone
from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from kap_clinic.kernel.outbox.models import OutboxEmail
from kap_clinic.kernel.outbox.services import email_outbox_send
from patients.services import patient_create

with transaction.atomic():
    patient = patient_create(
        created_by=None, given_name=f"Worker{NAME}", family_name="Alerts", date_of_birth=date(1980, 1, 1)
    )
for n in range(WRITES):
    with transaction.atomic():
        OutboxEmail.objects.count()
        email_outbox_send(
            to="someone@example.invalid", subject="Reminder", text="Hello", kind="reminder", key=f"{NAME}-{n}",
            send_at=timezone.now() + timedelta(days=1),
        )
    with transaction.atomic():
        staff_alert_raise(kind="test", key=f"alert-{NAME}-{n}", patient_id=patient.pk, summary="A check")
"""


def _env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_RUNTIME_ROLE", "DB_CONN_MAX_AGE"}}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="kap_clinic.settings_test",
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def _script(body: str, name: str) -> str:
    head = "import django\ndjango.setup()\n"
    return head + f"WRITES = {WRITES}\nNAME = {name!r}\n" + textwrap.dedent(body)


def test_site_and_worker_writing_at_once_never_find_the_database_locked(tmp_path):
    database = tmp_path / "demo.sqlite3"
    env = _env(database)
    # The tables straight from the models (no migration history): quick, and the same file the processes share.
    create = """
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    settings.MIGRATION_MODULES = {config.label: None for config in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)
    """
    migrate = subprocess.run(
        [sys.executable, "-c", _script(create, "create")],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if migrate.returncode != 0:
        pytest.fail(f"could not create the tables in a fresh SQLite file:\n{migrate.stderr[-3000:]}")

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _script(body, name)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, body in (("a", SITE_WRITER), ("b", SITE_WRITER), ("c", WORKER_WRITER), ("d", WORKER_WRITER))
    ]
    results = []
    for writer in writers:
        try:
            out, err = writer.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            writer.kill()
            out, err = writer.communicate()
        results.append((writer.returncode, err))

    for returncode, err in results:
        assert "database is locked" not in err
        assert returncode == 0, err[-3000:]

    check = subprocess.run(
        [
            sys.executable,
            "-c",
            _script(
                """
                from kap_clinic.kernel.notifications.models import StaffAlert
                from kap_clinic.kernel.outbox.models import OutboxEmail
                from patients.models import Patient
                from django.db import connection
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA journal_mode")
                    print(cursor.fetchone()[0])
                print(Patient.objects.count(), OutboxEmail.objects.filter(kind="reminder").count(),
                      StaffAlert.objects.count())
                """,
                "check",
            ),
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr[-3000:]
    mode, counts = check.stdout.split("\n")[:2]
    assert mode == "wal"
    assert [int(n) for n in counts.split()] == [2 * WRITES + 2, 2 * WRITES, 2 * WRITES]
