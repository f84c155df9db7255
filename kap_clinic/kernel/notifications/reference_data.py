"""Reminders' reference rows: the default reminder rules and the preparation text for each route.

Registered with kap_clinic.kernel.reference_data in NotificationsConfig.ready(); the migrations that first wrote these
rows call the same functions with their historical app registry. Rows are only added where missing, so a rule or a
text the clinic has edited stays as it is.
"""

from kap_clinic.kernel.reference_data import known_fields

# A multi-touch sequence (48 h and 2 h before a dosing session) by default, plus aftercare nudges; the overdue
# nudge goes out a day after the check-in was due (docs/clinical-references.md#preparation).
# (event, name, minutes before (after, for an overdue check-in), asks for confirmation, active)
REMINDER_RULES = [
    ("dosing_session", "48 hours before, with confirmation", 48 * 60, True, True),
    ("dosing_session", "2 hours before", 2 * 60, False, True),
    ("integration_session", "24 hours before", 24 * 60, False, True),
    ("checkin_opens", "When the check-in opens", 0, False, True),
    ("checkin_overdue", "A day after the check-in was due", 24 * 60, False, True),
    # Notices, sent when staff make the change (held past quiet hours); the offset is not used.
    ("appointment_moved", "When an appointment is moved", 0, False, True),
    ("appointment_cancelled", "When an appointment is cancelled", 0, False, True),
]

# After the session, as the portal's preparation text and the clinical sources say (24 hours): one wording for both.
AFTER = "For 24 hours: no driving, no alcohol and no important decisions. An adult must drive you home."
EARLIER_AFTER = (
    "For the rest of the day: no driving, no alcohol and no important decisions. An adult must drive you home."
)
# In plain words that name neither the drug nor the route (docs/clinical-references.md#preparation). For the
# in-office tablet routes the sources give "light or no meal 2-4 h" as clinic policy; the longer wait is the safer
# default. route: (email text, text message)
PREPARATION_TEXTS = {
    "intranasal": (
        "Please have nothing to eat for 2 hours and nothing to drink for 30 minutes before your appointment. If you "
        "use a steroid or decongestant nose spray, use it at least 1 hour before. An adult must drive you home, and "
        "please do not drive until the next day, after a restful sleep.",
        "Nothing to eat 2 h before, nothing to drink 30 min before. An adult must drive you home.",
    ),
    "iv": (
        "Please have no solid food or milk for 6 hours before your appointment; clear drinks (water, clear juice, "
        "black tea or coffee) are fine until 2 hours before. Keep taking your usual medicines unless your clinician "
        "told you otherwise. " + AFTER,
        "No solid food or milk 6 h before; clear drinks until 2 h before. An adult must drive you home.",
    ),
    "im": (
        "Please have no solid food or milk for 6 hours before your appointment; clear drinks (water, clear juice, "
        "black tea or coffee) are fine until 2 hours before. Keep taking your usual medicines unless your clinician "
        "told you otherwise. " + AFTER,
        "No solid food or milk 6 h before; clear drinks until 2 h before. An adult must drive you home.",
    ),
    "sublingual": (
        "Please have only a light meal, or none, in the 4 hours before your appointment. Keep taking your usual "
        "medicines unless your clinician told you otherwise. " + AFTER,
        "Light meal or none in the 4 h before. An adult must drive you home.",
    ),
    "oral": (
        "Please have only a light meal, or none, in the 4 hours before your appointment. Keep taking your usual "
        "medicines unless your clinician told you otherwise. " + AFTER,
        "Light meal or none in the 4 h before. An adult must drive you home.",
    ),
}


def seed_reminder_rules(apps) -> None:
    """The default reminder rules, each added unless a rule for its event and offset exists."""
    ReminderRule = apps.get_model("notifications", "ReminderRule")
    for event, name, minutes, confirm, active in REMINDER_RULES:
        if ReminderRule.objects.filter(event=event, offset_minutes=minutes).exists():
            continue
        ReminderRule.objects.create(
            **known_fields(
                ReminderRule,
                {
                    "event": event,
                    "offset_minutes": minutes,
                    "name": name,
                    "asks_confirmation": confirm,
                    "is_active": active,
                },
            )
        )


def seed_preparation_texts(apps) -> None:
    """The preparation text for each route, added where the route has none."""
    PreparationText = apps.get_model("notifications", "PreparationText")
    for route, (email_text, sms_text) in PREPARATION_TEXTS.items():
        PreparationText.objects.get_or_create(route=route, defaults={"email_text": email_text, "sms_text": sms_text})


def seed(apps) -> None:
    seed_reminder_rules(apps)
    seed_preparation_texts(apps)
