from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from kap_clinic.rules import instruments as instrument_rules
from patients.models import Patient

OUTCOME_CHOICES = [("eligible", "Eligible"), ("review", "Needs clinician review"), ("ineligible", "Not eligible")]
RISK_CHOICES = [("none", "None"), ("low", "Low"), ("moderate", "Moderate"), ("high", "High")]


class Screening(models.Model):
    """One intake screening of a patient: instruments, medical history, the computed decision and its sign-off."""

    class Status(models.TextChoices):
        DRAFT = "draft", "In progress"
        COMPLETED = "completed", "Awaiting clinician sign-off"
        SIGNED_OFF = "signed_off", "Signed off"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    computed_outcome = models.CharField(max_length=12, choices=OUTCOME_CHOICES, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    suicide_risk = models.CharField(max_length=10, choices=RISK_CHOICES, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    final_outcome = models.CharField(
        max_length=12, choices=[c for c in OUTCOME_CHOICES if c[0] != "review"], blank=True
    )
    sign_off_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "status", "signed_off_at"], name="screening_gate_idx"),
            # Home-page work lists: awaiting sign-off (oldest first) and in progress (latest first).
            models.Index(fields=["status", "completed_at"], name="screening_worklist_idx"),
            models.Index(fields=["status", "-updated_at"], name="screening_in_progress_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="screening_signed_off_has_signer",
                condition=~Q(status="signed_off")
                | Q(
                    signed_off_by__isnull=False,
                    signed_off_at__isnull=False,
                    final_outcome__in=["eligible", "ineligible"],
                ),
            ),
            models.CheckConstraint(
                name="screening_completed_has_outcome",
                condition=Q(status="draft") | ~Q(computed_outcome=""),
            ),
        ]

    def __str__(self):
        return f"screening #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class InstrumentResponse(models.Model):
    """The answers to one instrument; scored only when complete (a draft keeps its answers and no score)."""

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="responses")
    code = models.CharField(max_length=10)
    answers = models.JSONField(default=list)
    is_complete = models.BooleanField(default=False)
    reported_by_patient = models.BooleanField(default=False)
    total = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=24, blank=True)
    flags = models.JSONField(default=list, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["screening", "code"], name="one_response_per_instrument"),
            models.CheckConstraint(
                name="response_scored_only_when_complete",
                condition=Q(is_complete=True, total__isnull=False) | Q(is_complete=False, total__isnull=True, band=""),
            ),
        ]

    def __str__(self):
        return f"{self.code} response #{self.pk}"

    @property
    def band_label(self) -> str:
        return self.band.replace("_", " ")

    @property
    def instrument_name(self) -> str:
        return instrument_rules.display_name(self.code)

    @property
    def flag_labels(self) -> list[str]:
        """The critical items answered, as a screen names them ("item 9")."""
        return [instrument_rules.item_words(self.code, key) for key in self.flags]

    def get_additional_data(self):
        return {"patient_id": self.screening.patient_id}


class MedicalHistory(models.Model):
    """Medical part of a screening: contraindications, intake vitals, pregnancy, treatment history."""

    screening = models.OneToOneField(Screening, on_delete=models.CASCADE, related_name="medical")
    # Codes answered "yes", kept beside the full checklist for the readers that only need what is present.
    conditions = models.JSONField("Conditions present", default=list, blank=True)
    # The full checklist: code -> "yes" / "no" / "unknown"; a code missing here was not answered (read as unknown).
    condition_answers = models.JSONField("Contraindication checklist", default=dict, blank=True)
    no_conditions_attested = models.BooleanField("None of these conditions", default=False)
    no_medications_attested = models.BooleanField("Takes no current medications", default=False)
    bp_systolic = models.PositiveSmallIntegerField(
        "Systolic BP (mmHg)", null=True, blank=True, validators=[MinValueValidator(50), MaxValueValidator(300)]
    )
    bp_diastolic = models.PositiveSmallIntegerField(
        "Diastolic BP (mmHg)", null=True, blank=True, validators=[MinValueValidator(20), MaxValueValidator(200)]
    )
    heart_rate = models.PositiveSmallIntegerField(
        "Heart rate (bpm)", null=True, blank=True, validators=[MinValueValidator(20), MaxValueValidator(250)]
    )
    spo2 = models.PositiveSmallIntegerField(
        "SpO2 (%)", null=True, blank=True, validators=[MinValueValidator(50), MaxValueValidator(100)]
    )
    weight_kg = models.DecimalField(
        "Weight (kg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("20")), MaxValueValidator(Decimal("350"))],
    )
    pregnant = models.BooleanField("Pregnant", null=True, blank=True)
    breastfeeding = models.BooleanField("Breastfeeding", null=True, blank=True)
    substance_use_history = models.TextField(blank=True)
    adequate_antidepressant_trials = models.PositiveSmallIntegerField(
        "Adequate antidepressant trials", null=True, blank=True, validators=[MaxValueValidator(30)]
    )
    ect_history = models.BooleanField("Has had ECT", default=False)
    notes = models.TextField(blank=True)
    is_complete = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "medical histories"
        constraints = [
            models.CheckConstraint(
                name="medical_bp_plausible",
                condition=Q(bp_systolic__isnull=True)
                | Q(bp_diastolic__isnull=True)
                | Q(bp_systolic__gt=models.F("bp_diastolic")),
            )
        ]

    def __str__(self):
        return f"medical history #{self.pk}"

    @property
    def bp_is_partial(self) -> bool:
        """One blood-pressure value without the other: kept in a draft, flagged incomplete."""
        return (self.bp_systolic is None) != (self.bp_diastolic is None)

    def get_additional_data(self):
        return {"patient_id": self.screening.patient_id}


