import uuid

from django.db import migrations, models


# Each integration session already booked gets its own random calendar id.
def fill_uids(apps, schema_editor):
    IntegrationSession = apps.get_model("aftercare", "IntegrationSession")
    for pk in IntegrationSession.objects.values_list("pk", flat=True):
        IntegrationSession.objects.filter(pk=pk).update(calendar_uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("aftercare", "0002_checkin_responses_and_no_overlap")]

    operations = [
        migrations.AddField(
            model_name="integrationsession",
            name="calendar_sequence",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="integrationsession",
            name="calendar_uid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_uids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="integrationsession",
            name="calendar_uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
