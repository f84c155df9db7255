"""A search for "family, given" finds the patient in the index: the family-name prefix index also holds the
upper-cased given name (what a case-insensitive "starts with" compares), so a family name that starts many others
("Lee" before "Leeds", "Leeman"...) no longer means reading each of their rows to test the given name. It replaces
the family-name prefix index (0002) and the field's own two indexes (plain and prefix-search), whose searches it
answers as well: the key is only ever searched by its start. PostgreSQL only, like 0002; built CONCURRENTLY so
registration and search go on while it builds."""

from django.db import migrations, models

OLD = "patient_family_key_prefix_idx"
NEW = "patient_family_given_prefix_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NEW} ON patients_patient "
            "(family_name_key text_pattern_ops, upper(given_name::text) text_pattern_ops)",
            params=None,
        )
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD}", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {OLD} ON patients_patient (family_name_key text_pattern_ops)",
            params=None,
        )
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NEW}", params=None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("patients", "0006_registration_token")]

    operations = [
        migrations.AlterField(
            model_name="patient",
            name="family_name_key",
            field=models.CharField(editable=False, max_length=100),
        ),
        migrations.RunPython(forwards, backwards),
    ]
