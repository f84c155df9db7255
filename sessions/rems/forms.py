"""Forms of the REMS monitoring form and the controlled-substance log: input shape and types only."""

from django import forms

from kap_clinic.kernel.validation import BoundedInput, add_date_window, birth_date, recorded_date

from ..models import RemsEvent, RemsMonitoringForm
from .delivery import EDITABLE_FIELDS, event_types


class YesNoSelect(forms.NullBooleanSelect):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "Not answered"), ("true", "Yes"), ("false", "No")]


class RemsEditForm(BoundedInput, forms.ModelForm):
    """The REMS form's fields plus one Y/N and details pair per event row of the form's version."""

    class Meta:
        model = RemsMonitoringForm
        fields = EDITABLE_FIELDS
        widgets = {
            "patient_date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "treatment_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.NullBooleanField):
                field.widget = YesNoSelect()
        self.fields["setting_state"].widget.attrs.update(maxlength=2, autocapitalize="characters")
        add_date_window(self.fields["patient_date_of_birth"], birth_date)
        add_date_window(self.fields["treatment_date"], recorded_date)
        answered = {e.event_type: e for e in self.instance.events.all()} if self.instance.pk else {}
        labels = dict(RemsEvent.EventType.choices)
        for event_type in event_types(self.instance):
            event = answered.get(event_type)
            self.fields[f"event_{event_type}"] = forms.NullBooleanField(
                label=f"Did the patient experience {labels[event_type].lower()}?",
                required=False,
                widget=YesNoSelect(),
                initial=event.occurred if event else None,
            )
            self.fields[f"event_{event_type}_details"] = forms.CharField(
                label="Details",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=event.details if event else "",
            )

    def clean_setting_state(self):
        return (self.cleaned_data.get("setting_state") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        total, ready = cleaned.get("total_monitoring_minutes"), cleaned.get("ready_to_leave_minutes")
        if total is not None and ready is not None and ready > total:
            self.add_error("ready_to_leave_minutes", "Cannot be later than the completion of monitoring.")
        if cleaned.get("dose") != RemsMonitoringForm.Dose.OTHER and cleaned.get("dose_other_mg") is not None:
            self.add_error("dose_other_mg", "Only for a dose other than 56 or 84 mg.")
        if not self.errors:  # what the services take: the form's fields, and each event row's answer and details
            cleaned["data"], cleaned["events"] = self.field_data(), self.events_data()
        return cleaned

    def field_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}

    def events_data(self) -> dict[str, tuple[bool | None, str]]:
        return {
            t: (self.cleaned_data.get(f"event_{t}"), self.cleaned_data.get(f"event_{t}_details", ""))
            for t in event_types(self.instance)
        }

    def event_rows(self):
        """(yes/no field, details field) per event row, for the template."""
        return [(self[f"event_{t}"], self[f"event_{t}_details"]) for t in event_types(self.instance)]


class SubmissionForm(BoundedInput, forms.Form):
    reference = forms.CharField(label="REMS confirmation or fax reference (optional)", max_length=60, required=False)
