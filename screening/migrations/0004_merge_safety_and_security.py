
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0003_answered_contraindications'),
        ('screening', '0003_risk_alerts_from_checkins_and_dosing_day'),
        ('screening', '0003_signed_screening_is_read_only'),
    ]

    operations = [
    ]
