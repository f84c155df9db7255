"""A search for "family, given" finds the patient in the index: the family-name prefix index also holds the
upper-cased given name (what a case-insensitive "starts with" compares), so a family name that starts many others
("Lee" before "Leeds", "Leeman"...) no longer means reading each of their rows to test the given name.

It replaces the family-name prefix index (0002) and the field's own two indexes (plain and prefix-search), whose
searches it answers as well: the key is only ever searched by its start. The new index is built before the old ones
go, and all of it CONCURRENTLY, so registration and search go on meanwhile (PostgreSQL). The field's `db_index`
change is state only here; the database side drops Django's two indexes by name (SQLite has the plain one).
"""

from django.db import migrations, models

OLD = "patient_family_key_prefix_idx"
NEW = "patient_family_given_prefix_idx"
FIELD_INDEXES = {  # what `db_index=True` made: name -> columns
    "patients_patient_family_name_key_57e3fc11": "family_name_key",
    "patients_patient_family_name_key_57e3fc11_like": "family_name_key varchar_pattern_ops",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {next(iter(FIELD_INDEXES))}", params=None)
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NEW} ON patients_patient "
        "(family_name_key text_pattern_ops, upper(given_name::text) text_pattern_ops)",
        params=None,
    )
    for name in [OLD, *FIELD_INDEXES]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        name, columns = next(iter(FIELD_INDEXES.items()))
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON patients_patient ({columns})", params=None)
        return
    indexes = {OLD: "family_name_key text_pattern_ops", **FIELD_INDEXES}
    for name, columns in indexes.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON patients_patient ({columns})", params=None
        )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NEW}", params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("patients", "0006_registration_token")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="patient",
                    name="family_name_key",
                    field=models.CharField(editable=False, max_length=100),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
