"""Calendar events get random UIDs: each session a UUID of its own (the old UIDs carried the row id)."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    DosingSession = apps.get_model("treatment_sessions", "DosingSession")
    for pk in DosingSession.objects.values_list("pk", flat=True).iterator():
        DosingSession.objects.filter(pk=pk).update(calendar_uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0006_session_record")]

    operations = [
        migrations.AddField(
            model_name="dosingsession",
            name="calendar_uid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="dosingsession",
            name="calendar_uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
