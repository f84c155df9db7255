
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0004_birth_date_plausible'),
        ('patients', '0004_recorded_sex'),
        ('patients', '0004_rems_enrollment'),
    ]

    operations = [
    ]
