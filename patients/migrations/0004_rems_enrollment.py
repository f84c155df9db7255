"""Spravato REMS enrollment as a fact on the patient: the date and who recorded it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_home_page_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="rems_enrolled_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="rems_enrolled_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="Enrolled in the Spravato REMS on"
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="rems_enrollment_recorded_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("rems_enrolled_by__isnull", True), ("rems_enrolled_on__isnull", True)),
                    models.Q(("rems_enrolled_by__isnull", False), ("rems_enrolled_on__isnull", False)),
                    _connector="OR",
                ),
                name="patient_rems_enrollment_has_who_and_when",
            ),
        ),
    ]
