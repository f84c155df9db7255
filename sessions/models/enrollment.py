from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Q

from patients.models import Patient


class Enrollment(models.Model):
    """A patient's place in the treatment program, opened only through the screening gate.

    Either a current, clinician-signed eligible screening stands behind it, or a clinician's written
    justification for overriding the gate (enforced here in the database as well as in the service).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrollments")
    screening = models.ForeignKey(
        "screening.Screening", null=True, blank=True, on_delete=models.PROTECT, related_name="enrollments"
    )
    override_justification = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.CheckConstraint(
                name="enrollment_needs_screening_or_justification",
                condition=Q(screening__isnull=False) | ~Q(override_justification=""),
            ),
            models.UniqueConstraint(fields=["patient"], condition=Q(status="active"), name="one_active_enrollment"),
        ]

    def __str__(self):
        return f"enrollment #{self.pk}"

    @property
    def is_override(self) -> bool:
        return self.screening_id is None or bool(self.override_justification)

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(Enrollment)
