from django import forms

from .models import ClinicSettings


class ClinicSettingsForm(forms.ModelForm):
    class Meta:
        model = ClinicSettings
        fields = ["require_2fa_for_intake", *ClinicSettings.THRESHOLD_FIELDS, "pcl5_cutoff"]
