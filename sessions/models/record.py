"""The clinical record of one dosing session: pre-dose checks, the dose, monitoring, discharge, signature, amendments.

Rows are written only through `sessions.record`. Once a clinician signs the record (`RecordSignature`), its rows
no longer change: the services refuse, `save()` and `delete()` refuse here, and the database refuses too (triggers in
migration 0004). Later corrections are `RecordAmendment`s, appended and never edited.
"""

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from kap_clinic.kernel.audit.append_only import AppendOnlyModel
from kap_clinic.kernel.audit.privileges import append_only
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.rules import safety

from .scheduling import DosingSession


def vital_limits() -> safety.VitalLimits:
    """The clinic's dosing-day thresholds, from Clinic settings."""
    clinic = ClinicSettings.load()
    return safety.VitalLimits(**{name: getattr(clinic, name) for name in ClinicSettings.DOSING_DAY_FIELDS})


def bp_level(sbp: int | None, dbp: int | None, limits: safety.VitalLimits | None = None) -> str:
    """The pre-dose rule a reading falls under: hold, flag, or "" (within limits or not taken)."""
    return safety.pre_dose_bp_level(sbp, dbp, limits or vital_limits())


SIGNED_MESSAGE = "This session record is signed and can no longer change; add an amendment instead."

# Plausibility limits for a typed reading, to catch slips of the keyboard (not clinical thresholds).
SBP_RANGE = (50, 300)
DBP_RANGE = (20, 200)
HR_RANGE = (20, 250)
SPO2_RANGE = (50, 100)
RR_RANGE = (4, 60)


def _reading(label: str, bounds: tuple[int, int], **kwargs) -> models.PositiveSmallIntegerField:
    low, high = bounds
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MinValueValidator(low), MaxValueValidator(high)], **kwargs
    )


