from decimal import Decimal

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from kap_clinic.rules import checkin_cadence, relapse
from kap_clinic.rules.eligibility import Thresholds

# Integration sessions are stored in a field that holds 15 to 240 minutes; the clinic's bounds lie within.
INTEGRATION_MINUTES = (15, 240)


class ClinicSettings(models.Model):
    """The clinic's own choices, edited by admins; one row."""

    require_2fa_for_intake = models.BooleanField(
        "Require two-factor sign-in for intake staff",
        default=True,  # they see every patient
        help_text="Admins and clinicians always sign in with a second factor.",
    )
    # Screening thresholds; defaults from the clinical reference (docs/clinical-references.md#instruments,
    # #contraindications).
    screening_valid_days = models.PositiveSmallIntegerField(
        "Days a signed-off screening stays current for enrollment", default=30, validators=[MinValueValidator(1)]
    )
    min_age = models.PositiveSmallIntegerField("Minimum age", default=18)
    bp_review_systolic = models.PositiveSmallIntegerField("Systolic BP above which a clinician reviews", default=140)
    bp_review_diastolic = models.PositiveSmallIntegerField("Diastolic BP above which a clinician reviews", default=90)
    bp_ineligible_systolic = models.PositiveSmallIntegerField("Systolic BP above which not eligible", default=180)
    bp_ineligible_diastolic = models.PositiveSmallIntegerField("Diastolic BP above which not eligible", default=110)
    min_phq9_total = models.PositiveSmallIntegerField("PHQ-9 total below which a clinician reviews", default=10)
    min_adequate_trials = models.PositiveSmallIntegerField(
        "Adequate antidepressant trials below which a clinician reviews", default=2
    )
    audit_review_total = models.PositiveSmallIntegerField("AUDIT total from which a clinician reviews", default=16)
    # DAST-10 3-5 is "moderate level: further investigation" (Skinner's interpretation guidance).
    dast10_review_total = models.PositiveSmallIntegerField("DAST-10 total from which a clinician reviews", default=3)
    # Dosing-day thresholds (sessions.record). Pre-dose: above the flag a clinician acknowledges the reading, above
    # the hold dosing stops unless a clinician overrides in writing (docs/clinical-references.md#blood-pressure: 140/90
    # is the Spravato label's "general guide"; 180/110 is clinic convention). After the dose, a reading at or above the
    # hold, an SpO2 below the floor or a heart rate outside the range raises an urgent staff alert and contradicts
    # discharge.
    dose_bp_flag_systolic = models.PositiveSmallIntegerField(
        "Pre-dose systolic BP above which a clinician acknowledges", default=140
    )
    dose_bp_flag_diastolic = models.PositiveSmallIntegerField(
        "Pre-dose diastolic BP above which a clinician acknowledges", default=90
    )
    dose_bp_hold_systolic = models.PositiveSmallIntegerField(
        "Systolic BP hold: above it before the dose, at or above it after", default=180
    )
    dose_bp_hold_diastolic = models.PositiveSmallIntegerField(
        "Diastolic BP hold: above it before the dose, at or above it after", default=110
    )
    post_dose_spo2_floor = models.PositiveSmallIntegerField(
        "Lowest acceptable SpO₂ after the dose (%)",
        default=93,
        validators=[MinValueValidator(80), MaxValueValidator(100)],
        help_text="Sedation discharge policies ask for more than 92% on room air.",
    )
    post_dose_hr_low = models.PositiveSmallIntegerField("Lowest acceptable heart rate after the dose", default=50)
    post_dose_hr_high = models.PositiveSmallIntegerField("Highest acceptable heart rate after the dose", default=120)
    # PCL-5 provisional PTSD cut-off: 31-33 in current guidance, 38 in older (docs/clinical-references.md#instruments;
    # choose per population).
    pcl5_cutoff = models.PositiveSmallIntegerField(
        "PCL-5 total from which PTSD is probable",
        default=33,
        validators=[MinValueValidator(1), MaxValueValidator(80)],
        help_text="Current guidance suggests 31-33 (older guidance 38); choose for the clinic's population.",
    )
    # Relapse warning on aftercare PHQ-9 totals (kap_clinic.rules.relapse; docs/clinical-references.md#relapse).
    relapse_rise_points = models.PositiveSmallIntegerField(
        "PHQ-9 rise that warns of relapse (points)",
        default=relapse.RISE_POINTS,
        validators=[MinValueValidator(1), MaxValueValidator(27)],
        help_text="From the lowest score since dosing began, or from the pre-treatment baseline.",
    )
    relapse_remission_below = models.PositiveSmallIntegerField(
        "PHQ-9 total below which a score counts as remission",
        default=relapse.REMISSION_BELOW,
        validators=[MinValueValidator(1), MaxValueValidator(27)],
    )
    relapse_at = models.PositiveSmallIntegerField(
        "PHQ-9 total that, after a remission score, warns of relapse",
        default=relapse.RELAPSE_AT,
        validators=[MinValueValidator(1), MaxValueValidator(27)],
    )
    relapse_non_response_after = models.PositiveSmallIntegerField(
        "Scores since dosing began before non-response warns",
        default=relapse.NON_RESPONSE_AFTER_SCORES,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    # Default aftercare check-in series (kap_clinic.rules.checkin_cadence; docs/clinical-references.md#check-ins).
    checkin_weekly = models.PositiveSmallIntegerField(
        "Weekly check-ins after induction", default=checkin_cadence.WEEKLY_CHECKINS, validators=[MaxValueValidator(12)]
    )
    checkin_later_every_weeks = models.PositiveSmallIntegerField(
        "Then a check-in every (weeks)",
        default=checkin_cadence.LATER_EVERY_WEEKS,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )
    checkin_horizon_weeks = models.PositiveSmallIntegerField(
        "Check-ins for (weeks after induction)",
        default=checkin_cadence.HORIZON_WEEKS,
        validators=[MinValueValidator(1), MaxValueValidator(104)],
    )
    checkin_due_after_days = models.PositiveSmallIntegerField(
        "A check-in is due (days after it opens)",
        default=checkin_cadence.DUE_AFTER_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(14)],
    )
    checkin_closes_after_due_days = models.PositiveSmallIntegerField(
        "A check-in may still be filled (days after it is due)",
        default=checkin_cadence.CLOSES_AFTER_DUE_DAYS,
        validators=[MaxValueValidator(28)],
    )
    # Spravato REMS monitoring forms are due within 7 days of the session (docs/clinical-references.md#rems).
    rems_warn_days = models.PositiveSmallIntegerField(
        "Warn staff when a REMS form's deadline is this many days away",
        default=2,
        validators=[MaxValueValidator(6)],
        help_text="Staff are warned again, urgently, once the 7-day deadline has passed.",
    )
    # Integration sessions (aftercare): the lengths staff may book.
    integration_min_minutes = models.PositiveSmallIntegerField(
        "Shortest integration session (minutes)",
        default=15,
        validators=[MinValueValidator(INTEGRATION_MINUTES[0]), MaxValueValidator(INTEGRATION_MINUTES[1])],
    )
    integration_max_minutes = models.PositiveSmallIntegerField(
        "Longest integration session (minutes)",
        default=240,
        validators=[MinValueValidator(INTEGRATION_MINUTES[0]), MaxValueValidator(INTEGRATION_MINUTES[1])],
    )
    integration_default_minutes = models.PositiveSmallIntegerField(
        "Usual integration session (minutes)",
        default=50,
        validators=[MinValueValidator(INTEGRATION_MINUTES[0]), MaxValueValidator(INTEGRATION_MINUTES[1])],
    )
    # The number patients are told to call (reminders, confirmation pages); blank falls back to REMS_SETTING_PHONE.
    phone = models.CharField(
        "Clinic phone number", max_length=32, blank=True, help_text="Patients are asked to call this number."
    )
    # Public holidays imported as closures (sessions.scheduling.closures.closures_import_public_holidays).
    holiday_country = models.CharField(
        "Country for public holidays",
        max_length=2,
        default="US",
        help_text="Two-letter country code, e.g. US, CA, GB.",
    )
    holiday_subdivision = models.CharField(
        "State or region for public holidays",
        max_length=10,
        blank=True,
        help_text="e.g. NY; blank for the country's holidays only.",
    )
    # Booking past what the patient's insurance authorized: a warning, or (when set) refused without a written override.
    authorization_hard_stop = models.BooleanField(
        "Refuse bookings an authorization does not cover",
        default=False,
        help_text="Sessions beyond the authorized units or outside its dates need a written, audited override.",
    )
    # Patient billing: the fee policy for late cancellations and no-shows, and the provider on superbills.
    late_cancel_hours = models.PositiveSmallIntegerField(
        "Late cancellation within (hours)",
        default=24,
        validators=[MaxValueValidator(168)],
        help_text="A session cancelled less than this many hours before it starts is charged the late fee.",
    )
    late_cancel_fee = models.DecimalField(
        "Late cancellation fee ($)",
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    no_show_fee = models.DecimalField(
        "No-show fee ($)",
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    billing_provider_name = models.CharField("Billing provider (on superbills)", max_length=120, blank=True)
    billing_npi = models.CharField(
        "Billing provider NPI", max_length=10, blank=True, validators=[RegexValidator(r"^\d{10}$", "Ten digits.")]
    )
    billing_tax_id = models.CharField(
        "Tax ID (EIN)",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{2}-?\d{7}$", "Nine digits, e.g. 12-3456789.")],
    )
    billing_address = models.CharField("Billing address (on superbills)", max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    THRESHOLD_FIELDS = (
        "screening_valid_days",
        "min_age",
        "bp_review_systolic",
        "bp_review_diastolic",
        "bp_ineligible_systolic",
        "bp_ineligible_diastolic",
        "min_phq9_total",
        "min_adequate_trials",
        "audit_review_total",
        "dast10_review_total",
    )
    DOSING_DAY_FIELDS = (
        "dose_bp_flag_systolic",
        "dose_bp_flag_diastolic",
        "dose_bp_hold_systolic",
        "dose_bp_hold_diastolic",
        "post_dose_spo2_floor",
        "post_dose_hr_low",
        "post_dose_hr_high",
    )
    RELAPSE_FIELDS = (
        "relapse_rise_points",
        "relapse_remission_below",
        "relapse_at",
        "relapse_non_response_after",
    )
    CHECKIN_FIELDS = (
        "checkin_weekly",
        "checkin_later_every_weeks",
        "checkin_horizon_weeks",
        "checkin_due_after_days",
        "checkin_closes_after_due_days",
    )
    BILLING_FIELDS = (
        "late_cancel_hours",
        "late_cancel_fee",
        "no_show_fee",
        "billing_provider_name",
        "billing_npi",
        "billing_tax_id",
        "billing_address",
    )
    AFTERCARE_FIELDS = (
        *RELAPSE_FIELDS,
        *CHECKIN_FIELDS,
        "integration_min_minutes",
        "integration_max_minutes",
        "integration_default_minutes",
    )

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="clinic_settings_single_row")]

    def __str__(self):
        return "Clinic settings"

    def clean(self):
        self.holiday_country = self.holiday_country.strip().upper()
        self.holiday_subdivision = self.holiday_subdivision.strip().upper()
        supported = holidays.list_supported_countries()
        if self.holiday_country not in supported:
            raise ValidationError({"holiday_country": "Not a country whose public holidays are known."})
        if self.holiday_subdivision and self.holiday_subdivision not in supported[self.holiday_country]:
            raise ValidationError({"holiday_subdivision": "Not a state or region of that country."})
        if self.bp_ineligible_systolic <= self.bp_review_systolic:
            raise ValidationError({"bp_ineligible_systolic": "Must be above the review threshold."})
        if self.bp_ineligible_diastolic <= self.bp_review_diastolic:
            raise ValidationError({"bp_ineligible_diastolic": "Must be above the review threshold."})
        if self.dose_bp_hold_systolic <= self.dose_bp_flag_systolic:
            raise ValidationError({"dose_bp_hold_systolic": "Must be above the pre-dose flag."})
        if self.dose_bp_hold_diastolic <= self.dose_bp_flag_diastolic:
            raise ValidationError({"dose_bp_hold_diastolic": "Must be above the pre-dose flag."})
        if self.post_dose_hr_high <= self.post_dose_hr_low:
            raise ValidationError({"post_dose_hr_high": "Must be above the lowest acceptable heart rate."})
        if self.relapse_at <= self.relapse_remission_below:
            raise ValidationError({"relapse_at": "Must be above the remission score."})
        if self.integration_max_minutes < self.integration_min_minutes:
            raise ValidationError({"integration_max_minutes": "Must be at least the shortest session."})
        if not self.integration_min_minutes <= self.integration_default_minutes <= self.integration_max_minutes:
            raise ValidationError({"integration_default_minutes": "Must lie between the shortest and longest session."})

    def relapse_thresholds(self) -> dict[str, int]:
        """Keyword arguments for kap_clinic.rules.relapse.relapse_reason."""
        return {
            "rise_points": self.relapse_rise_points,
            "remission_below": self.relapse_remission_below,
            "relapse_at": self.relapse_at,
            "non_response_after": self.relapse_non_response_after,
        }

    def checkin_series(self) -> dict[str, int]:
        """Keyword arguments for kap_clinic.rules.checkin_cadence.checkin_dates."""
        return {
            "weekly": self.checkin_weekly,
            "later_every_weeks": self.checkin_later_every_weeks,
            "horizon_weeks": self.checkin_horizon_weeks,
        }

    def checkin_window(self) -> dict[str, int]:
        """Keyword arguments for kap_clinic.rules.checkin_cadence.checkin_window."""
        return {
            "due_after_days": self.checkin_due_after_days,
            "closes_after_due_days": self.checkin_closes_after_due_days,
        }

    def clinic_phone(self) -> str:
        """The number patients are asked to call: this setting, else the REMS healthcare setting's phone."""
        return self.phone or settings.REMS_SETTING_PHONE

    def eligibility_thresholds(self):
        return Thresholds(**{name: getattr(self, name) for name in self.THRESHOLD_FIELDS})

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
