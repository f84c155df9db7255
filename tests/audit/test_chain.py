"""The audit log is hash-chained: rewriting or removing an entry is found by `manage.py audit_verify`, even when a
database superuser did it, and two writers at once cannot fork the chain."""

import io
import threading

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.urls import reverse

from kap_clinic.kernel.audit.chain import GENESIS, chain_verify
from kap_clinic.kernel.audit.models import AuditSeal
from kap_clinic.kernel.audit.services import record_chart_view
from kap_clinic.kernel.audit.triggers import sqlite_triggers_lifted

from .conftest import seal_pending, superuser_sql

pytestmark = pytest.mark.django_db
LOG, SEALS = "auditlog_logentry", "audit_auditseal"


def verify(**options) -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out, **options)
    return out.getvalue()


def as_table_owner(table: str, sql: str, *params) -> None:
    """Run SQL with the append-only triggers of a table lifted, as its owner can (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the row's deferred foreign key checks, before ENABLE
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            return
    with sqlite_triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def entries(client_for, clinician, patient, other_patient):
    """A few entries of different kinds: registrations, a chart read, sign-ins."""
    client = client_for(clinician)
    client.get(reverse("homes:patient_chart", kwargs={"pk": patient.pk}), REMOTE_ADDR="10.1.2.3")
    record_chart_view(obj=patient)
    seal_pending()
    ids = list(LogEntry.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) >= 5
    return ids


def test_every_entry_is_sealed_with_the_hash_of_the_one_before(entries):
    seals = list(AuditSeal.objects.order_by("pk"))
    assert sorted(seal.entry_id for seal in seals) == entries
    assert seals[0].prev_hash == GENESIS
    for before, seal in zip(seals, seals[1:], strict=False):
        assert seal.prev_hash == before.entry_hash
    assert len({seal.entry_hash for seal in seals}) == len(seals)

    out = verify()
    assert "intact" in out and f"{len(entries)} entries" in out and seals[-1].entry_hash in out


def test_a_changed_entry_is_reported_with_its_id(entries):
    target = entries[2]
    as_table_owner(LOG, "UPDATE auditlog_logentry SET object_repr = 'nothing to see' WHERE id = %s", target)

    with pytest.raises(CommandError, match=f"broken at entry {target}: the entry was changed") as raised:
        verify()
    assert raised.value.returncode != 0
    assert "2 entries before it are intact" in str(raised.value)


def test_a_changed_actor_or_address_is_reported(entries):
    read = LogEntry.objects.get(action=LogEntry.Action.ACCESS, remote_addr="10.1.2.3")
    as_table_owner(LOG, "UPDATE auditlog_logentry SET remote_addr = '10.9.9.9' WHERE id = %s", read.pk)
    assert chain_verify().broken.entry_id == read.pk


def test_a_deleted_entry_is_reported(entries):
    target = entries[1]
    as_table_owner(LOG, "DELETE FROM auditlog_logentry WHERE id = %s", target)
    with pytest.raises(CommandError, match=f"entry {target}: the entry was deleted"):
        verify()


def test_an_entry_deleted_with_its_seal_breaks_the_next_link(entries):
    target, following = entries[1], entries[2]
    as_table_owner(LOG, "DELETE FROM auditlog_logentry WHERE id = %s", target)
    as_table_owner(SEALS, "DELETE FROM audit_auditseal WHERE entry_id = %s", target)
    with pytest.raises(CommandError, match=f"entry {following}: the seal does not follow"):
        verify()


def test_the_last_entry_without_its_seal_is_reported(entries):
    as_table_owner(SEALS, "DELETE FROM audit_auditseal WHERE entry_id = %s", entries[-1])
    assert chain_verify().broken.entry_id == entries[-1]
    assert chain_verify().broken.reason == "the entry has no seal"


def test_the_chain_is_walked_in_chunks(entries):
    assert chain_verify(chunk_size=2).intact
    assert chain_verify(chunk_size=2).entries == len(entries)
    target = entries[-2]
    as_table_owner(LOG, "UPDATE auditlog_logentry SET changes_text = 'edited' WHERE id = %s", target)
    assert chain_verify(chunk_size=2).broken.entry_id == target


def test_an_empty_log_is_intact():
    assert chain_verify().intact
    assert "0 entries" in verify()


def test_seals_refuse_change_and_removal(entries):
    seal = AuditSeal.objects.first()
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - IntegrityError or InternalError by backend
        AuditSeal.objects.filter(pk=seal.pk).update(entry_hash=GENESIS)
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017
        AuditSeal.objects.filter(pk=seal.pk).delete()


# ---- PostgreSQL: the database seals at commit ----------------------------------------------------------------------


def _require_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL seals entries in the database itself")


@pytest.mark.django_db(transaction=True)
def test_an_entry_edited_by_a_database_superuser_is_reported(patient, clinician):
    """A superuser can switch the triggers off (session_replication_role) and rewrite a row: the chain shows it."""
    _require_postgres()
    record_chart_view(obj=patient)
    target = LogEntry.objects.order_by("pk").values_list("pk", flat=True)[1]
    assert "intact" in verify()

    superuser_sql(
        "SET session_replication_role = replica; "  # noqa: S608 - an integer id
        f"UPDATE auditlog_logentry SET object_repr = 'nothing to see', actor_id = NULL WHERE id = {int(target)};"
    )

    assert LogEntry.objects.get(pk=target).object_repr == "nothing to see"
    with pytest.raises(CommandError, match=f"broken at entry {target}: the entry was changed"):
        verify()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain(patient):
    _require_postgres()
    writers, per_writer = 4, 8
    start = threading.Barrier(writers)
    errors = []

    def write():
        try:
            start.wait(timeout=30)
            for _ in range(per_writer):
                with transaction.atomic():
                    record_chart_view(obj=patient)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    report = chain_verify()
    assert report.intact, report.broken
    assert report.entries == LogEntry.objects.count() == AuditSeal.objects.count()
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == writers * per_writer
