"""No double booking, enforced by PostgreSQL itself, and the default protocols from the clinical reference.

Exclusion constraints refuse two active sessions that overlap in time for one room, one clinician or one patient,
and two doses of one patient within the protocol's minimum interval. SQLite (the embedded development default)
has no exclusion constraints; there the booking service's own checks stand alone.
"""

from datetime import time
from decimal import Decimal

from django.db import migrations

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


IV_PREP = (
    "No solid food or milk for 6 hours before your session; clear liquids are fine until 2 hours before. "
    "Arrive 15 minutes early. An adult must drive you home: no driving, alcohol or major decisions for 24 hours. "
    "Ask your clinician before taking benzodiazepines, lamotrigine or opioids on the day."
)
SPRAVATO_PREP = (
    "No food for 2 hours and no liquids for 30 minutes before your session. Use any nasal corticosteroid or "
    "decongestant at least 1 hour before. Arrive 15 minutes early. An adult must take you home: do not drive "
    "until the next day after a restful sleep."
)
OFFICE_PREP = (
    "Have only a light meal, or none, for 2 to 4 hours before your session. Arrive 15 minutes early. An adult must "
    "drive you home: no driving, alcohol or major decisions for 24 hours."
)

# name, route, unit, min, max, default, session min, monitoring min, weekdays, booster days, rems, phases, prep, source
PROTOCOLS = [
    ("IV ketamine induction", "iv", "mg_per_kg", "0.1", "1.0", "0.5", 120, 60, [0, 2, 4], 28, False,
     [("induction", 6, 3, None)], IV_PREP,
     "DOMAIN 3.1: 0.5 mg/kg over 40 min, 6 infusions over ~2 weeks (Mon/Wed/Fri), boosters every 3-6 weeks."),
    ("IM ketamine-assisted psychotherapy", "im", "mg_per_kg", "0.2", "0.75", "0.5", 240, 60, [], 28, False,
     [("induction", 3, 1, None)], IV_PREP,
     "DOMAIN 3.1: up to 0.75 mg/kg, 3 weekly dosing sessions with preparation and integration."),
    ("Spravato (esketamine) for TRD", "intranasal", "mg", "56", "84", "56", 150, 120, [], 14, True,
     [("induction", None, 2, 4), ("maintenance", None, 1, 4)], SPRAVATO_PREP,
     "DOMAIN 3.3: US label, twice weekly weeks 1-4 (56 mg day 1, then 56 or 84 mg), weekly weeks 5-8, then "
     "weekly or every 2 weeks; at least 2 h observation (3.4)."),
    ("Sublingual ketamine (in office)", "sublingual", "mg", "50", "400", "100", 150, 90, [], 14, False,
     [("induction", 6, 2, None)], OFFICE_PREP,
     "DOMAIN 3.1: often 50-200 mg (lozenge method 100-400 mg), titrated; clinic-specific cadence."),
    ("Oral ketamine (in office)", "oral", "mg", "25", "300", "50", 150, 90, [], 14, False,
     [("induction", 4, 1, None)], OFFICE_PREP,
     "DOMAIN 3.1: fixed 25-300 mg reported; evidence thin, considered experimental."),
]


def seed(apps, schema_editor):
    Protocol = apps.get_model("treatment_sessions", "Protocol")
    ClinicHours = apps.get_model("treatment_sessions", "ClinicHours")
    for (name, route, unit, low, high, default, minutes, monitoring, weekdays, booster, rems, phases, prep,
         source) in PROTOCOLS:
        if Protocol.objects.filter(name=name).exists():
            continue
        protocol = Protocol.objects.create(
            name=name, route=route, dose_unit=unit, dose_min=Decimal(low), dose_max=Decimal(high),
            default_dose=Decimal(default), session_minutes=minutes, monitoring_minutes=monitoring,
            preferred_weekdays=weekdays, booster_interval_days=booster, requires_rems=rems,
            preparation_instructions=prep, source=source, min_interval_hours=48,
        )
        for order, (phase, sessions, per_week, weeks) in enumerate(phases, start=1):
            protocol.phases.create(order=order, name=phase, sessions=sessions, per_week=per_week, weeks=weeks)
    if not ClinicHours.objects.exists():
        for weekday in range(5):
            ClinicHours.objects.create(weekday=weekday, opens=time(8, 0), closes=time(18, 0))


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0002_scheduling")]

    operations = [
        migrations.RunPython(add_exclusions, drop_exclusions),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
