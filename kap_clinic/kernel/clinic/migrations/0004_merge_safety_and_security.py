
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0002_dosing_day_thresholds'),
        ('clinic', '0002_intake_two_factor_by_default'),
        ('clinic', '0003_pcl5_cutoff_setting'),
    ]

    operations = [
    ]
