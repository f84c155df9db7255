"""Informed consent as versioned documents per route, and each patient's acceptance of a version.

A `ConsentDocument` is the clinic's consent form for one route, numbered by version, in force from its
`effective_on` day. The version in force for a route on a day is the highest version whose `effective_on` is on or
before that day. A patient accepts a version in the portal (a click after reading it) or staff record an acceptance
with the scanned signed form. The pre-dose check (`sessions.consent.services`) wants an acceptance of the
version in force on the day of every dose, so a new version asks again.

A document's text never changes once anyone has accepted it (publish a new version instead), and acceptances are
never edited or deleted. Scans are stored outside MEDIA (`PRIVATE_MEDIA_ROOT`) and served only through an
access-checked staff view.
"""

import os
import secrets

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from kap_clinic.kernel.audit.append_only import AppendOnlyModel
from patients.models import Patient

from .scheduling import Route


class PrivateStorage(FileSystemStorage):
    """Files only staff may read, through a view that checks access: kept under PRIVATE_MEDIA_ROOT (read when used,
    so tests can point it elsewhere), never under MEDIA, and with no URL (`url()` refuses)."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; staff open them through the access-checked view.")


_PRIVATE_STORAGE = PrivateStorage()


def private_storage() -> PrivateStorage:
    return _PRIVATE_STORAGE


class ConsentDocument(models.Model):
    route = models.CharField(max_length=12, choices=Route.choices)
    version = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="The full text the patient reads and accepts.")
    effective_on = models.DateField(help_text="From this day, doses need an acceptance of this version.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["route", "-version"]
        constraints = [models.UniqueConstraint(fields=["route", "version"], name="consent_document_version_unique")]

    def __str__(self):
        return f"{self.get_route_display()} consent v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk and self.acceptances.exists():
            before = ConsentDocument.objects.get(pk=self.pk)
            fields = ("route", "version", "title", "text", "effective_on")
            changed = [f for f in fields if getattr(before, f) != getattr(self, f)]
            if changed:
                raise ValidationError(
                    "Patients have accepted this version, so it can no longer change; publish a new version instead."
                )
        super().save(*args, **kwargs)


def _scan_path(instance, filename):
    # A random name: the patient's name or the original file name never reach the disk.
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"consent-scans/{instance.patient_id}/{secrets.token_hex(16)}{suffix[:6]}"


class ConsentAcceptance(AppendOnlyModel):
    changed_message = "A consent acceptance is never changed; record a new one."
    deleted_message = "A consent acceptance is never deleted."

    class Method(models.TextChoices):
        PORTAL = "portal", "Accepted in the patient portal"
        STAFF = "staff", "Signed form recorded by staff"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_acceptances")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField()
    method = models.CharField(max_length=8, choices=Method.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scan = models.FileField(upload_to=_scan_path, storage=private_storage, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at", "-pk"]
        indexes = [models.Index(fields=["patient", "document"], name="consent_acceptance_lookup_idx")]
        constraints = [
            models.CheckConstraint(
                name="consent_staff_acceptance_has_scan", condition=Q(method="portal") | ~Q(scan="")
            ),
        ]

    def __str__(self):
        return f"consent acceptance #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(ConsentDocument)
auditlog.register(ConsentAcceptance)
