"""Suicide-risk alerts from check-ins and the dosing-day re-screen, as well as screenings.

A check-in's PHQ-9 item 9 answer used to raise only a staff alert. Each one still unacknowledged becomes an open
moderate suicide-risk alert here, so it reaches the next dosing day's pre-dose checks like the new ones do.
"""

import re

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CHECKIN_ITEM9_KEY = re.compile(r"^checkin-(\d+)-phq9-item9$")


def open_alerts_for_unacknowledged_checkin_answers(apps, schema_editor):
    StaffAlert = apps.get_model("notifications", "StaffAlert")
    SuicideRiskAlert = apps.get_model("screening", "SuicideRiskAlert")
    flags = StaffAlert.objects.filter(key__startswith="checkin-", key__endswith="-phq9-item9", acknowledged_at=None)
    for flag in flags:
        match = CHECKIN_ITEM9_KEY.match(flag.key)
        if match is None:
            continue
        ref = f"checkin-{match.group(1)}"
        if not SuicideRiskAlert.objects.filter(source_ref=ref, instrument_code="phq9", status="open").exists():
            SuicideRiskAlert.objects.create(
                patient_id=flag.patient_id, source="checkin", source_ref=ref, instrument_code="phq9", level="moderate"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_aftercare_and_staff_alerts"),
        ("patients", "0003_home_page_indexes"),
        ("screening", "0002_worklist_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="suicideriskalert",
            name="source",
            field=models.CharField(
                choices=[("screening", "Screening"), ("checkin", "Check-in"), ("dosing_day", "Dosing-day re-screen")],
                default="screening",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="suicideriskalert",
            name="source_ref",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AlterField(
            model_name="suicideriskalert",
            name="screening",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="risk_alerts",
                to="screening.screening",
            ),
        ),
        migrations.AddConstraint(
            model_name="suicideriskalert",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open"), models.Q(("source_ref", ""), _negated=True)),
                fields=("source_ref", "instrument_code"),
                name="one_open_alert_per_source_answer",
            ),
        ),
        migrations.AddConstraint(
            model_name="suicideriskalert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("screening__isnull", False), ("source", "screening")),
                    models.Q(
                        models.Q(("source", "screening"), _negated=True),
                        ("screening__isnull", True),
                        models.Q(("source_ref", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="alert_source_named",
            ),
        ),
        migrations.RunPython(open_alerts_for_unacknowledged_checkin_answers, migrations.RunPython.noop),
    ]
