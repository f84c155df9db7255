"""Reminders say "for 24 hours" after the session, as the portal and the clinical sources do, where a preparation
text still holds the earlier "for the rest of the day" sentence."""

from django.db import migrations

from kap_clinic.kernel.notifications import reference_data as texts
from kap_clinic.kernel.reference_data import reword


def forwards(apps, schema_editor):
    reword(apps, "notifications.PreparationText", "email_text", old=texts.EARLIER_AFTER, new=texts.AFTER)


def backwards(apps, schema_editor):
    reword(apps, "notifications.PreparationText", "email_text", old=texts.AFTER, new=texts.EARLIER_AFTER)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0012_fee_missing_and_estimate_due_alerts")]

    operations = [migrations.RunPython(forwards, backwards)]
