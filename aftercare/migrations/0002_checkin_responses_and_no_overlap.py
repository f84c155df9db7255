"""Check-in answers, and no double booking of integration sessions, enforced by PostgreSQL itself.

Exclusion constraints refuse two scheduled or completed integration sessions that overlap in time for one
clinician or one patient. The end is computed by an IMMUTABLE helper: `timestamptz + interval` is only STABLE
(a day-sized interval depends on the time zone), but a whole number of minutes does not, so the helper is honest.
Clashes with dosing sessions live in another table; the booking service checks those. SQLite has no exclusion
constraints; there the service's own checks stand alone.
"""

import django.db.models.deletion
from django.db import migrations, models


TABLE = "aftercare_integrationsession"
ACTIVE = "status IN ('scheduled', 'completed')"
SPAN = "tstzrange(starts_at, aftercare_minutes_after(starts_at, duration_minutes), '[)')"
EXCLUSIONS = {
    "integration_clinician_no_overlap": f"clinician_id WITH =, {SPAN} WITH &&",
    "integration_patient_no_overlap": f"patient_id WITH =, {SPAN} WITH &&",
}
FUNCTION = """
CREATE OR REPLACE FUNCTION aftercare_minutes_after(start timestamptz, minutes integer) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT start + make_interval(mins => minutes) $$
"""


def add_exclusions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist", params=None)
    schema_editor.execute(FUNCTION, params=None)
    for name, spec in EXCLUSIONS.items():
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} EXCLUDE USING gist ({spec}) WHERE ({ACTIVE})", params=None
        )


def drop_exclusions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in EXCLUSIONS:
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name}", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS aftercare_minutes_after(timestamptz, integer)", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('aftercare', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='CheckInResponse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=10)),
                ('answers', models.JSONField(default=list)),
                ('total', models.PositiveSmallIntegerField()),
                ('band', models.CharField(max_length=24)),
                ('flags', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('checkin', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='responses', to='aftercare.checkin')),
            ],
            options={
                'ordering': ['checkin', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('checkin', 'code'), name='checkin_one_response_per_instrument')],
            },
        ),
        migrations.RunPython(add_exclusions, drop_exclusions),
    ]
