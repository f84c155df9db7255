import uuid
from datetime import timedelta

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from patients.models import Patient


class IntegrationSession(models.Model):
    """A psychotherapy appointment that helps the patient integrate their dosing experiences."""

    class Modality(models.TextChoices):
        CBT = "cbt", "Cognitive behavioural therapy (CBT)"
        MBCT = "mbct", "Mindfulness-based cognitive therapy (MBCT)"
        FAP = "fap", "Functional analytic psychotherapy (FAP)"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="integration_sessions")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    modality = models.CharField(max_length=8, choices=Modality.choices)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.CharField(max_length=300, blank=True)
    notes = models.TextField("Integration notes (staff only)", blank=True)
    # The patient's calendar feed: a random, stable event id (it tells nothing), and a count of changes.
    calendar_uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["patient", "starts_at"], name="integration_patient_idx"),
            models.Index(fields=["clinician", "starts_at"], name="integration_clinician_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "completed", "cancelled", "no_show"]),
                name="integration_status_known",
            ),
        ]

    def __str__(self):
        return f"integration session #{self.pk}"

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class CheckIn(models.Model):
    """Self-report questionnaires the patient fills in the portal between `opens_at` and `due_at`.

    It may still be filled late, until `closes_at`; after that an unfilled check-in counts as missed.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"  # waiting for the patient (before `opens_at` it is not shown yet)
        COMPLETED = "completed", "Completed"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="checkins")
    instruments = models.JSONField(default=list, help_text='Instrument codes, e.g. ["phq9", "gad7"].')
    opens_at = models.DateTimeField()
    due_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["opens_at", "pk"]
        indexes = [
            models.Index(fields=["patient", "opens_at"], name="checkin_patient_idx"),
            models.Index(fields=["status", "due_at"], name="checkin_status_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__lt=F("due_at"), due_at__lte=F("closes_at")), name="checkin_times_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "completed", "missed", "cancelled"]), name="checkin_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False), name="checkin_completed_has_time"
            ),
            models.UniqueConstraint(fields=["patient", "opens_at"], name="checkin_one_per_opening"),
        ]

    def __str__(self):
        return f"check-in #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class CheckInResponse(models.Model):
    """The patient's answers to one instrument of a check-in, scored with `kap_clinic.rules.instruments.score`."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="responses")
    code = models.CharField(max_length=10)
    answers = models.JSONField(default=list)
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=24)
    flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checkin", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "code"], name="checkin_one_response_per_instrument"),
        ]

    def __str__(self):
        return f"{self.code} check-in response #{self.pk}"

    @property
    def band_label(self) -> str:
        return self.band.replace("_", " ")

    def get_additional_data(self):
        return {"patient_id": self.checkin.patient_id}


# Admins browse the audit log: a change to the notes is recorded without their text (clinicians only read them).
auditlog.register(
    IntegrationSession,
    mask_fields=["notes"],
    mask_callable="kap_clinic.kernel.audit.masks.clinicians_only",
    exclude_fields=["calendar_sequence"],
)
auditlog.register(CheckIn)
auditlog.register(CheckInResponse)
