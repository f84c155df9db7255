from django import forms

from kap_clinic.kernel.validation import BoundedInput
from kap_clinic.rules import contraindications
from kap_clinic.rules.instruments import Instrument

from .models import ICD10, MedicalHistory

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
            if item.skipped_if:
                key, value = item.skipped_if
                skipped_when = instrument.item(key)
                answer = next((o.label for o in skipped_when.options if o.value == value), value)
                condition = f" (skip if item {skipped_when.number} is {answer})"
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text or item.label}{condition}",
                choices=[(str(o.value), o.label) for o in item.options],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )

    def clean(self):
        cleaned = super().clean()
        cleaned["answers"] = self.answers()  # what the services take: one answer an item, in order
        return cleaned

    def answers(self) -> list[int | None]:
        """Answers in item order; an item whose skip rule says "not asked" is stored as not asked (None)."""
        given = {item.key: self.cleaned_data.get(f"item_{item.number}") for item in self.instrument.items}
        answers = []
        for item in self.instrument.items:
            if item.asked_if and given.get(item.asked_if[0]) != item.asked_if[1]:
                answers.append(None)
            elif item.skipped_if and given.get(item.skipped_if[0]) == item.skipped_if[1]:
                answers.append(None)
            else:
                answers.append(given[item.key])
        return answers


CHECKLIST_CHOICES = [("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")]


class ContraindicationChecklistForm(BoundedInput, forms.Form):
    """One yes / no / unknown question per catalogue condition, or "none of these" for all of them.

    Nothing is required here (a draft may be partial); an unanswered condition is read as unknown and sends the
    screening to a clinician's review.
    """

    no_conditions_attested = forms.BooleanField(
        label="None of these conditions: I asked about each one and the patient has none of them",
        required=False,
    )

    def __init__(self, *args, answers=None, attested=False, **kwargs):
        initial = {f"cond_{code}": answer for code, answer in (answers or {}).items()}
        initial["no_conditions_attested"] = attested
        super().__init__(*args, initial=initial, **kwargs)
        for condition in contraindications.CONDITIONS:
            self.fields[f"cond_{condition.code}"] = forms.ChoiceField(
                label=condition.label,
                choices=CHECKLIST_CHOICES,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )

    def groups(self):
        """(domain heading, [(condition, bound field)]) in catalogue order, for the template's table."""
        grouped: dict[str, list] = {}
        for condition in contraindications.CONDITIONS:
            grouped.setdefault(condition.domain.capitalize(), []).append((condition, self[f"cond_{condition.code}"]))
        return list(grouped.items())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("no_conditions_attested") and any(
            cleaned.get(f"cond_{c.code}") in ("yes", "unknown") for c in contraindications.CONDITIONS
        ):
            raise forms.ValidationError(
                '"None of these" cannot be ticked while a condition is answered yes or unknown.'
            )
        return cleaned

    def checklist(self) -> dict:
        answers = {
            c.code: self.cleaned_data[f"cond_{c.code}"]
            for c in contraindications.CONDITIONS
            if self.cleaned_data.get(f"cond_{c.code}")
        }
        return {"condition_answers": answers, "no_conditions_attested": self.cleaned_data["no_conditions_attested"]}


class MedicalHistoryForm(BoundedInput, forms.ModelForm):
    class Meta:
        model = MedicalHistory
        fields = [
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
            "no_medications_attested",
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
        # One value without the other is kept in a draft (flagged incomplete); finishing the history needs both,
        # which the service checks.
        return cleaned


class MedicationRowForm(BoundedInput, forms.Form):
    name = forms.CharField(max_length=120, required=False, label="Medication")
    dose = forms.CharField(max_length=120, required=False, label="Dose and schedule")


class DiagnosisRowForm(BoundedInput, forms.Form):
    icd10_code = forms.CharField(max_length=8, required=False, label="ICD-10 code")
    description = forms.CharField(max_length=200, required=False)
    is_primary = forms.BooleanField(required=False, label="Primary")

    def clean_icd10_code(self):
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
