"""Re-install the signed-screening triggers after the merge.

On SQLite, 0003_answered_contraindications adds fields with defaults to screening_medicalhistory, which Django does by
rebuilding the table; that drops its triggers when it runs after 0003_signed_screening_is_read_only (the three 0003
migrations are unordered siblings). Running the lock again after the merge restores them; it is idempotent (CREATE
TRIGGER IF NOT EXISTS on SQLite, DROP/CREATE on PostgreSQL).
"""

import importlib

from django.db import migrations

read_only = importlib.import_module("screening.migrations.0003_signed_screening_is_read_only")


class Migration(migrations.Migration):
    dependencies = [("screening", "0004_merge_safety_and_security")]

    operations = [migrations.RunPython(read_only.lock_signed_screenings, migrations.RunPython.noop)]
