"""Dosing-day safety: end of dosing and top-ups, the suicide-risk re-screen and acknowledgements in the pre-dose
checks, written discharge overrides, and the Spravato 2-hour floor.

REMS protocols set below 120 minutes are raised to 120 before the constraint is added. The signed-record triggers of
0006 are laid again (SQLite drops them when it rebuilds a table) and laid on the two new record tables.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


NEW_RECORD_TABLES = ("treatment_sessions_dosetopup", "treatment_sessions_predoseriskacknowledgement")


def raise_rems_monitoring_to_two_hours(apps, schema_editor):
    Protocol = apps.get_model("treatment_sessions", "Protocol")
    Protocol.objects.filter(requires_rems=True, monitoring_minutes__lt=120).update(monitoring_minutes=120)


def lock_signed_records(apps, schema_editor):
    m0006 = importlib.import_module("sessions.migrations.0006_session_record")
    m0006.lock_signed_records(apps, schema_editor)
    vendor = schema_editor.connection.vendor
    for table in NEW_RECORD_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS session_record_locked ON {table};\n"
                f"CREATE TRIGGER session_record_locked BEFORE INSERT OR UPDATE OR DELETE ON {table}\n"
                "FOR EACH ROW EXECUTE FUNCTION session_record_refuse_when_signed();",
                params=None,
            )
        elif vendor == "sqlite":
            signed = f"EXISTS (SELECT 1 FROM {m0006.SIGNATURES} WHERE session_id = %s.session_id)"
            refuse = "BEGIN SELECT RAISE(ABORT, 'the session record is signed'); END;"
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_signed_ins BEFORE INSERT ON {table} WHEN {signed % 'NEW'} {refuse}"
            )
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_signed_upd BEFORE UPDATE ON {table} "
                f"WHEN {signed % 'OLD'} OR {signed % 'NEW'} {refuse}"
            )
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_signed_del BEFORE DELETE ON {table} WHEN {signed % 'OLD'} {refuse}"
            )


def unlock_new_tables(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in NEW_RECORD_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS session_record_locked ON {table};", params=None)
        elif vendor == "sqlite":
            for suffix in ("signed_ins", "signed_upd", "signed_del"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix};")


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0003_risk_alerts_from_checkins_and_dosing_day"),
        ("treatment_sessions", "0006_session_record"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DoseTopUp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("dose_mg", models.DecimalField(decimal_places=1, max_digits=6, verbose_name="Top-up (mg)")),
                ("given_at", models.DateTimeField()),
                ("reason", models.CharField(blank=True, max_length=200)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["given_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="PreDoseRiskAcknowledgement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("note", models.TextField()),
                ("acknowledged_at", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="discharge",
            name="overridden_contradictions",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="discharge",
            name="override_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="doseadministration",
            name="dosing_ended_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="Infusion end / last device"),
        ),
        migrations.AddField(
            model_name="doseadministration",
            name="dosing_ended_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="doseadministration",
            name="infusion_minutes",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="Infusion duration (minutes)"),
        ),
        migrations.AddField(
            model_name="doseadministration",
            name="infusion_rate_mg_per_min",
            field=models.DecimalField(
                blank=True, decimal_places=3, max_digits=6, null=True, verbose_name="Infusion rate (mg/min)"
            ),
        ),
        migrations.AddField(
            model_name="predosecheck",
            name="is_possibly_pregnant",
            field=models.BooleanField(blank=True, null=True, verbose_name="Could the patient be pregnant?"),
        ),
        migrations.AddField(
            model_name="predosecheck",
            name="rescreen_answers",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="predosecheck",
            name="rescreen_code",
            field=models.CharField(
                blank=True,
                choices=[("phq9_item9", "PHQ-9 item 9"), ("cssrs_slv", "C-SSRS screener, since last visit")],
                max_length=10,
                verbose_name="Suicide-risk re-screen",
            ),
        ),
        migrations.AddField(
            model_name="predosecheck",
            name="rescreen_level",
            field=models.CharField(blank=True, max_length=10),
        ),
        migrations.AddConstraint(
            model_name="doseadministration",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("dosing_ended_at__isnull", True), ("dosing_ended_at__gte", models.F("dosed_at")), _connector="OR"
                ),
                name="dose_ended_after_start",
            ),
        ),
        migrations.RunPython(raise_rems_monitoring_to_two_hours, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="protocol",
            constraint=models.CheckConstraint(
                condition=models.Q(("requires_rems", False), ("monitoring_minutes__gte", 120), _connector="OR"),
                name="rems_protocol_monitors_two_hours",
            ),
        ),
        migrations.AddField(
            model_name="dosetopup",
            name="given_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="dosetopup",
            name="session",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dose_top_ups",
                to="treatment_sessions.dosingsession",
            ),
        ),
        migrations.AddField(
            model_name="predoseriskacknowledgement",
            name="acknowledged_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="predoseriskacknowledgement",
            name="alert",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="screening.suicideriskalert"
            ),
        ),
        migrations.AddField(
            model_name="predoseriskacknowledgement",
            name="session",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="risk_acknowledgements",
                to="treatment_sessions.dosingsession",
            ),
        ),
        migrations.AddConstraint(
            model_name="dosetopup",
            constraint=models.CheckConstraint(condition=models.Q(("dose_mg__gt", 0)), name="top_up_mg_positive"),
        ),
        migrations.AddConstraint(
            model_name="predoseriskacknowledgement",
            constraint=models.UniqueConstraint(
                fields=("session", "alert"), name="one_risk_acknowledgement_per_session_alert"
            ),
        ),
        migrations.AddConstraint(
            model_name="predoseriskacknowledgement",
            constraint=models.CheckConstraint(
                condition=models.Q(("note", ""), _negated=True), name="risk_acknowledgement_has_note"
            ),
        ),
        migrations.RunPython(lock_signed_records, unlock_new_tables),
    ]
