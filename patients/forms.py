from django import forms
from django.contrib.auth.forms import SetPasswordForm

from kap_clinic.kernel.validation import BoundedInput

from . import status as path
from .models import Patient


class PatientMrnField(forms.CharField):
    """A patient named by chart number (MRN, any case); cleans to the `Patient`, or None when optional and empty."""

    def __init__(self, *, label="Patient MRN", **kwargs):
        kwargs.setdefault("error_messages", {"required": "Enter the patient's MRN."})
        super().__init__(label=label, **kwargs)

    def clean(self, value):
        mrn = super().clean(value)
        if not mrn:
            return None
        # Chart numbers are issued in capitals: looked up as such, through the unique index, whatever the clinic's
        # size; any other spelling of one (an older record) is looked for in any case only when that finds nothing.
        mrn = mrn.strip()
        patient = Patient.objects.filter(mrn=mrn.upper()).first() or Patient.objects.filter(mrn__iexact=mrn).first()
        if patient is None:
            raise forms.ValidationError("No patient has that MRN.")
        return patient


class ClinicianChoiceField(forms.ModelChoiceField):
    # A user's __str__ is a log-safe "user #id"; staff choosing a clinician need the name.
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class PatientForm(BoundedInput, forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "given_name",
            "family_name",
            "preferred_name",
            "date_of_birth",
            "sex",
            "sex_for_scoring",
            "gender_identity",
            "email",
            "phone",
            "consents_to_email",
            "consents_to_sms",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
            "weight_kg",
            "referral_source",
            "primary_clinician",
        ]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        field_classes = {"primary_clinician": ClinicianChoiceField}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("consents_to_email") and not cleaned.get("email"):
            self.add_error("email", "Enter an email address to send reminders by email.")
        if cleaned.get("consents_to_sms") and not cleaned.get("phone"):
            self.add_error("phone", "Enter a phone number to send text reminders.")
        return cleaned


class PatientRegisterForm(PatientForm):
    """The front desk's "Register a patient" form: carries its one-time token, and offers "Register anyway" once the
    details looked like a patient already on file."""

    form_token = forms.CharField(widget=forms.HiddenInput, max_length=500, required=False)

    def __init__(self, *args, offer_register_anyway: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if offer_register_anyway:
            self.fields["register_anyway"] = forms.BooleanField(
                label="Register anyway: this is a different person",
                required=False,
                help_text="Tick only after checking the possible matches listed above.",
            )
            self.bound_fields()


class StatusChangeForm(BoundedInput, forms.Form):
    to = forms.ChoiceField(label="Move to")
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(s.value, s.label) for s in path.manual_targets(current)]


class RemsEnrollmentForm(BoundedInput, forms.Form):
    enrolled_on = forms.DateField(
        label="Enrolled in the Spravato REMS on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date on the patient's REMS enrollment form.",
    )


class InviteSetPasswordForm(BoundedInput, SetPasswordForm):
    """A patient's first password, chosen through their invitation link."""
