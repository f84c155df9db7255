import os
import shutil
import subprocess

import pytest
from django.db import connection

from kap_clinic.kernel.audit.chain import seal_pending_entries
from tests.conftest import skip_or_fail


def seal_pending() -> None:
    """Seal this transaction's entries now, as happens at commit (a test's transaction never commits)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        seal_pending_entries()


def superuser_sql(sql: str) -> None:
    """Run SQL on the test database as a PostgreSQL superuser, in its own committed transaction.

    DATABASE_SUPERUSER_URL names a superuser connection; otherwise, as root (CI), the postgres OS user's psql.
    """
    database = connection.settings_dict["NAME"]
    url = os.environ.get("DATABASE_SUPERUSER_URL")
    if url:
        import psycopg

        with psycopg.connect(psycopg.conninfo.make_conninfo(url, dbname=database), autocommit=True) as superuser:
            superuser.execute(sql)
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("runuser") and shutil.which("psql"):
        port = str(connection.settings_dict.get("PORT") or 5432)
        command = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-p", port]
        subprocess.run([*command, "-d", database, "-c", sql], cwd="/", check=True, capture_output=True, timeout=60)
        return
    skip_or_fail("No PostgreSQL superuser: set DATABASE_SUPERUSER_URL, or run as root beside a local cluster.")


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (database roles and triggers of its own)")
