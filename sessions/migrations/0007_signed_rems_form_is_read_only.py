"""A signed REMS Patient Monitoring Form is read-only in the database itself, like a signed session record: no DELETE,
and no UPDATE except recording its submission to the REMS once (who, when, the reference). Its event rows cannot be
added, changed or removed once the form is signed. The runtime database role does not own these tables, so it cannot
disable the triggers either.

On SQLite the form's columns are compared one by one (the list is taken when this migration runs); an ALTER that
Django performs by rebuilding one of these tables drops its triggers: a later migration that alters them must run
`lock_signed_rems_forms` again.
"""

from django.db import migrations

from kap_clinic.kernel.audit.triggers import sqlite_drop_locked_rows, sqlite_locked_rows

FORMS = "treatment_sessions_remsmonitoringform"
EVENTS = "treatment_sessions_remsevent"
SUBMISSION_COLUMNS = ("submitted_by_id", "submitted_at", "submission_reference", "updated_at")
_SUBMISSION = ", ".join(f"'{column}'" for column in SUBMISSION_COLUMNS)

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION rems_form_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL THEN
        IF TG_OP = 'DELETE' OR OLD.submitted_at IS NOT NULL
                OR (to_jsonb(NEW) - ARRAY[{_SUBMISSION}]) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{_SUBMISSION}]) THEN
            RAISE EXCEPTION 'REMS form % is signed: % on % refused', OLD.id, TG_OP, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS rems_form_signed_locked ON {FORMS};
CREATE TRIGGER rems_form_signed_locked BEFORE UPDATE OR DELETE ON {FORMS}
    FOR EACH ROW EXECUTE FUNCTION rems_form_refuse_when_signed();
CREATE OR REPLACE FUNCTION rems_event_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF EXISTS (SELECT 1 FROM {FORMS} WHERE id = OLD.form_id AND signed_at IS NOT NULL) THEN
            RAISE EXCEPTION 'REMS form % is signed: % on % refused', OLD.form_id, TG_OP, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF EXISTS (SELECT 1 FROM {FORMS} WHERE id = NEW.form_id AND signed_at IS NOT NULL) THEN
            RAISE EXCEPTION 'REMS form % is signed: % on % refused', NEW.form_id, TG_OP, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS rems_event_signed_locked ON {EVENTS};
CREATE TRIGGER rems_event_signed_locked BEFORE INSERT OR UPDATE OR DELETE ON {EVENTS}
    FOR EACH ROW EXECUTE FUNCTION rems_event_refuse_when_signed();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS rems_form_signed_locked ON {FORMS};
DROP TRIGGER IF EXISTS rems_event_signed_locked ON {EVENTS};
DROP FUNCTION IF EXISTS rems_form_refuse_when_signed();
DROP FUNCTION IF EXISTS rems_event_refuse_when_signed();
"""
REFUSE = "BEGIN SELECT RAISE(ABORT, 'the REMS form is signed'); END;"


def sqlite_up(columns):
    locked = [column for column in columns if column not in SUBMISSION_COLUMNS]
    changed = " OR ".join(f'NEW."{column}" IS NOT OLD."{column}"' for column in locked)
    yield (
        f"CREATE TRIGGER IF NOT EXISTS {FORMS}_signed_upd BEFORE UPDATE ON {FORMS} "
        f"WHEN OLD.signed_at IS NOT NULL AND (OLD.submitted_at IS NOT NULL OR {changed}) {REFUSE}"
    )
    yield f"CREATE TRIGGER IF NOT EXISTS {FORMS}_signed_del BEFORE DELETE ON {FORMS} WHEN OLD.signed_at IS NOT NULL {REFUSE}"
    signed = f"EXISTS (SELECT 1 FROM {FORMS} WHERE id = %s.form_id AND signed_at IS NOT NULL)"
    yield from sqlite_locked_rows(EVENTS, locked_when=signed, message="the REMS form is signed")


def sqlite_down():
    yield from sqlite_drop_locked_rows(FORMS)
    yield from sqlite_drop_locked_rows(EVENTS)


def form_columns(apps):
    model = apps.get_model("treatment_sessions", "RemsMonitoringForm")
    return [field.column for field in model._meta.concrete_fields]


def lock_signed_rems_forms(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_up(form_columns(apps)):
            schema_editor.execute(statement)


def unlock_signed_rems_forms(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_down():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0006_session_record")]

    operations = [migrations.RunPython(lock_signed_rems_forms, unlock_signed_rems_forms)]
