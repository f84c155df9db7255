"""The legacy esketamine code S0013 (replaced by J0013 on 2026-01-01) in the fee schedule, inactive and never charged,
with the reason in its notes."""

from django.db import migrations

from billing.ledger import reference_data


def seed_retired_fees(apps, schema_editor):
    reference_data.seed_retired_fees(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_estimate_assumptions"),
    ]

    operations = [
        migrations.RunPython(seed_retired_fees, migrations.RunPython.noop),
    ]
