from django import forms

from kap_clinic.kernel.validation import AUTHORIZATION_MAX_DAYS, BoundedInput, authorization_date
from kap_clinic.rules.billing_codes import AUTHORIZATION_CODES, RETIRED_CODES, parse_codes

from .coverage_forms import ICD10
from .models import Payer, PriorAuthorization
from .preauth.lifecycle import SENT_OUTSIDE
from .services import TRANSITIONS

Status = PriorAuthorization.Status


class AuthorizationForm(BoundedInput, forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.filter(is_active=True))
    reference = forms.CharField(label="Authorization number", max_length=60, required=False)
    codes = forms.CharField(
        label="Codes",
        max_length=300,
        required=False,
        help_text="Comma-separated, e.g. G2083, J0013. Known codes: " + ", ".join(sorted(AUTHORIZATION_CODES)) + ".",
    )
    units_authorized = forms.IntegerField(
        label="Units approved",
        min_value=1,
        max_value=100_000,
        required=False,
        help_text="Counted as dosing sessions: one unit per session the patient attends.",
    )
    starts_on = forms.DateField(
        label="First day",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[authorization_date],
    )
    ends_on = forms.DateField(
        label="Last day",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[authorization_date],
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    # The request: what is asked of the payer (assembled from the record, reviewed by staff before it is submitted).
    units_requested = forms.IntegerField(label="Units requested", min_value=1, max_value=100_000, required=False)
    requested_starts_on = forms.DateField(
        label="First day requested",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[authorization_date],
    )
    requested_ends_on = forms.DateField(
        label="Last day requested",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[authorization_date],
    )
    diagnoses = forms.CharField(
        label="ICD-10 diagnoses", max_length=200, required=False, help_text="Comma-separated, e.g. F33.2, F43.10."
    )
    justification = forms.CharField(
        label="Clinical justification", required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 6})
    )
    keep_retired_codes = forms.BooleanField(
        label="Record a retired code anyway (an older authorization issued under it)",
        required=False,
        help_text="For a code retired since (J0013 replaced S0013 in 2026): the payer may ask for it to be redone.",
    )

    def __init__(self, *args, instance: PriorAuthorization | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "payer": instance.payer_id,
                "reference": instance.reference,
                "codes": ", ".join(instance.codes),
                "units_authorized": instance.units_authorized,
                "starts_on": instance.starts_on,
                "ends_on": instance.ends_on,
                "notes": instance.notes,
                "units_requested": instance.units_requested,
                "requested_starts_on": instance.requested_starts_on,
                "requested_ends_on": instance.requested_ends_on,
                "diagnoses": ", ".join(instance.diagnoses),
                "justification": instance.justification,
                "keep_retired_codes": any(code in RETIRED_CODES for code in instance.codes),
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            # A payer since retired stays selectable on the authorizations already made out to it.
            self.fields["payer"].queryset = Payer.objects.filter(is_active=True) | Payer.objects.filter(
                pk=instance.payer_id
            )

    def clean_diagnoses(self) -> list[str]:
        codes = []
        for raw in self.cleaned_data["diagnoses"].replace(";", ",").split(","):
            code = raw.strip().upper()
            if not code or code in codes:
                continue
            if not ICD10.match(code):
                raise forms.ValidationError(f"{code[:12]} is not an ICD-10 code such as F33.2.")
            codes.append(code)
        return codes

    def clean_codes(self) -> list[str]:
        text = self.cleaned_data["codes"]
        codes, problems = parse_codes(text)
        # Retired codes are kept aside: staff may still record one on an older authorization, with a warning.
        typed = [raw.strip().upper().lstrip("+") for raw in (text or "").replace(";", ",").split(",")]
        self.retired_codes = [code for code in dict.fromkeys(typed) if code in RETIRED_CODES]
        problems = [problem for problem in problems if problem not in RETIRED_CODES.values()]
        if problems:
            raise forms.ValidationError([*problems, *(RETIRED_CODES[code] for code in self.retired_codes)])
        return codes

    def clean(self):
        cleaned = super().clean()
        keep_retired = cleaned.pop("keep_retired_codes", False)
        retired = getattr(self, "retired_codes", [])
        if retired and "codes" in cleaned:
            if keep_retired:
                cleaned["codes"] = [*cleaned["codes"], *retired]
            else:
                self.add_error(
                    "codes",
                    [RETIRED_CODES[code] for code in retired]
                    + ["Tick the box below to record it anyway on an older authorization."],
                )
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The last day must not be before the first day.")
        elif starts_on and ends_on and (ends_on - starts_on).days > AUTHORIZATION_MAX_DAYS:
            self.add_error("ends_on", "An authorization covers at most three years: check the first and last day.")
        return cleaned


class TransitionForm(BoundedInput, forms.Form):
    to = forms.ChoiceField(label="Mark as", choices=())
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        # A draft is never marked submitted by hand: it is submitted to the payer from its page, or recorded as sent
        # outside the app (fax, phone, payer portal) with a note saying how.
        for status in Status:
            if status not in TRANSITIONS[Status(current)]:
                continue
            if status == Status.SUBMITTED:
                choices.append((SENT_OUTSIDE, "Submitted outside the app (say how in the note)"))
            else:
                choices.append((status.value, status.label))
        self.fields["to"].choices = choices


class AuthorizationFilterForm(BoundedInput, forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    ending_soon = forms.BooleanField(label="Running out", required=False)
