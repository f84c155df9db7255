from functools import reduce
from operator import or_

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Q

from .content import validate_email_text, validate_sms_text


class ReminderRule(models.Model):
    """When patients are reminded of an event, edited by admins in the back office."""

    class Event(models.TextChoices):
        DOSING_SESSION = "dosing_session", "Dosing session"
        INTEGRATION_SESSION = "integration_session", "Integration therapy session"
        CHECKIN_OPENS = "checkin_opens", "Check-in opens"
        CHECKIN_OVERDUE = "checkin_overdue", "Check-in overdue"
        APPOINTMENT_MOVED = "appointment_moved", "Appointment moved (notice)"
        APPOINTMENT_CANCELLED = "appointment_cancelled", "Appointment cancelled (notice)"

    event = models.CharField(max_length=24, choices=Event.choices)
    name = models.CharField(max_length=80)
    offset_minutes = models.PositiveIntegerField(
        "Offset (minutes)",
        help_text=(
            "Minutes before the event; for an overdue check-in, minutes after it was due. Whole days (1440, 2880) "
            "count calendar days on the clinic's clock; 0 = when the event happens."
        ),
    )
    asks_confirmation = models.BooleanField("Asks the patient to confirm and name their driver", default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["event", "-offset_minutes"]
        constraints = [models.UniqueConstraint(fields=["event", "offset_minutes"], name="reminder_rule_unique")]

    def __str__(self):
        return f"{self.get_event_display()}: {self.name}"


# Notices tell the patient of a change once it is made, rather than of an event ahead: a rule under one of these events
# is sent when staff move or cancel an appointment (its offset is not used); switching the rule off stops them.
NOTICE_EVENTS = (ReminderRule.Event.APPOINTMENT_MOVED, ReminderRule.Event.APPOINTMENT_CANCELLED)


class StaffAlert(models.Model):
    """Something staff must act on: an urgent clinical flag, or an authorization about to run out.

    Written in the same transaction as the thing that raised it, once per `key`; shown on the home pages of the
    staff it concerns until one of them acknowledges it, and emailed to them (through the reminder outbox).
    """

    class Kind(models.TextChoices):
        SUICIDE_RISK = "suicide_risk", "Suicide-risk flag"
        ADVERSE_EVENT = "adverse_event", "Serious adverse event"
        RELAPSE = "relapse", "Relapse warning"
        CHECKIN_MISSED = "checkin_missed", "Check-in overdue"
        AUTHORIZATION = "authorization", "Authorization running out"
        REMS_DUE = "rems_due", "REMS form due"
        POST_DOSE_VITALS = "post_dose_vitals", "Dangerous vital signs after a dose"
        CANNOT_ATTEND = "cannot_attend", "Patient can't attend: call them"
        ESTIMATE_EXCEEDED = "estimate_over", "Billed $400 or more above the good-faith estimate"
        FEE_MISSING = "fee_missing", "No price in the fee schedule: a session is not charged"
        ESTIMATE_DUE = "estimate_due", "Good-faith estimate due"

    class Audience(models.TextChoices):
        CLINICAL = "clinical", "The patient's clinician (every clinician when unassigned) and admins"
        FRONT_OFFICE = "front_office", "Admins and intake staff"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    urgent = models.BooleanField(default=False)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    key = models.CharField(max_length=120, unique=True, help_text="One alert per key: raising it again does nothing.")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="staff_alerts")
    summary = models.CharField(max_length=200, help_text="Staff-facing; names no patient (the chart link does).")
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-urgent", "-created_at", "-pk"]
        indexes = [models.Index(fields=["acknowledged_at", "audience"], name="staff_alert_open_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_by__isnull=False),
                name="staff_alert_ack_has_user",
            ),
        ]

    def __str__(self):
        return f"staff alert #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


_routes: list[tuple[str, str]] = []


def register_preparation_routes(choices) -> None:
    """The routes a dosing session can take (value, label), registered by the app that books dosing sessions."""
    _routes[:] = list(choices)


def preparation_routes() -> list[tuple[str, str]]:
    return list(_routes)


class PreparationText(models.Model):
    """What a patient does before a dosing session by one route, as reminders say it
    (docs/clinical-references.md#preparation); edited by admins.

    Reminders never name the drug or the route: these texts are checked for clinical words when saved, and each
    message again before it is sent.
    """

    route = models.CharField(max_length=12, choices=preparation_routes, unique=True)
    email_text = models.TextField(
        "In the email", validators=[validate_email_text], help_text="Eating, drinking, medicines, travel home."
    )
    sms_text = models.CharField(
        "In the text message",
        max_length=160,
        blank=True,
        validators=[validate_sms_text],
        help_text="Short; no nose sprays or other hints at the route.",
    )

    class Meta:
        ordering = ["route"]

    def __str__(self):
        return f"preparation for {self.get_route_display()}"


