"""The audit log's hash chain: every entry gets a seal, sha256(previous seal's hash + the entry's content).

On PostgreSQL the database writes the seals itself: a deferred constraint trigger fires when the transaction that wrote
an entry commits, takes an advisory lock (so two writers cannot fork the chain), reads the last seal and appends the
next. Its function runs as the owner (SECURITY DEFINER): the runtime role may read seals but never write one. Seals,
like entries, refuse UPDATE and DELETE. Entries already in the log are sealed here, oldest first.

The content expression is a frozen copy of `kap_clinic.kernel.audit.chain.POSTGRES_CONTENT`; the verifier recomputes with its
own copy, so the two must stay the same.
"""

from django.db import migrations, models

from kap_clinic.kernel.audit.triggers import sqlite_append_only, sqlite_drop_append_only

SEALS = "audit_auditseal"
ENTRIES = "auditlog_logentry"
LOCK_KEY = 7_203_318_664  # pg_advisory_xact_lock key of the chain head
CONTENT = """jsonb_build_array(
    {e}.id, {e}.content_type_id, {e}.object_pk, {e}.object_id, {e}.object_repr, {e}.serialized_data, {e}.action,
    {e}.changes_text, {e}.changes, {e}.actor_id, {e}.actor_email, {e}.cid, host({e}.remote_addr), {e}.remote_port,
    to_char({e}."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), {e}.additional_data
)::text"""


def _hash(prev, alias):
    return f"encode(sha256(convert_to({prev} || {CONTENT.replace('{e}', alias)}, 'UTF8')), 'hex')"


POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION audit_log_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {{schema}} AS $$
DECLARE
    prev text;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    SELECT entry_hash INTO prev FROM {SEALS} ORDER BY id DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    INSERT INTO {SEALS} (entry_id, prev_hash, entry_hash) VALUES (NEW.id, prev, {_hash('prev', 'NEW')});
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION audit_log_seal() FROM PUBLIC;
DROP TRIGGER IF EXISTS audit_log_seal ON {ENTRIES};
CREATE CONSTRAINT TRIGGER audit_log_seal AFTER INSERT ON {ENTRIES}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_log_seal();
DROP TRIGGER IF EXISTS audit_seal_append_only ON {SEALS};
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON {SEALS}
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
DO $$
DECLARE
    e {ENTRIES}%ROWTYPE;
    prev text := repeat('0', 64);
BEGIN
    FOR e IN SELECT * FROM {ENTRIES} ORDER BY id LOOP
        INSERT INTO {SEALS} (entry_id, prev_hash, entry_hash) VALUES (e.id, prev, {_hash('prev', 'e')})
            RETURNING entry_hash INTO prev;
    END LOOP;
END;
$$;
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS audit_log_seal ON {ENTRIES};
DROP TRIGGER IF EXISTS audit_seal_append_only ON {SEALS};
DROP FUNCTION IF EXISTS audit_log_seal();
"""
SQLITE_UP = sqlite_append_only(SEALS, prefix="audit_seal", message="the audit log is append-only")
SQLITE_DOWN = sqlite_drop_append_only(SEALS, prefix="audit_seal")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            schema = schema_editor.connection.ops.quote_name(cursor.fetchone()[0])
        schema_editor.execute(POSTGRES_UP.replace("{schema}", schema), params=None)
        return
    from kap_clinic.kernel.audit.chain import CONTENT_FIELDS, GENESIS, entry_hash

    entries = apps.get_model("auditlog", "LogEntry").objects.using(schema_editor.connection.alias)
    seals = apps.get_model("audit", "AuditSeal").objects.using(schema_editor.connection.alias)
    prev = GENESIS
    for values in entries.order_by("pk").values(*CONTENT_FIELDS).iterator():
        prev = seals.create(entry_id=values["id"], prev_hash=prev, entry_hash=entry_hash(prev, values)).entry_hash
    if vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_append_only_log'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditSeal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('entry_id', models.BigIntegerField(unique=True)),
                ('prev_hash', models.CharField(max_length=64)),
                ('entry_hash', models.CharField(max_length=64)),
            ],
            options={
                'ordering': ['pk'],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
