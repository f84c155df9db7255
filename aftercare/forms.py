from datetime import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.validation import BoundedInput, booking_date, clock_change_message, clock_changes_at
from kap_clinic.rules import instruments
from screening.forms import InstrumentForm

from .models import IntegrationSession
from .services import CHECKIN_INSTRUMENTS, PATIENT_INSTRUMENTS


class _WhenForm(BoundedInput, forms.Form):
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}), validators=[booking_date])
    start_time = forms.TimeField(label="Start time", widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=15, max_value=240, initial=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = ClinicSettings.load()
        field = self.fields["duration_minutes"]
        field.initial = policy.integration_default_minutes
        field.min_value, field.max_value = policy.integration_min_minutes, policy.integration_max_minutes
        field.widget.attrs.update(min=field.min_value, max=field.max_value)
        field.validators = [
            MinValueValidator(policy.integration_min_minutes),
            MaxValueValidator(policy.integration_max_minutes),
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("day") and cleaned.get("start_time"):
            moment = datetime.combine(cleaned["day"], cleaned["start_time"])
            if clock_changes_at(moment):
                self.add_error("start_time", clock_change_message(moment))
            else:
                cleaned["starts_at"] = self.starts_at()  # what the services take: one moment
        return cleaned

    def starts_at(self) -> datetime:
        """The chosen clinic wall-clock time as an aware datetime."""
        moment = datetime.combine(self.cleaned_data["day"], self.cleaned_data["start_time"])
        return timezone.make_aware(moment, timezone.get_current_timezone())


class IntegrationBookForm(_WhenForm):
    clinician = forms.ModelChoiceField(queryset=User.objects.none())
    modality = forms.ChoiceField(choices=IntegrationSession.Modality.choices)

    field_order = ["clinician", "modality", "day", "start_time", "duration_minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by(
            "last_name", "first_name"
        )
        self.fields["clinician"].label_from_instance = lambda user: user.get_full_name() or user.get_username()


class IntegrationRescheduleForm(_WhenForm):
    pass


class IntegrationCancelForm(BoundedInput, forms.Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=300)


class IntegrationCompleteForm(BoundedInput, forms.Form):
    notes = forms.CharField(
        label="Integration notes (clinicians only)",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Read by clinicians only: never shown to the patient, intake staff or admins.",
    )


class CheckInSeriesForm(BoundedInput, forms.Form):
    induction_ended_on = forms.DateField(
        validators=[booking_date], label="Count from (end of induction)", widget=forms.DateInput(attrs={"type": "date"})
    )
    instrument_codes = forms.MultipleChoiceField(
        label="Questionnaires",
        choices=[(code, instruments.get(code).name) for code in PATIENT_INSTRUMENTS],
        initial=list(CHECKIN_INSTRUMENTS),
        widget=forms.CheckboxSelectMultiple,
    )
    # Initial values: the clinic's default series (ClinicSettings).
    weekly = forms.IntegerField(label="Weekly check-ins first", min_value=0, max_value=12)
    later_every_weeks = forms.IntegerField(label="Then every (weeks)", min_value=1, max_value=8)
    horizon_weeks = forms.IntegerField(label="For (weeks after induction)", min_value=1, max_value=104)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, value in ClinicSettings.load().checkin_series().items():
            self.fields[name].initial = value


class CheckInInstrumentForm(InstrumentForm):
    """One instrument of a check-in: every question it asks must be answered (no drafts on a check-in)."""

    def clean(self):
        cleaned = super().clean()
        for item in self.instrument.items:
            name = f"item_{item.number}"
            if item.asked_if is None and cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, "Please choose an answer.")
        return cleaned
