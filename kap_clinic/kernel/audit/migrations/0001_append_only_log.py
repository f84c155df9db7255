"""The audit table refuses UPDATE and DELETE in the database itself, whatever the application does."""

from django.db import migrations

from kap_clinic.kernel.audit.triggers import sqlite_append_only, sqlite_drop_append_only

TABLE = "auditlog_logentry"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_log_append_only ON {TABLE};
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS audit_log_append_only ON {TABLE};
DROP FUNCTION IF EXISTS audit_log_is_append_only();
"""
SQLITE_UP = sqlite_append_only(TABLE, prefix="audit_log", message="the audit log is append-only")
SQLITE_DOWN = sqlite_drop_append_only(TABLE, prefix="audit_log")


def forwards(apps, schema_editor):
    _run(schema_editor, POSTGRES_UP, SQLITE_UP)


def backwards(apps, schema_editor):
    _run(schema_editor, POSTGRES_DOWN, SQLITE_DOWN)


def _run(schema_editor, postgres_sql, sqlite_statements):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres_sql, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_statements:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("auditlog", "0017_add_actor_email")]

    operations = [migrations.RunPython(forwards, backwards)]
