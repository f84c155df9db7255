"""Services waiting for a price are recorded in billing (`UnpricedService`). A completed dosing session whose "no
price" alert is still open when this runs gets its open record, so the next price saved still charges it: the session
is read from the alert's key, here only."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

KEY_PREFIX = "fee-missing-session-"  # the keys were "fee-missing-session-<session id>-unpriced"


def record_sessions_waiting_for_a_price(apps, schema_editor):
    StaffAlert = apps.get_model("notifications", "StaffAlert")
    DosingSession = apps.get_model("treatment_sessions", "DosingSession")
    UnpricedService = apps.get_model("billing", "UnpricedService")
    keys = StaffAlert.objects.filter(
        kind="fee_missing", key__startswith=KEY_PREFIX, acknowledged_at__isnull=True
    ).values_list("key", flat=True)
    session_ids = set()
    for key in keys:
        head = key.removeprefix(KEY_PREFIX).split("-")[0]
        if head.isdigit():
            session_ids.add(int(head))
    sessions = DosingSession.objects.filter(pk__in=session_ids, status="completed").select_related("protocol")
    for session in sessions.order_by("pk"):
        UnpricedService.objects.get_or_create(
            session=session,
            resolved_at=None,
            defaults={
                "patient_id": session.patient_id,
                "service_date": timezone.localtime(session.starts_at).date(),
                "route": session.protocol.route,
            },
        )


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0010_preauth_work_list_index'),
        ('notifications', '0012_fee_missing_and_estimate_due_alerts'),
        ('patients', '0007_family_given_prefix_index'),
        ('treatment_sessions', '0012_cancelled_by'),
    ]

    operations = [
        migrations.CreateModel(
            name='UnpricedService',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('integration_session_id', models.PositiveBigIntegerField(blank=True, null=True)),
                ('service_date', models.DateField()),
                ('minutes', models.PositiveSmallIntegerField(blank=True, help_text="An integration session's minutes.", null=True)),
                ('route', models.CharField(blank=True, max_length=12)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ('session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='treatment_sessions.dosingsession')),
            ],
            options={
                'ordering': ['created_at', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('integration_session_id__isnull', True), ('session__isnull', False)), models.Q(('integration_session_id__isnull', False), ('minutes__isnull', False), ('session__isnull', True)), _connector='OR'), name='unpriced_one_service'), models.UniqueConstraint(condition=models.Q(('resolved_at__isnull', True), ('session__isnull', False)), fields=('session',), name='unpriced_open_once_per_session'), models.UniqueConstraint(condition=models.Q(('integration_session_id__isnull', False), ('resolved_at__isnull', True)), fields=('integration_session_id',), name='unpriced_open_once_per_integration')],
            },
        ),
        migrations.RunPython(record_sessions_waiting_for_a_price, migrations.RunPython.noop),
    ]
