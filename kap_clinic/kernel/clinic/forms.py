from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from kap_clinic.kernel.validation import BoundedInput

from .models import ClinicSettings


class ClinicSettingsForm(BoundedInput, forms.ModelForm):
    class Meta:
        model = ClinicSettings
        fields = [
            "phone",
            "holiday_country",
            "holiday_subdivision",
            "require_2fa_for_intake",
            *ClinicSettings.THRESHOLD_FIELDS,
            "pcl5_cutoff",
            *ClinicSettings.DOSING_DAY_FIELDS,
            "rems_warn_days",
            "authorization_hard_stop",
            *ClinicSettings.AFTERCARE_FIELDS,
            *ClinicSettings.BILLING_FIELDS,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's bounds, shown on the number inputs too (the model refuses values outside them on save).
        for name, field in self.fields.items():
            if not isinstance(field, forms.IntegerField):
                continue
            for validator in ClinicSettings._meta.get_field(name).validators:
                if isinstance(validator, MinValueValidator):
                    field.widget.attrs["min"] = max(validator.limit_value, int(field.widget.attrs.get("min", 0)))
                elif isinstance(validator, MaxValueValidator):
                    field.widget.attrs["max"] = validator.limit_value
