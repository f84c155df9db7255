"""What patients are reminded of: a dosing session, an integration session, a check-in opening or falling overdue.

Each kind of target answers the same questions for the reminder services, so planning, the send-time checks and
delivery are written once:

- `field`: the Reminder foreign key that points at the target;
- `anchors(target)`: per rule event, the moment its offsets count from and the moment after which a reminder for it
  is of no use (a session's start; a check-in's opening, useful until it is due; its due time, until it closes);
- `not_needed(target)`: why no reminder is wanted any more ("" while one is);
- `message(reminder, channel)`: the words, from templates, carrying no clinical detail (see `content.py`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from aftercare.models import CheckIn, IntegrationSession
from sessions.models import DosingSession

from .backends import Message
from .models import Channel, PreparationText, ReminderRule

Event = ReminderRule.Event


@dataclass(frozen=True)
class Anchor:
    at: datetime  # offsets count from here (a reminder remembers it: a moved target no longer matches)
    until: datetime  # a reminder due at or after this is of no use


def portal_url() -> str:
    # The portal's home page lists the patient's sessions and check-ins: its address says nothing about treatment.
    return settings.SITE_URL.rstrip("/") + reverse("homes:home")


def _render(template: str, ctx: dict, *, patient, channel: str) -> Message:
    """To the patient's phone, `notifications/sms/<template>.txt`; to their email, the `_subject.txt`, `_body.txt`
    and `_body.html` under `notifications/email/`."""
    to = patient.phone if channel == Channel.SMS else patient.email
    ctx = {"clinic_name": settings.CLINIC_NAME, "clinic_phone": settings.REMS_SETTING_PHONE, **ctx}
    if channel == Channel.SMS:
        return Message(to=to, subject="", text=render_to_string(f"notifications/sms/{template}.txt", ctx).strip())
    return Message(
        to=to,
        subject=" ".join(render_to_string(f"notifications/email/{template}_subject.txt", ctx).split()),
        text=render_to_string(f"notifications/email/{template}_body.txt", ctx),
        html=render_to_string(f"notifications/email/{template}_body.html", ctx),
    )


class DosingOccasion:
    field, model, noun = "session", DosingSession, "session"
    events = (Event.DOSING_SESSION,)

    def anchors(self, session):
        return {Event.DOSING_SESSION: Anchor(session.starts_at, session.starts_at)}

    def not_needed(self, session) -> str:
        if session.status == DosingSession.Status.SCHEDULED:
            return ""
        return f"the session is {session.get_status_display().lower()}"

    def too_late(self, event) -> str:
        return "the session has started"

    def message(self, reminder, channel) -> Message:
        from .services import confirm_url

        session = reminder.session
        preparation = PreparationText.objects.filter(route=session.protocol.route).first()
        ctx = {
            "starts_at": session.starts_at,
            "portal_url": portal_url(),
            "confirm_url": confirm_url(session) if reminder.rule.asks_confirmation else "",
            "preparation": preparation,
        }
        return _render("dosing_reminder", ctx, patient=session.patient, channel=channel)


class IntegrationOccasion:
    field, model, noun = "integration_session", IntegrationSession, "appointment"
    events = (Event.INTEGRATION_SESSION,)

    def anchors(self, visit):
        return {Event.INTEGRATION_SESSION: Anchor(visit.starts_at, visit.starts_at)}

    def not_needed(self, visit) -> str:
        if visit.status == IntegrationSession.Status.SCHEDULED:
            return ""
        return f"the appointment is {visit.get_status_display().lower()}"

    def too_late(self, event) -> str:
        return "the appointment has started"

    def message(self, reminder, channel) -> Message:
        visit = reminder.integration_session
        ctx = {"starts_at": visit.starts_at, "minutes": visit.duration_minutes, "portal_url": portal_url()}
        return _render("appointment_reminder", ctx, patient=visit.patient, channel=channel)


class CheckInOccasion:
    field, model, noun = "checkin", CheckIn, "check-in"
    events = (Event.CHECKIN_OPENS, Event.CHECKIN_OVERDUE)

    def anchors(self, checkin):
        return {
            Event.CHECKIN_OPENS: Anchor(checkin.opens_at, checkin.due_at),
            Event.CHECKIN_OVERDUE: Anchor(checkin.due_at, checkin.closes_at),
        }

    def not_needed(self, checkin) -> str:
        if checkin.status == CheckIn.Status.OPEN:
            return ""
        return f"the check-in is {checkin.get_status_display().lower()}"

    def too_late(self, event) -> str:
        return "the check-in is due" if event == Event.CHECKIN_OPENS else "the check-in has closed"

    def message(self, reminder, channel) -> Message:
        checkin = reminder.checkin
        ctx = {
            "due_at": checkin.due_at,
            "overdue": reminder.rule.event == Event.CHECKIN_OVERDUE,
            "portal_url": portal_url(),
        }
        return _render("checkin_reminder", ctx, patient=checkin.patient, channel=channel)


OCCASIONS = (DosingOccasion(), IntegrationOccasion(), CheckInOccasion())


def occasion_of(reminder):
    """The occasion whose foreign key the reminder has set."""
    return next(o for o in OCCASIONS if getattr(reminder, f"{o.field}_id") is not None)


def occasion_for(target):
    return next(o for o in OCCASIONS if isinstance(target, o.model))