class SignedRecordRow(models.Model):
    """A row of a session record: refuses to change or disappear once the record is signed."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._refuse_if_signed()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_signed()
        return super().delete(*args, **kwargs)

    def _refuse_if_signed(self) -> None:
        if RecordSignature.objects.filter(session_id=self.session_id).exists():
            raise ValidationError(SIGNED_MESSAGE)

    def get_additional_data(self):
        return {"patient_id": self.session.patient_id}


class RescreenCode(models.TextChoices):
    PHQ9_ITEM9 = "phq9_item9", "PHQ-9 item 9"
    CSSRS_SINCE_LAST_VISIT = "cssrs_slv", "C-SSRS screener, since last visit"


class PreDoseCheck(SignedRecordRow):
    """The checks before a dose: consent, fasting, an escort home and a full set of pre-dose vitals.

    A pre-dose blood pressure above the flag or hold threshold (sessions.record.predose) needs a clinician's written
    acknowledgement before dosing; the acknowledgement names the level it covers.
    """

    class BpLevel(models.TextChoices):
        FLAG = "flag", "Above the flag threshold"
        HOLD = "hold", "Above the hard-hold threshold"

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="pre_dose_check")
    is_consent_confirmed = models.BooleanField("Consent for today's session confirmed", default=False)
    is_fasting_confirmed = models.BooleanField("Nothing by mouth for the required time", default=False)
    escort_name = models.CharField("Driver / escort home", max_length=120, blank=True)
    sbp = _reading("Systolic BP (mmHg)", SBP_RANGE)
    dbp = _reading("Diastolic BP (mmHg)", DBP_RANGE)
    hr = _reading("Heart rate (/min)", HR_RANGE)
    spo2 = _reading("SpO₂ (%)", SPO2_RANGE)
    rr = _reading("Respiratory rate (/min)", RR_RANGE)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    bp_acknowledged_level = models.CharField(max_length=4, choices=BpLevel.choices, blank=True)
    bp_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bp_acknowledged_at = models.DateTimeField(null=True, blank=True)
    bp_symptom_check = models.CharField(
        "Symptom check",
        max_length=200,
        blank=True,
        help_text="Headache, chest pain, visual change, neurological signs.",
    )
    bp_acknowledgement_reason = models.TextField(blank=True)
    # The dosing-day suicide-risk re-screen (C-SSRS triage, docs/clinical-references.md#c-ssrs): PHQ-9 item 9 (0-3) or
    # the C-SSRS "since last visit" screener (six yes/no answers, None where skip logic leaves a question unasked). A
    # positive answer opens a suicide-risk alert of its triage level when the checklist is saved.
    rescreen_code = models.CharField("Suicide-risk re-screen", max_length=10, choices=RescreenCode.choices, blank=True)
    rescreen_answers = models.JSONField(default=list, blank=True)
    rescreen_level = models.CharField(max_length=10, blank=True)
    # Asked where it applies (anyone not recorded as male): None = not asked.
    is_possibly_pregnant = models.BooleanField("Could the patient be pregnant?", null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="predose_bp_acknowledgement_complete",
                condition=Q(
                    bp_acknowledged_level="",
                    bp_acknowledged_by__isnull=True,
                    bp_acknowledged_at__isnull=True,
                    bp_acknowledgement_reason="",
                )
                | (
                    Q(bp_acknowledged_level__in=["flag", "hold"])
                    & Q(bp_acknowledged_by__isnull=False, bp_acknowledged_at__isnull=False)
                    & ~Q(bp_acknowledgement_reason="")
                    & ~Q(bp_symptom_check="")
                ),
            ),
        ]

    def __str__(self):
        return f"pre-dose check #{self.pk}"

    def missing(self) -> list[str]:
        """What is still to be done before this checklist is complete."""
        gaps = []
        # Consent: the route's consent form, accepted (sessions.consent.services), not this old checkbox.
        if not self.is_fasting_confirmed:
            gaps.append("nothing by mouth for the required time")
        if not self.escort_name.strip():
            gaps.append("the name of the driver or escort home")
        for field in ("sbp", "dbp", "hr", "spo2", "rr"):
            if getattr(self, field) is None:
                gaps.append(self._meta.get_field(field).verbose_name.split(" (")[0].lower())
        if not self.rescreen_code:
            gaps.append("the suicide-risk re-screen (PHQ-9 item 9 or C-SSRS since last visit)")
        if self.pregnancy_question_applies and self.is_possibly_pregnant is None:
            gaps.append("the pregnancy question")
        return gaps

    @property
    def pregnancy_question_applies(self) -> bool:
        # Asked of everyone not recorded as male: an unrecorded sex is asked rather than assumed.
        return self.session.patient.sex_for_scoring != "male"

    @property
    def is_complete(self) -> bool:
        return not self.missing()


class DoseAdministration(SignedRecordRow):
    """The dose given: milligrams (and mg/kg with the weight used, for weight-based protocols), when and by whom.

    `dosed_at` is the first device or the start of the infusion: the anchor of every monitoring time. A dose outside
    the protocol's range carries the overriding clinician and their reason.
    """

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="dose_administration")
    dose_mg_given = models.DecimalField("Dose given (mg)", max_digits=6, decimal_places=1)
    dose_mg_per_kg = models.DecimalField("Dose (mg/kg)", max_digits=7, decimal_places=3, null=True, blank=True)
    weight_kg = models.DecimalField("Weight used (kg)", max_digits=5, decimal_places=1, null=True, blank=True)
    dosed_at = models.DateTimeField("First device / infusion start")
    # Observation counts from the end of dosing (docs/clinical-references.md#discharge): an IV infusion's planned
    # duration (typed, or worked out from its rate), and the recorded end (infusion stopped, last intranasal device)
    # when staff record it.
    infusion_minutes = models.PositiveSmallIntegerField("Infusion duration (minutes)", null=True, blank=True)
    infusion_rate_mg_per_min = models.DecimalField(
        "Infusion rate (mg/min)", max_digits=6, decimal_places=3, null=True, blank=True
    )
    dosing_ended_at = models.DateTimeField("Infusion end / last device", null=True, blank=True)
    dosing_ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dosed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    range_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    range_override_reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="dose_mg_positive", condition=Q(dose_mg_given__gt=0)),
            models.CheckConstraint(
                name="dose_per_kg_with_weight",
                condition=Q(dose_mg_per_kg__isnull=True, weight_kg__isnull=True)
                | Q(dose_mg_per_kg__gt=0, weight_kg__gt=0),
            ),
            models.CheckConstraint(
                name="dose_ended_after_start",
                condition=Q(dosing_ended_at__isnull=True) | Q(dosing_ended_at__gte=F("dosed_at")),
            ),
            models.CheckConstraint(
                name="dose_override_has_reason",
                condition=Q(range_override_by__isnull=True, range_override_reason="")
                | (Q(range_override_by__isnull=False) & ~Q(range_override_reason="")),
            ),
        ]

    def __str__(self):
        return f"dose #{self.pk}"


class DoseTopUp(SignedRecordRow):
    """A further dose during an IM session (e.g. a 20-40 mg top-up at ~12 minutes, docs/clinical-references.md#cadence);
    observation counts from the last one."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="dose_top_ups")
    dose_mg = models.DecimalField("Top-up (mg)", max_digits=6, decimal_places=1)
    given_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["given_at", "pk"]
        constraints = [models.CheckConstraint(name="top_up_mg_positive", condition=Q(dose_mg__gt=0))]

    def __str__(self):
        return f"top-up #{self.pk}"


class PreDoseRiskAcknowledgement(SignedRecordRow):
    """A clinician's acknowledgement, before this session's dose, of an open low suicide-risk alert (C-SSRS triage:
    low -> clinician review before the next dose, docs/clinical-references.md#c-ssrs)."""

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="risk_acknowledgements")
    alert = models.ForeignKey("screening.SuicideRiskAlert", on_delete=models.PROTECT, related_name="+")
    note = models.TextField()
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "alert"], name="one_risk_acknowledgement_per_session_alert"),
            models.CheckConstraint(name="risk_acknowledgement_has_note", condition=~Q(note="")),
        ]

    def __str__(self):
        return f"risk acknowledgement #{self.pk}"


