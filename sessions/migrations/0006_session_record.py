"""Session record: pre-dose checks, dose, monitoring, adverse events, discharge, signature and amendments.

Once a session's record is signed the database itself refuses to insert, change or delete its rows, and signatures
and amendments are append-only. On SQLite, an ALTER that Django performs by rebuilding one of these tables drops its
triggers: a later migration that alters them must run `lock_signed_records` again.
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from kap_clinic.kernel.audit.triggers import (
    sqlite_append_only,
    sqlite_drop_append_only,
    sqlite_drop_locked_rows,
    sqlite_locked_rows,
)


SIGNATURES = "treatment_sessions_recordsignature"
RECORD_TABLES = (
    "treatment_sessions_predosecheck",
    "treatment_sessions_doseadministration",
    "treatment_sessions_vitalsign",
    "treatment_sessions_scalescore",
    "treatment_sessions_adverseevent",
    "treatment_sessions_discharge",
)
APPEND_ONLY_TABLES = (SIGNATURES, "treatment_sessions_recordamendment")

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION session_record_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF EXISTS (SELECT 1 FROM {SIGNATURES} WHERE session_id = OLD.session_id) THEN
            RAISE EXCEPTION 'session record % is signed: % on % refused', OLD.session_id, TG_OP, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF EXISTS (SELECT 1 FROM {SIGNATURES} WHERE session_id = NEW.session_id) THEN
            RAISE EXCEPTION 'session record % is signed: % on % refused', NEW.session_id, TG_OP, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION session_record_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'signatures and amendments are append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS session_record_locked ON {table};
CREATE TRIGGER session_record_locked BEFORE INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION session_record_refuse_when_signed();
"""
    for table in RECORD_TABLES
) + "".join(
    f"""
DROP TRIGGER IF EXISTS session_record_append_only ON {table};
CREATE TRIGGER session_record_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION session_record_append_only();
"""
    for table in APPEND_ONLY_TABLES
)
POSTGRES_DOWN = "".join(
    f"DROP TRIGGER IF EXISTS session_record_locked ON {table};\n" for table in RECORD_TABLES
) + "".join(
    f"DROP TRIGGER IF EXISTS session_record_append_only ON {table};\n" for table in APPEND_ONLY_TABLES
) + """
DROP FUNCTION IF EXISTS session_record_refuse_when_signed();
DROP FUNCTION IF EXISTS session_record_append_only();
"""


def _sqlite_up():
    signed = f"EXISTS (SELECT 1 FROM {SIGNATURES} WHERE session_id = %s.session_id)"
    for table in RECORD_TABLES:
        yield from sqlite_locked_rows(table, locked_when=signed, message="the session record is signed")
    for table in APPEND_ONLY_TABLES:
        yield from sqlite_append_only(table, message="signatures and amendments are append-only")


def _sqlite_down():
    for table in RECORD_TABLES:
        yield from sqlite_drop_locked_rows(table)
    for table in APPEND_ONLY_TABLES:
        yield from sqlite_drop_append_only(table)


