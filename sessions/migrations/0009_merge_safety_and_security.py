
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('treatment_sessions', '0007_dosing_day_safety'),
        ('treatment_sessions', '0007_random_calendar_uids'),
        ('treatment_sessions', '0007_signed_rems_form_is_read_only'),
        ('treatment_sessions', '0008_consent_documents'),
        ('treatment_sessions', '0008_rems_sex_other'),
    ]

    operations = [
    ]
