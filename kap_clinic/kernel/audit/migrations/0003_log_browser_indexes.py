"""Indexes for the audit log browser: entries of one patient, and of one user, newest first.

The log is filtered by the patient an entry names (`additional_data -> 'patient_id'`, an expression only PostgreSQL
indexes) and by the acting user, and read newest first; without these a patient's few entries are found by reading
the whole log. Built CONCURRENTLY: the log keeps taking entries while they build. SQLite (development) gets none.
"""

from django.db import migrations

TABLE = "auditlog_logentry"
INDEXES = {
    "audit_entry_patient_idx": "((additional_data -> 'patient_id')), timestamp DESC, id DESC",
    "audit_entry_actor_idx": "actor_id, timestamp DESC, id DESC",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {TABLE} ({columns})", params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0002_hash_chain")]

    operations = [migrations.RunPython(create, drop)]
