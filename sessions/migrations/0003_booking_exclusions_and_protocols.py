"""No double booking, enforced by PostgreSQL itself, and the default protocols.

Exclusion constraints refuse two active sessions that overlap in time for one room, one clinician or one patient,
and two doses of one patient within the protocol's minimum interval. SQLite (the embedded development default)
has no exclusion constraints; there the booking service's own checks stand alone.
"""

from django.db import migrations

from sessions import reference_data

TABLE = "treatment_sessions_dosingsession"
ACTIVE = "status IN ('scheduled', 'checked_in', 'in_progress', 'completed')"
EXCLUSIONS = {
    "session_room_no_overlap": "room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
    "session_clinician_no_overlap": "clinician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
    "session_patient_no_overlap": "patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
    "session_patient_min_interval": "patient_id WITH =, tstzrange(starts_at, dose_window_ends_at, '[)') WITH &&",
}


def add_exclusions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist", params=None)
    for name, spec in EXCLUSIONS.items():
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} EXCLUDE USING gist ({spec}) WHERE ({ACTIVE})", params=None
        )


def drop_exclusions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in EXCLUSIONS:
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name}", params=None)


# The default protocols and opening hours (sessions/reference_data.py), written once.
def seed(apps, schema_editor):
    reference_data.seed_protocols(apps)
    reference_data.seed_clinic_hours(apps)


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0002_scheduling")]

    operations = [
        migrations.RunPython(add_exclusions, drop_exclusions),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
