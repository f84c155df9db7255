"""The Spravato REMS Patient Monitoring Form of one outpatient session (docs/clinical-references.md#rems).

Every field is nullable or blank so a form can be saved while the session is still running; the
service `sessions.rems.delivery.rems_form_missing_fields` names what is still empty, and the form cannot be
signed until nothing is. Prefilled values (patient, concomitant medications, setting, dose) are
copies: the form keeps what was reported even if the chart changes later.
"""

from datetime import date, timedelta

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

# The form text the fields follow (Janssen, 11/2021). The REMS changes its form over time: a new
# version gets a new key here and in REMS_EVENT_TYPES, and forms already filled keep their own.
REMS_FORM_VERSION = "2021-11"

# The event section, as rows: the public copies of the form break off after "Did the patient
# experience sedation…", so it is kept as (event type, occurred, details) rows per version
# (docs/clinical-references.md#rems design note) and a later version can ask more without migrating past forms.
REMS_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "2021-11": ("sedation", "dissociation", "respiratory_depression", "other_adverse_event"),
}

# REMS: submit the form within 7 days of the treatment (SpravatoREMS.com outpatient page).
REMS_SUBMISSION_DAYS = 7
# REMS: observe for at least 2 hours after administration (Spravato label; docs/clinical-references.md#spravato-visit).
REMS_MIN_MONITORING_MINUTES = 120

SYSTOLIC = [MinValueValidator(50), MaxValueValidator(300)]
DIASTOLIC = [MinValueValidator(20), MaxValueValidator(200)]
US_STATE = RegexValidator(r"^[A-Z]{2}$", "Enter the two-letter state code, e.g. NY.")
US_ZIP = RegexValidator(r"^[0-9]{5}(-[0-9]{4})?$", "Enter a ZIP code: 5 digits, or ZIP+4.")


def _yes_no(label: str) -> models.BooleanField:
    # None = not answered yet; the form asks Y/N, never leaves it to a default.
    return models.BooleanField(label, null=True, blank=True)