class VitalSign(SignedRecordRow):
    """One set of readings during monitoring, timed from the dose (docs/clinical-references.md#vitals)."""

    class Position(models.TextChoices):
        SEATED = "seated", "Seated"
        RECLINED = "reclined", "Reclined / supine"
        STANDING = "standing", "Standing"

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="vital_signs")
    taken_at = models.DateTimeField()
    minutes_from_dose = models.PositiveSmallIntegerField()
    sbp = _reading("Systolic BP (mmHg)", SBP_RANGE)
    dbp = _reading("Diastolic BP (mmHg)", DBP_RANGE)
    hr = _reading("Heart rate (/min)", HR_RANGE)
    spo2 = _reading("SpO₂ (%)", SPO2_RANGE)
    rr = _reading("Respiratory rate (/min)", RR_RANGE)
    position = models.CharField(max_length=8, choices=Position.choices, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="vital_sign_has_a_reading",
                condition=Q(sbp__isnull=False)
                | Q(dbp__isnull=False)
                | Q(hr__isnull=False)
                | Q(spo2__isnull=False)
                | Q(rr__isnull=False),
            ),
        ]

    def __str__(self):
        return f"vitals #{self.pk}"

    @property
    def bp_level(self) -> str:
        # `limits` is set by the record page's read, so a long timeline does not read the settings per row.
        return bp_level(self.sbp, self.dbp, getattr(self, "limits", None))


MOAAS_LABELS = {
    5: "Responds readily to name spoken in normal tone",
    4: "Lethargic response to name spoken in normal tone",
    3: "Responds only after name is called loudly and/or repeatedly",
    2: "Responds only after mild prodding or shaking",
    1: "Responds only after painful trapezius squeeze",
    0: "No response after painful trapezius squeeze",
}


class ScaleScore(SignedRecordRow):
    """A sedation (MOAA/S 0-5) or dissociation (CADSS total 0-92, or CADSS-6 short form 0-24) score
    (docs/clinical-references.md#session-scales)."""

    class Scale(models.TextChoices):
        MOAAS = "moaas", "MOAA/S (sedation, 0–5)"
        CADSS = "cadss", "CADSS total (dissociation, 0–92)"
        CADSS6 = "cadss6", "CADSS-6 short form (dissociation, 0–24)"

    # 23 subjective items scored 0-4 (total 0-92); the 6-item short form (items 1, 2, 6, 7, 15, 22) runs 0-24.
    RANGES = {Scale.MOAAS: (0, 5), Scale.CADSS: (0, 92), Scale.CADSS6: (0, 24)}

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="scale_scores")
    scale = models.CharField(max_length=6, choices=Scale.choices)
    score = models.PositiveSmallIntegerField()
    taken_at = models.DateTimeField()
    minutes_from_dose = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="scale_score_in_range",
                condition=Q(scale="moaas", score__lte=5)
                | Q(scale="cadss", score__lte=92)
                | Q(scale="cadss6", score__lte=24),
            ),
        ]

    def __str__(self):
        return f"scale score #{self.pk}"

    def clean(self):
        low, high = self.RANGES.get(self.scale, (0, 0))
        if self.score is not None and not low <= self.score <= high:
            raise ValidationError({"score": f"{self.get_scale_display()} runs from {low} to {high}."})

    @property
    def label(self) -> str:
        return MOAAS_LABELS.get(self.score, "") if self.scale == self.Scale.MOAAS else ""


