"""Each session carries its own planned dose (Spravato: 56 mg first, then 56 or 84 mg), and a plan a clinician's
written reason when its doses leave the label's rules.

Existing sessions take their plan's single dose, so every booked series keeps working unchanged.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_plan_dose(apps, schema_editor):
    DosingSession = apps.get_model("treatment_sessions", "DosingSession")
    TreatmentPlan = apps.get_model("treatment_sessions", "TreatmentPlan")
    for plan_id, dose in TreatmentPlan.objects.values_list("pk", "planned_dose"):
        DosingSession.objects.filter(plan_id=plan_id, planned_dose__isnull=True).update(planned_dose=dose)


class Migration(migrations.Migration):
    dependencies = [
        ("treatment_sessions", "0006_session_record"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dosingsession",
            name="planned_dose",
            field=models.DecimalField(decimal_places=3, max_digits=7, null=True),
        ),
        migrations.AddField(
            model_name="treatmentplan",
            name="dose_override_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="treatmentplan",
            name="dose_override_reason",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(copy_plan_dose, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="dosingsession",
            name="planned_dose",
            field=models.DecimalField(decimal_places=3, max_digits=7),
        ),
    ]
