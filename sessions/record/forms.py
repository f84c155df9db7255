"""One small form per step of the session record; the rules that need other rows live in the step modules beside it
(predose, dose, monitoring, discharge).
"""

from decimal import Decimal

from django import forms
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.accounts.services import witness_password_check
from kap_clinic.kernel.validation import BoundedInput, ClinicDateTimeField
from kap_clinic.rules import safety

from ..models import AdverseEvent, ProductLot, ScaleScore, VitalSign
from ..models.record import DBP_RANGE, DISCHARGE_CRITERIA, HR_RANGE, RR_RANGE, SBP_RANGE, SPO2_RANGE

# Times default to the moment of saving, so a page left open does not date a reading to when it was loaded.
WHEN = {
    "required": False,
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    "help_text": "Leave empty for now.",
}


def _reading(label: str, bounds: tuple[int, int]) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=bounds[0], max_value=bounds[1])


class ReadingsMixin(BoundedInput, forms.Form):
    sbp = _reading("Systolic BP (mmHg)", SBP_RANGE)
    dbp = _reading("Diastolic BP (mmHg)", DBP_RANGE)
    hr = _reading("Heart rate (/min)", HR_RANGE)
    spo2 = _reading("SpO₂ (%)", SPO2_RANGE)
    rr = _reading("Respiratory rate (/min)", RR_RANGE)

    def clean(self):
        cleaned = super().clean()
        sbp, dbp = cleaned.get("sbp"), cleaned.get("dbp")
        if sbp is not None and dbp is not None and dbp >= sbp:
            self.add_error("dbp", "The diastolic pressure must be below the systolic.")
        return cleaned


def _yes_no(label: str, *, empty: str = "—") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, required=False, choices=[("", empty), ("1", "Yes"), ("0", "No")], coerce=int, empty_value=None
    )


# The C-SSRS screener, "since last visit" version (Columbia Lighthouse Project): Q3-Q5 only when Q2 is yes.
CSSRS_SINCE_LAST_VISIT = (
    "1. Since the last visit, have you wished you were dead or wished you could go to sleep and not wake up?",
    "2. Since the last visit, have you actually had any thoughts of killing yourself?",
    "3. Have you been thinking about how you might do this? (only if 2 is yes)",
    "4. Have you had these thoughts and had some intention of acting on them? (only if 2 is yes)",
    "5. Have you started to work out or worked out the details of how to kill yourself? "
    "Do you intend to carry out this plan? (only if 2 is yes)",
    "6. Since the last visit, have you done anything, started to do anything, or prepared to do anything to end "
    "your life?",
)
PHQ9_ITEM9_CHOICES = [
    ("", "—"),
    ("0", "0 · Not at all"),
    ("1", "1 · Several days"),
    ("2", "2 · More than half the days"),
    ("3", "3 · Nearly every day"),
]


class PreDoseCheckForm(ReadingsMixin):
    is_fasting_confirmed = forms.BooleanField(label="Nothing by mouth for the required time", required=False)
    escort_name = forms.CharField(label="Driver / escort home (name)", max_length=120, required=False)
    # The dosing-day suicide-risk re-screen: one of the two instruments.
    rescreen_code = forms.ChoiceField(
        label="Suicide-risk re-screen today",
        required=False,
        choices=[
            ("", "—"),
            (safety.PHQ9_ITEM9, "PHQ-9 item 9"),
            (safety.CSSRS_SINCE_LAST_VISIT, "C-SSRS screener, since last visit"),
        ],
    )
    phq9_item9 = forms.TypedChoiceField(
        label="PHQ-9 item 9: over the last 2 weeks, thoughts that you would be better off dead, or of hurting "
        "yourself in some way",
        required=False,
        choices=PHQ9_ITEM9_CHOICES,
        coerce=int,
        empty_value=None,
    )
    cssrs_q1 = _yes_no(CSSRS_SINCE_LAST_VISIT[0])
    cssrs_q2 = _yes_no(CSSRS_SINCE_LAST_VISIT[1])
    cssrs_q3 = _yes_no(CSSRS_SINCE_LAST_VISIT[2], empty="Not asked")
    cssrs_q4 = _yes_no(CSSRS_SINCE_LAST_VISIT[3], empty="Not asked")
    cssrs_q5 = _yes_no(CSSRS_SINCE_LAST_VISIT[4], empty="Not asked")
    cssrs_q6 = _yes_no(CSSRS_SINCE_LAST_VISIT[5])
    is_possibly_pregnant = _yes_no("Could the patient be pregnant?")

    # Consent is no longer a checkbox here: the route's versioned consent form, accepted (sessions.consent).
    field_order = [
        "is_fasting_confirmed",
        "escort_name",
        "sbp",
        "dbp",
        "hr",
        "spo2",
        "rr",
        "rescreen_code",
        "phq9_item9",
        "cssrs_q1",
        "cssrs_q2",
        "cssrs_q3",
        "cssrs_q4",
        "cssrs_q5",
        "cssrs_q6",
        "is_possibly_pregnant",
    ]
    CSSRS_FIELDS = ("cssrs_q1", "cssrs_q2", "cssrs_q3", "cssrs_q4", "cssrs_q5", "cssrs_q6")

    def service_data(self) -> dict:
        """The cleaned answers in the shape `predose.pre_dose_check_record` takes."""
        data = dict(self.cleaned_data)
        item9 = data.pop("phq9_item9", None)
        cssrs = [data.pop(name, None) for name in self.CSSRS_FIELDS]
        code = data.get("rescreen_code") or ""
        if code == safety.PHQ9_ITEM9:
            data["rescreen_answers"] = [item9]
        elif code == safety.CSSRS_SINCE_LAST_VISIT:
            data["rescreen_answers"] = cssrs
        else:
            data["rescreen_answers"] = []
        if data.get("is_possibly_pregnant") is not None:
            data["is_possibly_pregnant"] = bool(data["is_possibly_pregnant"])
        return data


