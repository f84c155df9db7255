from django import forms
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.validation import BoundedInput, ClinicDateTimeField, booking_date

from ..models import DosingSession, Protocol, Room


def booking_override_field() -> forms.CharField:
    """“Book anyway because”: the written reason that passes the clinic's hard stop on a booking check."""
    return forms.CharField(
        label="Book anyway because",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when the clinic refuses sessions the patient's insurance authorization does not cover.",
    )


class EnrollmentForm(BoundedInput, forms.Form):
    override_justification = forms.CharField(
        label="Why enroll without a current eligible screening?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only when the gate is shut. Your justification is kept with the enrollment and in the audit log.",
    )


class PlanForm(BoundedInput, forms.Form):
    protocol = forms.ModelChoiceField(queryset=None)
    first_day = forms.DateField(
        label="First session on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[booking_date],
    )
    start_time = forms.TimeField(
        label="Preferred start time", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    room = forms.ModelChoiceField(queryset=None)
    clinician = forms.ModelChoiceField(queryset=None)
    planned_dose = forms.DecimalField(
        label="Planned dose", max_digits=7, decimal_places=3, help_text="In the protocol's unit (mg/kg or mg)."
    )
    first_dose = forms.DecimalField(
        label="First session's dose",
        max_digits=7,
        decimal_places=3,
        required=False,
        help_text="Leave empty for the planned dose. Spravato: the first session of a series is 56 mg.",
    )
    induction_sessions = forms.IntegerField(
        label="Induction sessions",
        required=False,
        min_value=1,
        max_value=60,
        help_text="Leave empty for the protocol's usual number.",
    )
    dose_override_reason = forms.CharField(
        label="Why the label's dose rules are overridden (only when they are)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    booking_override_reason = booking_override_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["protocol"].queryset = Protocol.objects.filter(is_active=True)
        self.fields["room"].queryset = Room.objects.filter(is_active=True)
        self.fields["clinician"].queryset = User.objects.filter(role="clinician", is_active=True).order_by("last_name")
        self.fields["clinician"].label_from_instance = lambda user: user.get_full_name() or user.username
        choices = []
        for protocol in self.fields["protocol"].queryset.prefetch_related("phases"):
            bounds = protocol.induction_bounds()
            if bounds is not None:
                low, high = bounds
                choices.append(f"{protocol.name}: {low} to {high}" if low != high else f"{protocol.name}: {low}")
        if choices:
            self.fields["induction_sessions"].help_text = (
                "Leave empty for the protocol's usual number. Each protocol allows: " + "; ".join(choices) + "."
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("first_day") and cleaned["first_day"] < timezone.localdate():
            self.add_error("first_day", "Choose today or a later day.")
        protocol = cleaned.get("protocol")
        induction = cleaned.get("induction_sessions")
        if protocol and induction is not None:
            bounds = protocol.induction_bounds()
            if bounds is None:
                self.add_error("induction_sessions", "This protocol has no induction phase whose length can be chosen.")
            elif not bounds[0] <= induction <= bounds[1]:
                low, high = bounds
                self.add_error(
                    "induction_sessions",
                    f"This protocol's induction is {low} sessions."
                    if low == high
                    else f"Choose between {low} and {high} induction sessions for this protocol.",
                )
        for name in ("planned_dose", "first_dose"):
            dose = cleaned.get(name)
            if protocol and dose is not None and not protocol.dose_min <= dose <= protocol.dose_max:
                self.add_error(
                    name,
                    f"{protocol.name} allows {protocol.dose_min}–{protocol.dose_max} "
                    f"{protocol.get_dose_unit_display()}.",
                )
        return cleaned


class RescheduleForm(BoundedInput, forms.Form):
    new_start = ClinicDateTimeField(
        validators=[booking_date],
        label="New start",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    booking_override_reason = booking_override_field()


class SessionCancelForm(BoundedInput, forms.Form):
    """Cancelling a booked session: why, and who cancelled (only the patient's late cancellation is charged)."""

    cancelled_by = forms.ChoiceField(
        label="Who cancelled?",
        choices=DosingSession.CancelledBy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say who cancelled: the patient or the clinic."},
    )
    reason = forms.CharField(
        label="Reason", max_length=200, error_messages={"required": "Give a reason for the cancellation."}
    )


class SessionDoseForm(BoundedInput, forms.Form):
    dose = forms.DecimalField(label="Planned dose", max_digits=7, decimal_places=3)
    override_reason = forms.CharField(label="Override of the label's dose rules", required=False, max_length=500)
    booking_override_reason = booking_override_field()


class BoosterForm(BoundedInput, forms.Form):
    booking_override_reason = booking_override_field()
