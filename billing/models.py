from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from kap_clinic.kernel.validation import EARLIEST_CLINIC_DATE, LATEST_DATE
from patients.models import Patient


class Payer(models.Model):
    """An insurer or plan the clinic bills, maintained by admins."""

    name = models.CharField(max_length=120, unique=True)
    payer_code = models.CharField("Payer ID", max_length=40, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    preauth_channel = models.CharField(
        "Pre-authorization channel",
        max_length=20,
        blank=True,
        help_text="How requests reach this payer; blank uses the clinic's default (fax or portal, sent by staff).",
    )
    followup_days = models.PositiveSmallIntegerField(
        "Follow up after (days)", default=7, help_text="Days without an answer before staff are asked to follow up."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.preauth_channel and self.preauth_channel not in settings.PREAUTH_CHANNELS:
            known = ", ".join(sorted(settings.PREAUTH_CHANNELS))
            raise ValidationError({"preauth_channel": f"Not a channel the clinic has; choose one of {known}."})


class PriorAuthorization(models.Model):
    """A payer's approval of a number of units of given codes between two dates
    (docs/clinical-references.md#prior-authorization)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Being assembled"
        SUBMITTED = "submitted", "Submitted"
        PENDED = "pended", "Pended by the payer"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        APPEALED = "appealed", "Appealed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="authorizations")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="authorizations")
    reference = models.CharField("Authorization number", max_length=60, blank=True)
    codes = models.JSONField(default=list, blank=True, help_text='Billing codes covered, e.g. ["G2083", "J0013"].')
    units_authorized = models.PositiveIntegerField(null=True, blank=True)
    units_used = models.PositiveIntegerField(default=0)
    units_counted_at = models.DateTimeField(
        null=True, blank=True, help_text="When units used were last counted from the dosing sessions."
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    notes = models.TextField(blank=True)
    # The request as sent to the payer (assembled from the record, reviewed by staff before it is submitted).
    policy = models.ForeignKey(
        "billing.InsurancePolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="authorizations"
    )
    units_requested = models.PositiveIntegerField(null=True, blank=True)
    requested_starts_on = models.DateField("First day requested", null=True, blank=True)
    requested_ends_on = models.DateField("Last day requested", null=True, blank=True)
    diagnoses = models.JSONField("ICD-10 diagnoses", default=list, blank=True)
    justification = models.TextField("Clinical justification", blank=True)
    decision_reason = models.TextField("Payer's reason", blank=True, help_text="Why it was denied or pended.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ends_on", "pk"]
        indexes = [models.Index(fields=["status", "ends_on"], name="authorization_status_end_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(starts_on__lte=F("ends_on")),
                name="authorization_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(requested_starts_on__isnull=True)
                | Q(requested_ends_on__isnull=True)
                | Q(requested_starts_on__lte=F("requested_ends_on")),
                name="authorization_requested_dates_ordered",
            ),
            models.CheckConstraint(
                condition=(Q(starts_on__isnull=True) | Q(starts_on__range=(EARLIEST_CLINIC_DATE, LATEST_DATE)))
                & (Q(ends_on__isnull=True) | Q(ends_on__range=(EARLIEST_CLINIC_DATE, LATEST_DATE))),
                name="authorization_dates_plausible",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(starts_on__isnull=False, ends_on__isnull=False, units_authorized__isnull=False),
                name="authorization_approved_complete",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "submitted",
                        "pended",
                        "approved",
                        "denied",
                        "appealed",
                        "expired",
                        "cancelled",
                    ]
                ),
                name="authorization_status_known",
            ),
        ]

    def __str__(self):
        return f"authorization #{self.pk}"

    @property
    def units_left(self) -> int | None:
        if self.units_authorized is None:
            return None
        return self.units_authorized - self.units_used

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class AuthorizationStatusChange(models.Model):
    """One step of an authorization's status, with who made it (none for the daily sweep) and when."""

    authorization = models.ForeignKey(PriorAuthorization, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=PriorAuthorization.Status.choices)
    to_status = models.CharField(max_length=10, choices=PriorAuthorization.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"authorization status change #{self.pk}"

    def get_additional_data(self):
        # The audit log is browsed by patient: name the patient, as the authorization's own entries do.
        return {"patient_id": self.authorization.patient_id, "authorization_id": self.authorization_id}


auditlog.register(Payer)
auditlog.register(PriorAuthorization, exclude_fields=["updated_at", "units_counted_at"])
auditlog.register(AuthorizationStatusChange)

from .coverage_models import *  # noqa: E402,F403 - coverage and pre-authorization paperwork (billing/coverage_models.py)
from .ledger_models import *  # noqa: E402,F403 (the patient ledger's models, kept in their own module)