def lock_signed_records(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in _sqlite_up():
            schema_editor.execute(statement)


def unlock_signed_records(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in _sqlite_down():
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('treatment_sessions', '0005_rems_and_controlled_substances'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RecordSignature',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('signed_at', models.DateTimeField()),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='record_signature', to='treatment_sessions.dosingsession')),
                ('signed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='AdverseEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('dissociation', 'Dissociation'), ('dizziness', 'Dizziness'), ('nausea', 'Nausea'), ('sedation', 'Sedation'), ('vertigo', 'Vertigo'), ('hypoesthesia', 'Hypoesthesia'), ('anxiety', 'Anxiety'), ('lethargy', 'Lethargy'), ('bp_increased', 'Blood pressure increased'), ('vomiting', 'Vomiting'), ('feeling_drunk', 'Feeling drunk'), ('emergence', 'Emergence reaction / agitation'), ('hallucinations', 'Hallucinations'), ('vivid_dreams', 'Vivid dreams'), ('headache', 'Headache'), ('tachycardia', 'Tachycardia'), ('vision', 'Diplopia / blurred vision'), ('hypersalivation', 'Hypersalivation'), ('resp_depression', 'Respiratory depression'), ('urinary', 'Urinary symptoms'), ('other', 'Other')], max_length=16, verbose_name='Event')),
                ('other_description', models.CharField(blank=True, max_length=120, verbose_name='Describe (for Other)')),
                ('onset_at', models.DateTimeField()),
                ('severity', models.CharField(choices=[('mild', 'Mild'), ('moderate', 'Moderate'), ('severe', 'Severe')], max_length=8)),
                ('intervention', models.CharField(blank=True, help_text='For example antiemetic, benzodiazepine, oxygen, infusion slowed.', max_length=200)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('is_serious', models.BooleanField(default=False, verbose_name='Serious')),
                ('is_reportable', models.BooleanField(default=False, verbose_name='Reportable (REMS / FDA MedWatch)')),
                ('details', models.TextField(blank=True)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adverse_events', to='treatment_sessions.dosingsession')),
            ],
            options={
                'ordering': ['onset_at', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('kind', 'other'), _negated=True), models.Q(('other_description', ''), _negated=True), _connector='OR'), name='adverse_event_other_described'), models.CheckConstraint(condition=models.Q(('resolved_at__isnull', True), ('resolved_at__gte', models.F('onset_at')), _connector='OR'), name='adverse_event_resolves_after_onset')],
            },
        ),
        migrations.CreateModel(
            name='Discharge',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('is_vitals_stable', models.BooleanField(verbose_name='Vitals stable; BP settled and SpO₂ at baseline')),
                ('is_alert_at_baseline', models.BooleanField(verbose_name='Back to baseline alertness (MOAA/S 5): verbalisation, awareness, purposeful movement')),
                ('is_dissociation_resolved', models.BooleanField(verbose_name='Dissociation resolved')),
                ('is_nausea_minimal', models.BooleanField(verbose_name='No or minimal nausea')),
                ('is_ambulating_safely', models.BooleanField(verbose_name='Able to stand and walk safely')),
                ('is_escort_present', models.BooleanField(verbose_name='Responsible adult escort present')),
                ('is_instructions_given', models.BooleanField(verbose_name='Written instructions given: no driving until the next day, no alcohol or big decisions')),
                ('note', models.TextField(blank=True)),
                ('discharged_at', models.DateTimeField()),
                ('discharged_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='discharge', to='treatment_sessions.dosingsession')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('is_alert_at_baseline', True), ('is_ambulating_safely', True), ('is_dissociation_resolved', True), ('is_escort_present', True), ('is_instructions_given', True), ('is_nausea_minimal', True), ('is_vitals_stable', True)), name='discharge_criteria_all_met')],
            },
        ),
        migrations.CreateModel(
            name='DoseAdministration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('dose_mg_given', models.DecimalField(decimal_places=1, max_digits=6, verbose_name='Dose given (mg)')),
                ('dose_mg_per_kg', models.DecimalField(blank=True, decimal_places=3, max_digits=7, null=True, verbose_name='Dose (mg/kg)')),
                ('weight_kg', models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True, verbose_name='Weight used (kg)')),
                ('dosed_at', models.DateTimeField(verbose_name='First device / infusion start')),
                ('range_override_reason', models.TextField(blank=True)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('dosed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('range_override_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='dose_administration', to='treatment_sessions.dosingsession')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('dose_mg_given__gt', 0)), name='dose_mg_positive'), models.CheckConstraint(condition=models.Q(models.Q(('dose_mg_per_kg__isnull', True), ('weight_kg__isnull', True)), models.Q(('dose_mg_per_kg__gt', 0), ('weight_kg__gt', 0)), _connector='OR'), name='dose_per_kg_with_weight'), models.CheckConstraint(condition=models.Q(models.Q(('range_override_by__isnull', True), ('range_override_reason', '')), models.Q(('range_override_by__isnull', False), models.Q(('range_override_reason', ''), _negated=True)), _connector='OR'), name='dose_override_has_reason')],
            },
        ),
        migrations.CreateModel(
            name='PreDoseCheck',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('is_consent_confirmed', models.BooleanField(default=False, verbose_name="Consent for today's session confirmed")),
                ('is_fasting_confirmed', models.BooleanField(default=False, verbose_name='Nothing by mouth for the required time')),
                ('escort_name', models.CharField(blank=True, max_length=120, verbose_name='Driver / escort home')),
                ('sbp', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(50), django.core.validators.MaxValueValidator(300)], verbose_name='Systolic BP (mmHg)')),
                ('dbp', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(20), django.core.validators.MaxValueValidator(200)], verbose_name='Diastolic BP (mmHg)')),
                ('hr', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(20), django.core.validators.MaxValueValidator(250)], verbose_name='Heart rate (/min)')),
                ('spo2', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(50), django.core.validators.MaxValueValidator(100)], verbose_name='SpO₂ (%)')),
                ('rr', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(4), django.core.validators.MaxValueValidator(60)], verbose_name='Respiratory rate (/min)')),
                ('checked_at', models.DateTimeField()),
                ('bp_acknowledged_level', models.CharField(blank=True, choices=[('flag', 'Above the flag threshold'), ('hold', 'Above the hard-hold threshold')], max_length=4)),
                ('bp_acknowledged_at', models.DateTimeField(blank=True, null=True)),
                ('bp_symptom_check', models.CharField(blank=True, help_text='Headache, chest pain, visual change, neurological signs.', max_length=200, verbose_name='Symptom check')),
                ('bp_acknowledgement_reason', models.TextField(blank=True)),
                ('bp_acknowledged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('checked_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='pre_dose_check', to='treatment_sessions.dosingsession')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('bp_acknowledged_at__isnull', True), ('bp_acknowledged_by__isnull', True), ('bp_acknowledged_level', ''), ('bp_acknowledgement_reason', '')), models.Q(('bp_acknowledged_level__in', ['flag', 'hold']), ('bp_acknowledged_at__isnull', False), ('bp_acknowledged_by__isnull', False), models.Q(('bp_acknowledgement_reason', ''), _negated=True), models.Q(('bp_symptom_check', ''), _negated=True)), _connector='OR'), name='predose_bp_acknowledgement_complete')],
            },
        ),
        migrations.CreateModel(
            name='RecordAmendment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='record_amendments', to='treatment_sessions.dosingsession')),
            ],
            options={
                'ordering': ['created_at', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('text', ''), _negated=True), name='amendment_has_text')],
            },
        ),
        migrations.CreateModel(
            name='ScaleScore',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scale', models.CharField(choices=[('moaas', 'MOAA/S (sedation, 0–5)'), ('cadss', 'CADSS total (dissociation, 0–92)'), ('cadss6', 'CADSS-6 short form (dissociation, 0–24)')], max_length=6)),
                ('score', models.PositiveSmallIntegerField()),
                ('taken_at', models.DateTimeField()),
                ('minutes_from_dose', models.PositiveSmallIntegerField()),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scale_scores', to='treatment_sessions.dosingsession')),
            ],
            options={
                'ordering': ['taken_at', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('scale', 'moaas'), ('score__lte', 5)), models.Q(('scale', 'cadss'), ('score__lte', 92)), models.Q(('scale', 'cadss6'), ('score__lte', 24)), _connector='OR'), name='scale_score_in_range')],
            },
        ),
        migrations.CreateModel(
            name='VitalSign',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('taken_at', models.DateTimeField()),
                ('minutes_from_dose', models.PositiveSmallIntegerField()),
                ('sbp', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(50), django.core.validators.MaxValueValidator(300)], verbose_name='Systolic BP (mmHg)')),
                ('dbp', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(20), django.core.validators.MaxValueValidator(200)], verbose_name='Diastolic BP (mmHg)')),
                ('hr', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(20), django.core.validators.MaxValueValidator(250)], verbose_name='Heart rate (/min)')),
                ('spo2', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(50), django.core.validators.MaxValueValidator(100)], verbose_name='SpO₂ (%)')),
                ('rr', models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(4), django.core.validators.MaxValueValidator(60)], verbose_name='Respiratory rate (/min)')),
                ('position', models.CharField(blank=True, choices=[('seated', 'Seated'), ('reclined', 'Reclined / supine'), ('standing', 'Standing')], max_length=8)),
                ('note', models.CharField(blank=True, max_length=300)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='vital_signs', to='treatment_sessions.dosingsession')),
            ],
            options={
                'ordering': ['taken_at', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('sbp__isnull', False), ('dbp__isnull', False), ('hr__isnull', False), ('spo2__isnull', False), ('rr__isnull', False), _connector='OR'), name='vital_sign_has_a_reading')],
            },
        ),
        migrations.RunPython(lock_signed_records, unlock_signed_records),
    ]
