"""One small form per step of the session record; the rules that need other rows live in sessions.recording."""

from decimal import Decimal

from django import forms

from kap_clinic.validation import BoundedInput

from .models import AdverseEvent, ScaleScore, VitalSign
from .models.record import DBP_RANGE, DISCHARGE_CRITERIA, HR_RANGE, RR_RANGE, SBP_RANGE, SPO2_RANGE

# Times default to the moment of saving, so a page left open does not date a reading to when it was loaded.
WHEN = {
    "required": False,
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    "help_text": "Leave empty for now.",
}


def _reading(label: str, bounds: tuple[int, int]) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=bounds[0], max_value=bounds[1])


class ReadingsMixin(BoundedInput, forms.Form):
    sbp = _reading("Systolic BP (mmHg)", SBP_RANGE)
    dbp = _reading("Diastolic BP (mmHg)", DBP_RANGE)
    hr = _reading("Heart rate (/min)", HR_RANGE)
    spo2 = _reading("SpO₂ (%)", SPO2_RANGE)
    rr = _reading("Respiratory rate (/min)", RR_RANGE)

    def clean(self):
        cleaned = super().clean()
        sbp, dbp = cleaned.get("sbp"), cleaned.get("dbp")
        if sbp is not None and dbp is not None and dbp >= sbp:
            self.add_error("dbp", "The diastolic pressure must be below the systolic.")
        return cleaned


class PreDoseCheckForm(ReadingsMixin):
    is_consent_confirmed = forms.BooleanField(label="Consent for today's session confirmed", required=False)
    is_fasting_confirmed = forms.BooleanField(label="Nothing by mouth for the required time", required=False)
    escort_name = forms.CharField(label="Driver / escort home (name)", max_length=120, required=False)

    field_order = ["is_consent_confirmed", "is_fasting_confirmed", "escort_name", "sbp", "dbp", "hr", "spo2", "rr"]


class BpAcknowledgeForm(BoundedInput, forms.Form):
    symptom_check = forms.CharField(
        label="Symptom check",
        max_length=200,
        help_text="Headache, chest pain, visual change, neurological signs: write what you found, or “none”.",
    )
    reason = forms.CharField(label="Why dosing may go ahead", widget=forms.Textarea(attrs={"rows": 2}))
    override_hold = forms.BooleanField(label="I override the hard hold", required=False)


class DoseForm(BoundedInput, forms.Form):
    dose = forms.DecimalField(label="Dose", max_digits=7, decimal_places=3, min_value=Decimal("0.001"))
    dosed_at = forms.DateTimeField(label="First device / infusion start", **WHEN)
    override_reason = forms.CharField(
        label="Override reason (clinician, only for a dose outside the protocol's range)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class VitalSignForm(ReadingsMixin):
    taken_at = forms.DateTimeField(label="Taken at", **WHEN)
    position = forms.ChoiceField(choices=[("", "—"), *VitalSign.Position.choices], required=False)
    note = forms.CharField(max_length=300, required=False)

    field_order = ["taken_at", "sbp", "dbp", "hr", "spo2", "rr", "position", "note"]

    def clean(self):
        cleaned = super().clean()
        if all(cleaned.get(name) is None for name in ("sbp", "dbp", "hr", "spo2", "rr")) and not self.errors:
            raise forms.ValidationError("Enter at least one reading.")
        return cleaned


class ScaleScoreForm(BoundedInput, forms.Form):
    scale = forms.ChoiceField(choices=ScaleScore.Scale.choices)
    score = forms.IntegerField(min_value=0, max_value=92)
    taken_at = forms.DateTimeField(label="Taken at", **WHEN)

    def clean(self):
        cleaned = super().clean()
        scale, score = cleaned.get("scale"), cleaned.get("score")
        if scale and score is not None:
            low, high = ScaleScore.RANGES[scale]
            if not low <= score <= high:
                self.add_error("score", f"{ScaleScore.Scale(scale).label} runs from {low} to {high}.")
        return cleaned


class AdverseEventForm(BoundedInput, forms.Form):
    kind = forms.ChoiceField(label="Event", choices=AdverseEvent.Kind.choices)
    other_description = forms.CharField(label="Describe (for Other)", max_length=120, required=False)
    onset_at = forms.DateTimeField(label="Onset", **WHEN)
    severity = forms.ChoiceField(choices=AdverseEvent.Severity.choices)
    intervention = forms.CharField(
        max_length=200, required=False, help_text="For example antiemetic, benzodiazepine, oxygen, infusion slowed."
    )
    resolved_at = forms.DateTimeField(
        label="Resolved", required=False, widget=WHEN["widget"], help_text="Leave empty while it lasts."
    )
    is_serious = forms.BooleanField(label="Serious", required=False)
    is_reportable = forms.BooleanField(label="Reportable (REMS / FDA MedWatch)", required=False)
    details = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == AdverseEvent.Kind.OTHER and not (cleaned.get("other_description") or "").strip():
            self.add_error("other_description", "Describe the event when it is not on the list.")
        onset, resolved = cleaned.get("onset_at"), cleaned.get("resolved_at")
        if onset and resolved and resolved < onset:
            self.add_error("resolved_at", "An event cannot resolve before its onset.")
        return cleaned


class AdverseEventResolveForm(BoundedInput, forms.Form):
    # The page fills in the session's open events; the service checks the choice belongs to the session.
    event = forms.IntegerField(label="Adverse event", widget=forms.Select)
    resolved_at = forms.DateTimeField(label="Resolved at", **WHEN)


class DischargeForm(BoundedInput, forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Unticked boxes are reported by the service, which names each unmet criterion.
        for name, label in DISCHARGE_CRITERIA:
            self.fields[name] = forms.BooleanField(label=label, required=False)
        self.order_fields([name for name, _ in DISCHARGE_CRITERIA] + ["note"])


class SignForm(BoundedInput, forms.Form):
    """No fields: signing is one button, and the service decides whether the record is ready."""


class AmendmentForm(BoundedInput, forms.Form):
    text = forms.CharField(label="Amendment", widget=forms.Textarea(attrs={"rows": 3}))
