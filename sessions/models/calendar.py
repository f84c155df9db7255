from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Q

from patients.models import Patient


class CalendarFeed(models.Model):
    """A patient's private calendar subscription: one secret link, revocable, read by calendar apps without sign-in.

    Only the SHA-256 of the link's token is stored, so a copy of the database (or the audit log) cannot be
    turned into working links; the full link is shown to the patient once, right after it is made, and a
    lost link is replaced by making a new one (which revokes the old). A patient has at most one live feed.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Kept instead of an audit entry per fetch: a calendar app polls anonymously, every few minutes.
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["patient"], condition=Q(revoked_at__isnull=True), name="one_live_feed"),
        ]

    def __str__(self):
        return f"calendar feed #{self.pk}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(CalendarFeed, exclude_fields=["token_hash", "last_fetched_at"])
