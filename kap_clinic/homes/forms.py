"""Filters of the audit log browser."""

from django import forms

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.validation import BoundedInput
from patients.models import Patient


class UserChoiceField(forms.ModelChoiceField):
    """A user named as people know them: "Full Name (username, role)"."""

    def label_from_instance(self, obj):
        name = obj.get_full_name().strip()
        details = f"{obj.username}, {obj.get_role_display().lower()}"
        return f"{name} ({details})" if name else details


class AuditFilterForm(BoundedInput, forms.Form):
    patient = forms.CharField(label="Patient MRN", required=False)
    user = UserChoiceField(
        label="User", queryset=User.objects.order_by("last_name", "first_name", "username"), required=False
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_patient(self):
        mrn = self.cleaned_data["patient"].strip()
        if not mrn:
            return None
        patient = Patient.objects.filter(mrn__iexact=mrn).first()
        if patient is None:
            raise forms.ValidationError("No patient has that MRN.")
        return patient

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", "The end date is before the start date.")
        return cleaned
