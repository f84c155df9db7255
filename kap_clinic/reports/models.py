import secrets

from django.conf import settings
from django.db import models


class ReportJob(models.Model):
    """A report produced in the background: who asked, what for, how far it has got, and the file when done.

    The file lies in the private folder (PRIVATE_MEDIA_ROOT/reports), never under a static or media address; it is
    served only to the person who asked, and deleted when the job expires.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "In progress"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=40)
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=120, blank=True)  # inside the private reports folder
    download_name = models.CharField(max_length=120, blank=True)
    content_type = models.CharField(max_length=60, blank=True)
    error = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="reportjob_owner_idx"),
            models.Index(fields=["status", "expires_at"], name="reportjob_status_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed", "expired"]),
                name="reportjob_status_known",
            ),
        ]

    def __str__(self):
        return f"report job #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def format_label(self) -> str:
        return {"pdf": "PDF", "csv": "CSV file"}.get(self.parameters.get("format"), "file")

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)

    @staticmethod
    def new_file_name(job_id: int, extension: str) -> str:
        return f"{job_id}-{secrets.token_hex(12)}.{extension}"
