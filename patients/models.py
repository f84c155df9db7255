from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from kap_clinic.kernel.validation import EARLIEST_DATE, birth_date

from .status import Status

MRN_PREFIX = "KAP"
PHONE = RegexValidator(r"^\+?[0-9 ()\-.]{7,20}$", "Enter a phone number: digits, spaces and + ( ) - only.")


class Patient(models.Model):
    """A person referred to the program. `__str__` is the chart number, never the name."""

    class SexForScoring(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"

    class Sex(models.TextChoices):
        # As on forms that ask for sex, e.g. the Spravato REMS Patient Monitoring Form (11/2021): Male / Female / Other.
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"

    STATUS_CHOICES = [(s.value, s.label) for s in Status]

    mrn = models.CharField("MRN", max_length=20, unique=True, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    # Lower-cased family name, kept by save(): an indexed prefix search that works the same everywhere.
    # Searched by its start only: on PostgreSQL through the index with the given name (migration 0007).
    family_name_key = models.CharField(max_length=100, editable=False)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(validators=[birth_date])
    sex_for_scoring = models.CharField(
        "Sex (for scoring)",
        max_length=8,
        choices=SexForScoring.choices,
        blank=True,
        help_text="Used only where an instrument's cut-off differs by sex (AUDIT-C).",
    )
    # The sex recorded for the chart and forms such as the REMS form; apart from the scoring sex, which exists only to
    # pick an instrument's cut-off. Blank = not recorded.
    sex = models.CharField("Sex", max_length=8, choices=Sex.choices, blank=True)
    gender_identity = models.CharField(max_length=60, blank=True)

    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, validators=[PHONE])
    consents_to_email = models.BooleanField("Agrees to reminders by email", default=False)
    consents_to_sms = models.BooleanField("Agrees to reminders by text message", default=False)

    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True, validators=[PHONE])
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)

    weight_kg = models.DecimalField(
        "Weight (kg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("20")), MaxValueValidator(Decimal("350"))],
        help_text="Needed for mg/kg dosing.",
    )
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=Status.REFERRED, editable=False)
    referral_source = models.CharField(max_length=200, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
        help_text="The patient's own portal account.",
    )
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="primary_patients",
        limit_choices_to={"role": "clinician", "is_active": True},
    )
    # Spravato REMS patient enrollment (docs/clinical-references.md#rems, #clinical-review): a fact about the patient,
    # required before the first Spravato treatment. Recorded by staff from the chart (`patient_rems_enrollment_record`);
    # audited.
    rems_enrolled_on = models.DateField("Enrolled in the Spravato REMS on", null=True, blank=True, editable=False)
    rems_enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    rems_enrollment_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "pk"]
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="patient_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            models.Index(fields=["status"], name="patient_status_idx"),
            # Home pages: newest registrations, and each clinician's list in name order.
            models.Index(fields=["-created_at"], name="patient_created_idx"),
            models.Index(fields=["primary_clinician", "family_name", "given_name"], name="patient_clinician_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gte=20, weight_kg__lte=350),
                name="patient_weight_plausible",
            ),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in Status]), name="patient_status_known"),
            models.CheckConstraint(
                condition=Q(rems_enrolled_on__isnull=True, rems_enrolled_by__isnull=True)
                | Q(rems_enrolled_on__isnull=False, rems_enrolled_by__isnull=False),
                name="patient_rems_enrollment_has_who_and_when",
            ),
            # The moving "no more than 120 years ago, not in the future" is checked by the forms and services.
            models.CheckConstraint(condition=Q(date_of_birth__gte=EARLIEST_DATE), name="patient_birth_plausible"),
        ]

    def __str__(self):
        return self.mrn or f"patient #{self.pk}"

    def save(self, *args, **kwargs):
        self.family_name_key = (self.family_name or "").strip().lower()
        if kwargs.get("update_fields") is not None and "family_name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "family_name_key"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_rems_enrolled(self) -> bool:
        return self.rems_enrolled_on is not None

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    def age_on(self, day) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def get_additional_data(self):
        return {"patient_id": self.pk}


class PatientStatusChange(models.Model):
    """One step along the patient's path, with who made it and why."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=Patient.STATUS_CHOICES)
    to_status = models.CharField(max_length=16, choices=Patient.STATUS_CHOICES)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"status change #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class PatientInvite(models.Model):
    """A single-use, expiring invitation for a patient to set their portal password."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="invites")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"invite #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(Patient, exclude_fields=["family_name_key"])
auditlog.register(PatientStatusChange)
auditlog.register(PatientInvite, exclude_fields=["nonce"])


class PatientRegistration(models.Model):
    """The one-time token of a "Register a patient" form, kept with the patient it registered.

    The token is unique: a form posted twice (a double click, Back then Save again, two requests at once) registers
    one patient; the later posts find this row and show that patient.
    """

    token = models.CharField(max_length=64, unique=True, editable=False)
    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="registration")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)
    duplicate_confirmed = models.BooleanField(
        default=False, help_text="Registered although it looked like a patient already on file."
    )

    def __str__(self):
        return f"registration #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(PatientRegistration, exclude_fields=["token"])