class AdverseEvent(SignedRecordRow):
    """An adverse event during the session, coded from the list in docs/clinical-references.md#adverse-events."""

    class Kind(models.TextChoices):
        DISSOCIATION = "dissociation", "Dissociation"
        DIZZINESS = "dizziness", "Dizziness"
        NAUSEA = "nausea", "Nausea"
        SEDATION = "sedation", "Sedation"
        VERTIGO = "vertigo", "Vertigo"
        HYPOESTHESIA = "hypoesthesia", "Hypoesthesia"
        ANXIETY = "anxiety", "Anxiety"
        LETHARGY = "lethargy", "Lethargy"
        BP_INCREASED = "bp_increased", "Blood pressure increased"
        VOMITING = "vomiting", "Vomiting"
        FEELING_DRUNK = "feeling_drunk", "Feeling drunk"
        EMERGENCE = "emergence", "Emergence reaction / agitation"
        HALLUCINATIONS = "hallucinations", "Hallucinations"
        VIVID_DREAMS = "vivid_dreams", "Vivid dreams"
        HEADACHE = "headache", "Headache"
        TACHYCARDIA = "tachycardia", "Tachycardia"
        VISION = "vision", "Diplopia / blurred vision"
        HYPERSALIVATION = "hypersalivation", "Hypersalivation"
        RESPIRATORY_DEPRESSION = "resp_depression", "Respiratory depression"
        URINARY = "urinary", "Urinary symptoms"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="adverse_events")
    kind = models.CharField("Event", max_length=16, choices=Kind.choices)
    other_description = models.CharField("Describe (for Other)", max_length=120, blank=True)
    onset_at = models.DateTimeField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    intervention = models.CharField(
        max_length=200, blank=True, help_text="For example antiemetic, benzodiazepine, oxygen, infusion slowed."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    is_serious = models.BooleanField("Serious", default=False)
    is_reportable = models.BooleanField("Reportable (REMS / FDA MedWatch)", default=False)
    details = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["onset_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="adverse_event_other_described", condition=~Q(kind="other") | ~Q(other_description="")
            ),
            models.CheckConstraint(
                name="adverse_event_resolves_after_onset",
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("onset_at")),
            ),
        ]

    def __str__(self):
        return f"adverse event #{self.pk}"

    @property
    def name(self) -> str:
        return self.other_description if self.kind == self.Kind.OTHER else self.get_kind_display()


# Discharge readiness (docs/clinical-references.md#discharge): field, label. The minimum observation time is checked by
# the service.
DISCHARGE_CRITERIA = (
    ("is_vitals_stable", "Vitals stable; BP settled and SpO₂ at baseline"),
    ("is_alert_at_baseline", "Back to baseline alertness (MOAA/S 5): verbalisation, awareness, purposeful movement"),
    ("is_dissociation_resolved", "Dissociation resolved"),
    ("is_nausea_minimal", "No or minimal nausea"),
    ("is_ambulating_safely", "Able to stand and walk safely"),
    ("is_escort_present", "Responsible adult escort present"),
    ("is_instructions_given", "Written instructions given: no driving until the next day, no alcohol or big decisions"),
)


class Discharge(SignedRecordRow):
    """The patient left: every readiness criterion met, after the protocol's minimum monitoring time."""

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="discharge")
    is_vitals_stable = models.BooleanField(DISCHARGE_CRITERIA[0][1])
    is_alert_at_baseline = models.BooleanField(DISCHARGE_CRITERIA[1][1])
    is_dissociation_resolved = models.BooleanField(DISCHARGE_CRITERIA[2][1])
    is_nausea_minimal = models.BooleanField(DISCHARGE_CRITERIA[3][1])
    is_ambulating_safely = models.BooleanField(DISCHARGE_CRITERIA[4][1])
    is_escort_present = models.BooleanField(DISCHARGE_CRITERIA[5][1])
    is_instructions_given = models.BooleanField(DISCHARGE_CRITERIA[6][1])
    note = models.TextField(blank=True)
    discharged_at = models.DateTimeField()
    discharged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # What in the record contradicted the discharge when a clinician overrode it in writing (kap_clinic.rules.safety).
    overridden_contradictions = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="discharge_criteria_all_met", condition=Q(**{field: True for field, _ in DISCHARGE_CRITERIA})
            ),
        ]

    def __str__(self):
        return f"discharge #{self.pk}"


class RecordSignature(AppendOnlyModel):
    """A clinician's signature on the session record; from then on the record is read-only. Never changes."""

    changed_message = "A signature cannot be changed."
    deleted_message = "A signature cannot be removed."

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="record_signature")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    def __str__(self):
        return f"signature #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.session.patient_id}


class RecordAmendment(AppendOnlyModel):
    """A dated correction or addition to a signed record, by its author; appended, never edited."""

    changed_message = "An amendment cannot be changed; add another one."
    deleted_message = "An amendment cannot be removed."

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="record_amendments")
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(name="amendment_has_text", condition=~Q(text=""))]

    def __str__(self):
        return f"amendment #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.session.patient_id}


auditlog.register(PreDoseCheck)
auditlog.register(DoseAdministration)
auditlog.register(DoseTopUp)
auditlog.register(PreDoseRiskAcknowledgement)
auditlog.register(VitalSign)
auditlog.register(ScaleScore)
auditlog.register(AdverseEvent)
auditlog.register(Discharge)
auditlog.register(RecordSignature)
auditlog.register(RecordAmendment)

# The runtime database role may only read and append these (kap_clinic/kernel/audit/privileges.py).
append_only(RecordSignature)
append_only(RecordAmendment)
