from django import forms

from kap_clinic.validation import BoundedInput

from . import contraindications
from .instruments import Instrument
from .models import MedicalHistory

ACTION_DRAFT, ACTION_COMPLETE = "draft", "complete"


class InstrumentForm(BoundedInput, forms.Form):
    """One radio group per item; nothing is required here, since a draft may be partial."""

    def __init__(self, instrument: Instrument, *args, answers=None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        for item, value in zip(instrument.items, answers or [], strict=False):
            if value is not None:
                initial[f"item_{item.number}"] = str(value)
        super().__init__(*args, initial=initial, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            condition = ""
            if item.asked_if:
                key, value = item.asked_if
                asked_when = instrument.item(key)
                answer = next((o.label for o in asked_when.options if o.value == value), value)
                condition = f" (ask only if item {asked_when.number} is {answer})"
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text or item.label}{condition}",
                choices=[(str(o.value), o.label) for o in item.options],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )

    def answers(self) -> list[int | None]:
        """Answers in item order; an item whose skip rule says "not asked" is stored as not asked (None)."""
        given = {item.key: self.cleaned_data.get(f"item_{item.number}") for item in self.instrument.items}
        answers = []
        for item in self.instrument.items:
            if item.asked_if and given.get(item.asked_if[0]) != item.asked_if[1]:
                answers.append(None)
            else:
                answers.append(given[item.key])
        return answers


def _condition_choices():
    groups: dict[str, list] = {}
    for condition in contraindications.CONDITIONS:
        groups.setdefault(condition.domain.capitalize(), []).append((condition.code, condition.label))
    return list(groups.items())


class MedicalHistoryForm(BoundedInput, forms.ModelForm):
    conditions = forms.MultipleChoiceField(
        label="Conditions present (now or in the past, as each says)",
        choices=_condition_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = MedicalHistory
        fields = [
            "conditions",
            "bp_systolic",
            "bp_diastolic",
            "heart_rate",
            "spo2",
            "weight_kg",
            "pregnant",
            "breastfeeding",
            "substance_use_history",
            "adequate_antidepressant_trials",
            "ect_history",
            "notes",
        ]
        widgets = {
            "substance_use_history": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        cleaned = super().clean()
        systolic, diastolic = cleaned.get("bp_systolic"), cleaned.get("bp_diastolic")
        if systolic is not None and diastolic is not None and systolic <= diastolic:
            self.add_error("bp_diastolic", "Diastolic pressure must be lower than systolic.")
        if (systolic is None) != (diastolic is None):
            self.add_error("bp_diastolic" if diastolic is None else "bp_systolic", "Enter both blood pressure values.")
        return cleaned


class MedicationRowForm(BoundedInput, forms.Form):
    name = forms.CharField(max_length=120, required=False, label="Medication")
    dose = forms.CharField(max_length=120, required=False, label="Dose and schedule")


class DiagnosisRowForm(BoundedInput, forms.Form):
    icd10_code = forms.CharField(max_length=8, required=False, label="ICD-10 code")
    description = forms.CharField(max_length=200, required=False)
    is_primary = forms.BooleanField(required=False, label="Primary")

    def clean_icd10_code(self):
        from .models import ICD10

        code = self.cleaned_data["icd10_code"].strip().upper()
        if code:
            ICD10(code)
        return code


MedicationFormSet = forms.formset_factory(MedicationRowForm, extra=2)
DiagnosisFormSet = forms.formset_factory(DiagnosisRowForm, extra=1)


class SignOffForm(BoundedInput, forms.Form):
    final_outcome = forms.ChoiceField(
        label="Your decision",
        choices=[("eligible", "Eligible"), ("ineligible", "Not eligible")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when your decision differs from the screening result or settles a review.",
    )


class AlertReviewForm(BoundedInput, forms.Form):
    note = forms.CharField(
        label="Review (what you assessed and the plan)", widget=forms.Textarea(attrs={"rows": 4}), min_length=10
    )