class RemsMonitoringForm(models.Model):
    """The REMS Patient Monitoring Form of one dosing session, its sign-off and its submission to the REMS."""

    class Sex(models.TextChoices):
        # The 11/2021 form offers Male / Female / Other (docs/clinical-references.md#clinical-review).
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"

    class Dose(models.TextChoices):
        MG_56 = "56", "56 mg"
        MG_84 = "84", "84 mg"
        OTHER = "other", "Other"

    session = models.OneToOneField(
        "treatment_sessions.DosingSession", on_delete=models.PROTECT, related_name="rems_form"
    )
    form_version = models.CharField(max_length=16, default=REMS_FORM_VERSION, editable=False)

    # Patient
    patient_first_name = models.CharField("patient's first name", max_length=100, blank=True)
    patient_middle_initial = models.CharField("patient's middle initial", max_length=1, blank=True)
    patient_last_name = models.CharField("patient's last name", max_length=100, blank=True)
    patient_date_of_birth = models.DateField("patient's date of birth", null=True, blank=True)
    patient_sex = models.CharField("patient's sex", max_length=8, choices=Sex.choices, blank=True)
    is_first_treatment = models.BooleanField(
        "first treatment", default=False, editable=False, help_text="Worked out from the patient's REMS sessions."
    )
    is_enrolled_in_rems = _yes_no("patient enrolled in the REMS")

    # Concomitant medications (docs/clinical-references.md#contraindications): prefilled from the latest screening's
    # interaction classes.
    takes_benzodiazepines = _yes_no("benzodiazepines")
    takes_sedative_hypnotics = _yes_no("non-benzodiazepine sedative-hypnotics")
    takes_psychostimulants = _yes_no("psychostimulants")
    takes_maois = _yes_no("monoamine oxidase inhibitors (MAOIs)")
    takes_opioids = _yes_no("opioids")

    # Monitoring healthcare provider
    hcp_first_name = models.CharField("monitoring provider's first name", max_length=100, blank=True)
    hcp_last_name = models.CharField("monitoring provider's last name", max_length=100, blank=True)
    hcp_phone = models.CharField("monitoring provider's phone", max_length=20, blank=True)
    hcp_email = models.EmailField("monitoring provider's email", blank=True)

    # Healthcare setting (prefilled from the REMS_SETTING_* settings)
    setting_name = models.CharField("healthcare setting's name", max_length=200, blank=True)
    setting_address1 = models.CharField("healthcare setting's address", max_length=200, blank=True)
    setting_address2 = models.CharField("healthcare setting's address, line 2", max_length=200, blank=True)
    setting_city = models.CharField("healthcare setting's city", max_length=100, blank=True)
    setting_state = models.CharField("healthcare setting's state", max_length=2, blank=True, validators=[US_STATE])
    setting_zip = models.CharField("healthcare setting's ZIP code", max_length=10, blank=True, validators=[US_ZIP])

    # Treatment
    treatment_date = models.DateField("treatment date", null=True, blank=True)
    dose = models.CharField("dose administered", max_length=6, choices=Dose.choices, blank=True)
    dose_other_mg = models.PositiveSmallIntegerField(
        "other dose (mg)", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    lot_number = models.CharField("lot number", max_length=40, blank=True)

    # Duration and the REMS evaluation question, both counted from the 1st device administration
    total_monitoring_minutes = models.PositiveSmallIntegerField(
        "total minutes from 1st device to completion of monitoring",
        null=True,
        blank=True,
        validators=[MaxValueValidator(1440)],
    )
    ready_to_leave_minutes = models.PositiveSmallIntegerField(
        "minutes until the patient would have been ready to leave without the 2-hour minimum",
        null=True,
        blank=True,
        validators=[MaxValueValidator(1440)],
    )

    # Vital signs
    vitals_ok_before_administration = _yes_no("vital signs acceptable before administration")
    vitals_ok_before_completion = _yes_no("vital signs acceptable before completion of monitoring")
    bp_pre_systolic = models.PositiveSmallIntegerField(
        "systolic BP before administration", null=True, blank=True, validators=SYSTOLIC
    )
    bp_pre_diastolic = models.PositiveSmallIntegerField(
        "diastolic BP before administration", null=True, blank=True, validators=DIASTOLIC
    )
    bp_40min_systolic = models.PositiveSmallIntegerField(
        "systolic BP about 40 minutes after administration", null=True, blank=True, validators=SYSTOLIC
    )
    bp_40min_diastolic = models.PositiveSmallIntegerField(
        "diastolic BP about 40 minutes after administration", null=True, blank=True, validators=DIASTOLIC
    )
    bp_end_systolic = models.PositiveSmallIntegerField(
        "systolic BP before completion of monitoring", null=True, blank=True, validators=SYSTOLIC
    )
    bp_end_diastolic = models.PositiveSmallIntegerField(
        "diastolic BP before completion of monitoring", null=True, blank=True, validators=DIASTOLIC
    )

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submission_reference = models.CharField(
        "REMS confirmation or fax reference", max_length=60, blank=True, help_text="Optional."
    )

    class Meta:
        ordering = ["-treatment_date", "-pk"]
        indexes = [models.Index(fields=["submitted_at", "treatment_date"], name="rems_form_submission_idx")]
        constraints = [
            models.CheckConstraint(
                name="rems_form_signed_has_signer",
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
            ),
            models.CheckConstraint(
                name="rems_form_submitted_after_signing",
                condition=Q(submitted_at__isnull=True, submitted_by__isnull=True)
                | Q(submitted_at__isnull=False, submitted_by__isnull=False, signed_at__isnull=False),
            ),
            models.CheckConstraint(
                name="rems_form_other_dose_only_when_other",
                condition=Q(dose_other_mg__isnull=True) | Q(dose="other"),
            ),
            *(
                models.CheckConstraint(
                    name=f"rems_form_bp_{when}_plausible",
                    condition=Q(**{f"bp_{when}_systolic__isnull": True})
                    | Q(**{f"bp_{when}_diastolic__isnull": True})
                    | Q(**{f"bp_{when}_systolic__gt": F(f"bp_{when}_diastolic")}),
                )
                for when in ("pre", "40min", "end")
            ),
        ]

    def __str__(self):
        return f"REMS form #{self.pk}"

    @property
    def due_on(self) -> date | None:
        return self.treatment_date + timedelta(days=REMS_SUBMISSION_DAYS) if self.treatment_date else None

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def dose_mg(self) -> int | None:
        if self.dose == self.Dose.OTHER:
            return self.dose_other_mg
        return int(self.dose) if self.dose else None

    def get_additional_data(self):
        return {"patient_id": self.session.patient_id}


class RemsEvent(models.Model):
    """One row of the form's event section: did it happen (Y/N), and what happened."""

    class EventType(models.TextChoices):
        SEDATION = "sedation", "Sedation"
        DISSOCIATION = "dissociation", "Dissociation"
        RESPIRATORY_DEPRESSION = "respiratory_depression", "Respiratory depression"
        OTHER_ADVERSE_EVENT = "other_adverse_event", "Other adverse event"

    form = models.ForeignKey(RemsMonitoringForm, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    occurred = models.BooleanField(null=True, blank=True)
    details = models.TextField(blank=True)

    class Meta:
        ordering = ["form", "pk"]
        constraints = [models.UniqueConstraint(fields=["form", "event_type"], name="rems_event_one_row_per_type")]

    def __str__(self):
        return f"REMS event #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.form.session.patient_id}


auditlog.register(RemsMonitoringForm, exclude_fields=["updated_at"])
auditlog.register(RemsEvent)
