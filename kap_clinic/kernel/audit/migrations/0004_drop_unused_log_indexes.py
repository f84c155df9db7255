"""Drop the audit log's indexes that no query of the clinic uses; every page that lists patients writes an entry
per patient, and each index is one more write per entry.

The log is read by patient and by user, newest first (0003), by request id (`cid`), by record (`object_id`: every
model's key is a whole number, which is what `LogEntry.objects.get_for_object` filters on), by record type and by
time. Not used: the acting user alone (0003's user index starts with it), the action (four values, never selective),
the record key as text (`object_pk`), and the prefix-search copies of `object_pk` and `cid`. Dropped CONCURRENTLY so
the log keeps taking entries. SQLite (development) keeps the indexes django-auditlog made.

django-auditlog's model still declares these indexes: a later django-auditlog migration that alters one of those
fields would make its index again, which `tests/audit/test_reads.py` (the log's indexes, on PostgreSQL) would report.
"""

from django.db import migrations

TABLE = "auditlog_logentry"
UNUSED = {
    "auditlog_logentry_actor_id_959271d2": "actor_id",
    "auditlog_logentry_action_229afe39": "action",
    "auditlog_logentry_object_pk_6e3219c0": "object_pk",
    "auditlog_logentry_object_pk_6e3219c0_like": "object_pk varchar_pattern_ops",
    "auditlog_logentry_cid_9f467263_like": "cid varchar_pattern_ops",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in UNUSED:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", params=None)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in UNUSED.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {TABLE} ({columns})", params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0003_log_browser_indexes")]

    operations = [migrations.RunPython(drop, create)]
