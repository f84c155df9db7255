from django.db import migrations

from kap_clinic.kernel.notifications import reference_data


# The default reminder rules (kap_clinic/kernel/notifications/reference_data.py), written once.
def seed(apps, schema_editor):
    reference_data.seed_reminder_rules(apps)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