class Medication(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=120)
    dose = models.CharField(max_length=120, blank=True)
    interaction_class = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"medication #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.screening.patient_id}


ICD10 = RegexValidator(
    r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-KXZ]{1,4})?$",
    "Enter an ICD-10 code such as F33.2 (letter, two digits, optional .x).",
)


class Diagnosis(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="diagnoses")
    icd10_code = models.CharField("ICD-10 code", max_length=8, validators=[ICD10])
    description = models.CharField(max_length=200, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]
        verbose_name_plural = "diagnoses"

    def __str__(self):
        return self.icd10_code

    def get_additional_data(self):
        return {"patient_id": self.screening.patient_id}


class SuicideRiskAlert(models.Model):
    """An urgent flag raised by a positive suicide-risk answer; cleared only by a clinician's documented review."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLEARED = "cleared", "Reviewed and cleared"

    class Source(models.TextChoices):
        SCREENING = "screening", "Screening"
        CHECKIN = "checkin", "Check-in"
        DOSING_DAY = "dosing_day", "Dosing-day re-screen"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="risk_alerts")
    # A screening answer, a check-in's PHQ-9 item 9 or the dosing-day re-screen; the latter two name their origin in
    # `source_ref` ("checkin-12", "session-34") since screening cannot point at the apps above it.
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SCREENING)
    source_ref = models.CharField(max_length=40, blank=True)
    screening = models.ForeignKey(
        Screening, null=True, blank=True, on_delete=models.PROTECT, related_name="risk_alerts"
    )
    instrument_code = models.CharField(max_length=10)
    level = models.CharField(max_length=10, choices=RISK_CHOICES)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    raised_at = models.DateTimeField(auto_now_add=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "instrument_code"], condition=Q(status="open"), name="one_open_alert_per_answer"
            ),
            models.UniqueConstraint(
                fields=["source_ref", "instrument_code"],
                condition=Q(status="open") & ~Q(source_ref=""),
                name="one_open_alert_per_source_answer",
            ),
            models.CheckConstraint(
                name="alert_source_named",
                condition=Q(source="screening", screening__isnull=False)
                | (~Q(source="screening") & Q(screening__isnull=True) & ~Q(source_ref="")),
            ),
            models.CheckConstraint(
                name="alert_cleared_with_review",
                condition=Q(status="open")
                | (Q(cleared_by__isnull=False, cleared_at__isnull=False) & ~Q(review_note="")),
            ),
        ]
        indexes = [models.Index(fields=["status", "level"], name="alert_open_idx")]

    def __str__(self):
        return f"risk alert #{self.pk}"

    @property
    def instrument_name(self) -> str:
        return instrument_rules.display_name(self.instrument_code)

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class ConditionRule(models.Model):
    """A clinic's own severity for a catalogue condition, where it differs from the default."""

    code = models.CharField(max_length=60, unique=True)
    severity = models.CharField(max_length=10, choices=[("absolute", "Absolute"), ("relative", "Relative")])
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.code}: {self.severity}"


for _model in (Screening, InstrumentResponse, MedicalHistory, Medication, Diagnosis, SuicideRiskAlert):
    auditlog.register(_model)
auditlog.register(ConditionRule)
