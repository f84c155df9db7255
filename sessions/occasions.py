"""The dosing session as an occasion patients are reminded of (registered with the outbox when the app is ready).

The reminder carries the session's time, what to do beforehand (by route, from the admin-edited preparation texts)
and, under a rule that asks for it, the link to confirm attendance and name the driver home.
"""

from datetime import datetime

from kap_clinic.kernel.notifications.backends import Message
from kap_clinic.kernel.notifications.models import PreparationText, ReminderRule
from kap_clinic.kernel.notifications.occasions import Anchor, portal_url, render_message

from .confirmation import confirm_url
from .models import DosingSession

Event = ReminderRule.Event


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
        session = reminder.session
        preparation = PreparationText.objects.filter(route=session.protocol.route).first()
        ctx = {
            "starts_at": session.starts_at,
            "portal_url": portal_url(),
            "confirm_url": confirm_url(session) if reminder.rule.asks_confirmation else "",
            "preparation": preparation,
        }
        return render_message("dosing_reminder", ctx, patient=session.patient, channel=channel)

    def upcoming_for_patient(self, patient, now: datetime) -> list[DosingSession]:
        return list(
            DosingSession.objects.filter(patient=patient, status=DosingSession.Status.SCHEDULED, starts_at__gt=now)
        )