def exactly_one_of(*fields: str) -> Q:
    """A condition that exactly one of these foreign keys is set."""
    return reduce(or_, (Q(**{f"{field}__isnull": field != chosen for field in fields}) for chosen in fields))


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class Reminder(models.Model):
    """One message to one patient on one channel, sent at most once.

    pending -> sending -> sent | failed, or -> cancelled (moved, cancelled or passed session; consent withdrawn).
    A row is claimed with a conditional UPDATE (pending -> sending), so two workers never both send it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # Exactly one of the four targets: a dosing session, an integration session, a check-in (each reminded to the
    # patient under a rule), or a staff alert (emailed to `staff_user`, with no rule).
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="reminders")
    session = models.ForeignKey(
        "treatment_sessions.DosingSession", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    integration_session = models.ForeignKey(
        "aftercare.IntegrationSession", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    checkin = models.ForeignKey(
        "aftercare.CheckIn", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    alert = models.ForeignKey(StaffAlert, null=True, blank=True, on_delete=models.CASCADE, related_name="emails")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(ReminderRule, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    scheduled_for = models.DateTimeField(help_text="When the rule (and quiet hours) put it.")
    # The session's start this reminder was written for: a moved session no longer matches, and is not reminded.
    event_at = models.DateTimeField()
    next_try_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(
        default=False, help_text="Delivery could not be settled after a crash: staff check before resending."
    )
    status_reason = models.CharField(max_length=300, blank=True)
    recipient = models.CharField(max_length=254, blank=True, help_text="The address or number used for the send.")
    # Set on a notice of a change (an appointment moved or cancelled): one row per change and channel, ever.
    notice_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_for", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_try_at"], name="reminder_due_idx"),
            # The reminders list reads upcoming ones forwards, past ones backwards from now (selectors.nearest_first).
            models.Index(fields=["scheduled_for"], name="reminder_scheduled_idx"),
            models.Index(fields=["status", "scheduled_for"], name="reminder_status_scheduled_idx"),
            models.Index(fields=["scheduled_for"], condition=Q(needs_attention=True), name="reminder_attention_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "rule", "channel", "scheduled_for"],
                name="reminder_unique_per_time",
                condition=Q(notice_key__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["integration_session", "rule", "channel", "scheduled_for"],
                name="reminder_integration_unique",
                condition=Q(notice_key__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["checkin", "rule", "channel", "scheduled_for"],
                name="reminder_checkin_unique",
                condition=Q(notice_key__isnull=True),
            ),
            models.UniqueConstraint(fields=["alert", "staff_user", "channel"], name="reminder_alert_unique"),
            models.CheckConstraint(
                name="reminder_one_target",
                condition=exactly_one_of("session", "integration_session", "checkin", "alert"),
            ),
            models.CheckConstraint(
                name="reminder_rule_or_staff",
                condition=Q(alert__isnull=True, rule__isnull=False, staff_user__isnull=True)
                | Q(alert__isnull=False, rule__isnull=True, staff_user__isnull=False),
            ),
            models.CheckConstraint(
                name="reminder_sent_has_time", condition=~Q(status="sent") | Q(sent_at__isnull=False)
            ),
        ]

    def __str__(self):
        return f"reminder #{self.pk}"

    def idempotency_key(self, attempt: int) -> str:
        return f"reminder-{self.pk}-attempt-{attempt}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class DeliveryAttempt(models.Model):
    """One try at handing a reminder to the mail or SMS backend, written before the send and settled after."""

    class Outcome(models.TextChoices):
        STARTED = "started", "Started (no answer yet)"
        ACCEPTED = "accepted", "Accepted by the backend"
        FAILED = "failed", "Refused or failed"
        SKIPPED = "skipped", "Not sent (no longer needed)"
        SETTLED_SENT = "settled_sent", "After a crash: the backend had accepted it"
        SETTLED_NOT_SENT = "settled_not_sent", "After a crash: the backend never received it"
        UNKNOWN = "unknown", "After a crash: unknown, flagged for staff"

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="attempts_made")
    number = models.PositiveSmallIntegerField()
    idempotency_key = models.CharField(max_length=80, unique=True)
    backend = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.STARTED)
    reason = models.CharField(max_length=300, blank=True)
    provider_id = models.CharField(max_length=120, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["reminder", "number"]
        constraints = [models.UniqueConstraint(fields=["reminder", "number"], name="delivery_attempt_unique")]

    def __str__(self):
        return f"attempt {self.number} of reminder #{self.reminder_id}"


class SessionConfirmation(models.Model):
    """The patient's answer to the dosing reminder: they will attend, and who drives them home."""

    session = models.OneToOneField(
        "treatment_sessions.DosingSession", on_delete=models.CASCADE, related_name="confirmation"
    )
    # The start the patient confirmed; a moved session needs confirming again.
    confirmed_start = models.DateTimeField()
    driver_name = models.CharField("Adult driving the patient home", max_length=120)
    confirmed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"confirmation of session #{self.session_id}"

    def get_additional_data(self):
        return {"patient_id": self.session.patient_id}


auditlog.register(ReminderRule)
auditlog.register(StaffAlert)
auditlog.register(PreparationText)
auditlog.register(SessionConfirmation)
