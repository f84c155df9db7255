"""Once a clinician signs a screening off, the database itself refuses to change or delete it or any of its parts
(instrument answers, medical history, medications, diagnoses), as it does for signed session records. The runtime
database role does not own these tables, so it cannot disable the triggers either.

On SQLite, an ALTER that Django performs by rebuilding one of these tables drops its triggers: a later migration that
alters them must run `lock_signed_screenings` again.
"""

from django.db import migrations

from kap_clinic.kernel.audit.triggers import sqlite_drop_locked_rows, sqlite_locked_rows

SCREENINGS = "screening_screening"
PART_TABLES = (
    "screening_instrumentresponse",
    "screening_medicalhistory",
    "screening_medication",
    "screening_diagnosis",
)
SIGNED = "signed_off"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION screening_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF OLD.status = '{SIGNED}' THEN
        RAISE EXCEPTION 'screening % is signed off: % on % refused', OLD.id, TG_OP, TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS screening_signed_locked ON {SCREENINGS};
CREATE TRIGGER screening_signed_locked BEFORE UPDATE OR DELETE ON {SCREENINGS}
    FOR EACH ROW EXECUTE FUNCTION screening_refuse_when_signed();
CREATE OR REPLACE FUNCTION screening_part_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF EXISTS (SELECT 1 FROM {SCREENINGS} WHERE id = OLD.screening_id AND status = '{SIGNED}') THEN
            RAISE EXCEPTION 'screening % is signed off: % on % refused', OLD.screening_id, TG_OP, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF EXISTS (SELECT 1 FROM {SCREENINGS} WHERE id = NEW.screening_id AND status = '{SIGNED}') THEN
            RAISE EXCEPTION 'screening % is signed off: % on % refused', NEW.screening_id, TG_OP, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS screening_signed_locked ON {table};
CREATE TRIGGER screening_signed_locked BEFORE INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION screening_part_refuse_when_signed();
"""
    for table in PART_TABLES
)
POSTGRES_DOWN = "".join(
    f"DROP TRIGGER IF EXISTS screening_signed_locked ON {table};\n" for table in (SCREENINGS, *PART_TABLES)
) + """
DROP FUNCTION IF EXISTS screening_refuse_when_signed();
DROP FUNCTION IF EXISTS screening_part_refuse_when_signed();
"""

REFUSE = "BEGIN SELECT RAISE(ABORT, 'the screening is signed off'); END;"


def sqlite_up():
    for op in ("UPDATE", "DELETE"):
        yield (
            f"CREATE TRIGGER IF NOT EXISTS {SCREENINGS}_signed_{op.lower()} BEFORE {op} ON {SCREENINGS} "
            f"WHEN OLD.status = '{SIGNED}' {REFUSE}"
        )
    signed = f"EXISTS (SELECT 1 FROM {SCREENINGS} WHERE id = %s.screening_id AND status = '{SIGNED}')"
    for table in PART_TABLES:
        yield from sqlite_locked_rows(table, locked_when=signed, message="the screening is signed off")


def sqlite_down():
    for op in ("update", "delete"):
        yield f"DROP TRIGGER IF EXISTS {SCREENINGS}_signed_{op};"
    for table in PART_TABLES:
        yield from sqlite_drop_locked_rows(table)


def lock_signed_screenings(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_up():
            schema_editor.execute(statement)


def unlock_signed_screenings(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_down():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_worklist_indexes")]

    operations = [migrations.RunPython(lock_signed_screenings, unlock_signed_screenings)]
