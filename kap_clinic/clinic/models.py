from django.conf import settings
from django.db import models


class ClinicSettings(models.Model):
    """The clinic's own choices, edited by admins; one row."""

    require_2fa_for_intake = models.BooleanField(
        "Require two-factor sign-in for intake staff",
        default=False,
        help_text="Admins and clinicians always sign in with a second factor.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="clinic_settings_single_row")]

    def __str__(self):
        return "Clinic settings"

    @classmethod
    def load(cls) -> "ClinicSettings":
        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            obj, _ = cls.objects.get_or_create(
                pk=1,
                defaults={"require_2fa_for_intake": settings.REQUIRE_2FA_FOR_INTAKE_DEFAULT},
            )
        return obj


class WorkerHeartbeat(models.Model):
    """Written by a Celery worker so admins can see that background work is running."""

    class Source(models.TextChoices):
        BEAT = "beat", "Scheduled by beat"
        CHECK = "check", "Requested by an admin"

    source = models.CharField(max_length=16, choices=Source.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    worker_hostname = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"heartbeat #{self.pk}"
