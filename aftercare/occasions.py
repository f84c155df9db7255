"""Integration sessions and check-ins as occasions patients are reminded of (registered with the outbox when the
app is ready): an appointment before it starts; a check-in when it opens, and again once it is overdue."""

from datetime import datetime

from kap_clinic.kernel.notifications.backends import Message
from kap_clinic.kernel.notifications.models import ReminderRule
from kap_clinic.kernel.notifications.occasions import Anchor, portal_url, render_message

from .models import CheckIn, IntegrationSession

Event = ReminderRule.Event


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
        return render_message("appointment_reminder", ctx, patient=visit.patient, channel=channel)

    def upcoming_for_patient(self, patient, now: datetime) -> list[IntegrationSession]:
        return list(
            IntegrationSession.objects.filter(
                patient=patient, status=IntegrationSession.Status.SCHEDULED, starts_at__gt=now
            )
        )


class CheckInOccasion:
    field, model, noun = "checkin", CheckIn, "check-in"
    events = (Event.CHECKIN_OPENS, Event.CHECKIN_OVERDUE)

    def anchors(self, checkin):
        return {
            Event.CHECKIN_OPENS: Anchor(checkin.opens_at, checkin.due_at),
            Event.CHECKIN_OVERDUE: Anchor(checkin.due_at, checkin.closes_at, counts_after=True),
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
        return render_message("checkin_reminder", ctx, patient=checkin.patient, channel=channel)

    def upcoming_for_patient(self, patient, now: datetime) -> list[CheckIn]:
        return list(CheckIn.objects.filter(patient=patient, status=CheckIn.Status.OPEN, closes_at__gt=now))
