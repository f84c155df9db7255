"""The tablet routes' preparation says a light meal or none "for 4 hours", as the reminders do, where a protocol still
holds the earlier "2 to 4 hours" sentence."""

from django.db import migrations

from kap_clinic.kernel.reference_data import reword
from sessions import reference_data


def forwards(apps, schema_editor):
    reword(
        apps,
        "treatment_sessions.Protocol",
        "preparation_instructions",
        old=reference_data.EARLIER_OFFICE_MEAL,
        new=reference_data.OFFICE_MEAL,
    )


def backwards(apps, schema_editor):
    reword(
        apps,
        "treatment_sessions.Protocol",
        "preparation_instructions",
        old=reference_data.OFFICE_MEAL,
        new=reference_data.EARLIER_OFFICE_MEAL,
    )


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0012_cancelled_by")]

    operations = [migrations.RunPython(forwards, backwards)]
