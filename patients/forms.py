from django import forms

from .models import Patient


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["given_name", "family_name", "date_of_birth", "primary_clinician"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