class PreDoseRiskAcknowledgeForm(BoundedInput, forms.Form):
    # The page fills in the patient's open low alerts; the service checks the choice.
    alert = forms.IntegerField(label="Low suicide-risk alert", widget=forms.Select)
    note = forms.CharField(
        label="What you reviewed before this dose", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class BpAcknowledgeForm(BoundedInput, forms.Form):
    symptom_check = forms.CharField(
        label="Symptom check",
        max_length=200,
        help_text="Headache, chest pain, visual change, neurological signs: write what you found, or “none”.",
    )
    reason = forms.CharField(label="Why dosing may go ahead", widget=forms.Textarea(attrs={"rows": 2}))
    override_hold = forms.BooleanField(label="I override the hard hold", required=False)


LEDGER_FIELDS = ("lot", "wasted_mg", "witness", "witness_password")


class LedgerFieldsMixin(BoundedInput, forms.Form):
    """The controlled-substance log's side of a dose: the lot it came from and any waste, witnessed by password.

    The amount given is the dose itself: the service writes the log's rows from the record, so it is typed once.
    Offered only while the clinic has a lot in stock to draw from."""

    lot = forms.ModelChoiceField(
        label="Lot drawn from (records the dose in the controlled-substance log)",
        queryset=ProductLot.objects.none(),
        required=False,
    )
    wasted_mg = forms.DecimalField(
        label="Wasted (mg)", required=False, max_digits=12, decimal_places=3, min_value=Decimal("0")
    )
    witness = forms.ModelChoiceField(
        label="Witness to the waste", queryset=User.objects.none(), required=False, help_text="When anything is wasted."
    )
    witness_password = forms.CharField(
        label="Witness's password", required=False, widget=forms.PasswordInput(render_value=False)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lots = ProductLot.objects.filter(product__is_active=True, expires_on__gte=timezone.localdate())
        if not lots.exists():
            for name in LEDGER_FIELDS:
                self.fields.pop(name)
            return
        self.fields["lot"].queryset = lots.select_related("product")
        self.fields["lot"].label_from_instance = lambda lot: (
            f"{lot.product} · lot {lot.lot_number} · expires {lot.expires_on:%Y-%m-%d}"
        )
        self.fields["witness"].queryset = User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by(
            "last_name"
        )
        self.fields["witness"].label_from_instance = lambda user: user.get_full_name() or user.username

    def clean(self):
        cleaned = super().clean()
        if "lot" not in self.fields:
            return cleaned
        wasted = cleaned.get("wasted_mg")
        if wasted:
            witness = cleaned.get("witness")
            if cleaned.get("lot") is None:
                self.add_error("lot", "Choose the lot the waste came from.")
            if witness is None:
                self.add_error("witness", "Waste must be witnessed.")
            elif not witness_password_check(witness=witness, password=cleaned.get("witness_password")):
                self.add_error(
                    "witness_password",
                    "The witness must confirm with their own password (after several wrong tries, wait a while).",
                )
        return cleaned

    def service_data(self) -> dict:
        """The cleaned values the service takes (the witness's password was checked here and goes no further)."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "witness_password"}
        if not data.get("wasted_mg"):
            data["witness"] = None
        return data


class DoseForm(LedgerFieldsMixin, BoundedInput, forms.Form):
    dose = forms.DecimalField(label="Dose", max_digits=7, decimal_places=3, min_value=Decimal("0.001"))
    dosed_at = ClinicDateTimeField(label="First device / infusion start", **WHEN)
    # IV only (the page removes them for other routes): observation counts from the infusion's end.
    infusion_minutes = forms.IntegerField(
        label="Infusion duration (minutes)", required=False, min_value=1, max_value=240
    )
    infusion_rate_mg_per_min = forms.DecimalField(
        label="or infusion rate (mg/min)", required=False, max_digits=6, decimal_places=3, min_value=Decimal("0.001")
    )
    override_reason = forms.CharField(
        label="Override reason (clinician, only for a dose outside the protocol's range or the label's dose rules)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = [
        "dose",
        "dosed_at",
        "infusion_minutes",
        "infusion_rate_mg_per_min",
        "override_reason",
        *LEDGER_FIELDS,
    ]


class DosingEndForm(BoundedInput, forms.Form):
    ended_at = ClinicDateTimeField(label="Dosing ended at", **WHEN)


class TopUpForm(LedgerFieldsMixin, BoundedInput, forms.Form):
    dose_mg = forms.DecimalField(label="Top-up (mg)", max_digits=6, decimal_places=1, min_value=Decimal("0.1"))
    given_at = ClinicDateTimeField(label="Given at", **WHEN)
    reason = forms.CharField(max_length=200, required=False)

    field_order = ["dose_mg", "given_at", "reason", *LEDGER_FIELDS]


class VitalSignForm(ReadingsMixin):
    taken_at = ClinicDateTimeField(label="Taken at", **WHEN)
    position = forms.ChoiceField(choices=[("", "—"), *VitalSign.Position.choices], required=False)
    note = forms.CharField(max_length=300, required=False)

    field_order = ["taken_at", "sbp", "dbp", "hr", "spo2", "rr", "position", "note"]

    def clean(self):
        cleaned = super().clean()
        if all(cleaned.get(name) is None for name in ("sbp", "dbp", "hr", "spo2", "rr")) and not self.errors:
            raise forms.ValidationError("Enter at least one reading.")
        return cleaned


class ScaleScoreForm(BoundedInput, forms.Form):
    scale = forms.ChoiceField(choices=ScaleScore.Scale.choices)
    score = forms.IntegerField(min_value=0, max_value=92)
    taken_at = ClinicDateTimeField(label="Taken at", **WHEN)

    def clean(self):
        cleaned = super().clean()
        scale, score = cleaned.get("scale"), cleaned.get("score")
        if scale and score is not None:
            low, high = ScaleScore.RANGES[scale]
            if not low <= score <= high:
                self.add_error("score", f"{ScaleScore.Scale(scale).label} runs from {low} to {high}.")
        return cleaned


class AdverseEventForm(BoundedInput, forms.Form):
    kind = forms.ChoiceField(label="Event", choices=AdverseEvent.Kind.choices)
    other_description = forms.CharField(label="Describe (for Other)", max_length=120, required=False)
    onset_at = ClinicDateTimeField(label="Onset", **WHEN)
    severity = forms.ChoiceField(choices=AdverseEvent.Severity.choices)
    intervention = forms.CharField(
        max_length=200, required=False, help_text="For example antiemetic, benzodiazepine, oxygen, infusion slowed."
    )
    resolved_at = ClinicDateTimeField(
        label="Resolved", required=False, widget=WHEN["widget"], help_text="Leave empty while it lasts."
    )
    is_serious = forms.BooleanField(label="Serious", required=False)
    is_reportable = forms.BooleanField(label="Reportable (REMS / FDA MedWatch)", required=False)
    details = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == AdverseEvent.Kind.OTHER and not (cleaned.get("other_description") or "").strip():
            self.add_error("other_description", "Describe the event when it is not on the list.")
        onset, resolved = cleaned.get("onset_at"), cleaned.get("resolved_at")
        if onset and resolved and resolved < onset:
            self.add_error("resolved_at", "An event cannot resolve before its onset.")
        return cleaned


class AdverseEventResolveForm(BoundedInput, forms.Form):
    # The page fills in the session's open events; the service checks the choice belongs to the session.
    event = forms.IntegerField(label="Adverse event", widget=forms.Select)
    resolved_at = ClinicDateTimeField(label="Resolved at", **WHEN)


class DischargeForm(BoundedInput, forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = forms.CharField(
        label="Override: why the patient may leave although the record contradicts it (clinician, audited)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Unticked boxes are reported by the service, which names each unmet criterion.
        for name, label in DISCHARGE_CRITERIA:
            self.fields[name] = forms.BooleanField(label=label, required=False)
        self.order_fields([name for name, _ in DISCHARGE_CRITERIA] + ["note", "override_reason"])


class SignForm(BoundedInput, forms.Form):
    """No fields: signing is one button, and the service decides whether the record is ready."""


class AmendmentForm(BoundedInput, forms.Form):
    text = forms.CharField(label="Amendment", widget=forms.Textarea(attrs={"rows": 3}))
