from django.db import migrations

# DOMAIN.md section 7: a multi-touch sequence (48 h + 2 h before a dosing session) is the default; the others are
# written now, switched off, for aftercare and integration reminders to use.
RULES = [
    ("dosing_session", "48 hours before, with confirmation", 48 * 60, True, True),
    ("dosing_session", "2 hours before", 2 * 60, False, True),
    ("integration_session", "24 hours before", 24 * 60, False, False),
    ("checkin_opens", "When the check-in opens", 0, False, False),
    ("checkin_overdue", "When the check-in is overdue", 0, False, False),
]


def seed(apps, schema_editor):
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    for event, name, minutes, confirm, active in RULES:
        ReminderRule.objects.get_or_create(
            event=event,
            offset_minutes=minutes,
            defaults={"name": name, "asks_confirmation": confirm, "is_active": active},
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
