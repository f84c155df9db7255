from django import forms

from kap_clinic.kernel.validation import BoundedInput

from .models import ClinicSettings


class ClinicSettingsForm(BoundedInput, forms.ModelForm):
    class Meta:
        model = ClinicSettings
        fields = [
            "require_2fa_for_intake",
            *ClinicSettings.THRESHOLD_FIELDS,
            "pcl5_cutoff",
            *ClinicSettings.DOSING_DAY_FIELDS,
            "rems_warn_days",
            *ClinicSettings.AFTERCARE_FIELDS,
        ]
