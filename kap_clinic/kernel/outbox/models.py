from django.db import models
from django.db.models import Q


class OutboxEmail(models.Model):
    """One email that is not a reminder (a portal invitation, a password reset), written in the caller's transaction
    and sent at most once by a worker; a broker that is down only delays it (the beat sweep queues it later).

    pending -> sending -> sent | failed, or -> cancelled. A row is claimed with a conditional UPDATE. Its text holds
    a single-use link, so the body is blanked once the mail server has accepted it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=40, help_text="What the email is for, e.g. portal_invitation.")
    key = models.CharField(max_length=120, unique=True, help_text="Idempotency key: one email per key.")
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(default=False)
    status_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_try_at"], name="outbox_email_due_idx")]
        constraints = [
            models.CheckConstraint(
                name="outbox_email_sent_has_time", condition=~Q(status="sent") | Q(sent_at__isnull=False)
            ),
        ]

    def __str__(self):
        return f"outbox email #{self.pk} ({self.kind})"

    def attempt_key(self, attempt: int) -> str:
        return f"outbox-{self.pk}-attempt-{attempt}"
