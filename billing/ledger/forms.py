from decimal import Decimal

from django import forms

from kap_clinic.kernel.validation import BoundedInput
from sessions.models import TreatmentPlan

from ..ledger_models import Payment, SlidingScaleAssessment

MAX_MONEY = Decimal("99999999.99")


def money_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=10, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_MONEY
    )


def balance_seen_field() -> forms.DecimalField:
    """The balance the invoice page showed when the form was opened: the same form posted twice (a double click, a
    page sent again) finds the balance changed and is refused instead of recording the money twice."""
    return forms.DecimalField(widget=forms.HiddenInput, required=False, max_digits=12, decimal_places=2)


class PaymentForm(BoundedInput, forms.Form):
    amount = money_field("Amount ($)")
    method = forms.ChoiceField(choices=Payment.Method.choices)
    received_on = forms.DateField(label="Received on", widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label="Reference (last 4 digits, check number)", max_length=60, required=False)
    balance_seen = balance_seen_field()


class AdjustmentForm(BoundedInput, forms.Form):
    amount = money_field("Amount ($)")
    reason = forms.CharField(max_length=300)
    balance_seen = balance_seen_field()


class InvoiceVoidForm(BoundedInput, forms.Form):
    reason = forms.CharField(
        label="Why is this invoice void?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason for voiding the invoice."},
        help_text="Kept with the invoice and in the audit trail. Its charges can then go on a new invoice.",
    )


class SlidingScaleForm(BoundedInput, forms.Form):
    household_size = forms.IntegerField(label="People in the household", min_value=1, max_value=50)
    household_income = forms.DecimalField(
        label="Yearly household income ($)", max_digits=10, decimal_places=2, min_value=0, max_value=MAX_MONEY
    )
    evidence = forms.ChoiceField(label="Checked against", choices=SlidingScaleAssessment.Evidence.choices)
    evidence_note = forms.CharField(label="Note", max_length=300, required=False)


class EstimateForm(BoundedInput, forms.Form):
    plan = forms.ModelChoiceField(label="Treatment plan", queryset=TreatmentPlan.objects.none())
    requested = forms.BooleanField(label="The patient asked for it", required=False)

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = TreatmentPlan.objects.filter(
            patient=patient, status=TreatmentPlan.Status.ACTIVE
        ).select_related("protocol")
        self.fields["plan"].label_from_instance = lambda plan: f"{plan.protocol.name} from {plan.first_day:%Y-%m-%d}"


class SuperbillPeriodForm(BoundedInput, forms.Form):
    """The dates a superbill covers (a quarter, say), both included; at most a year, so a statement stays readable."""

    MAX_DAYS = 366

    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The period must end on or after its first day.")
            elif (end - start).days >= self.MAX_DAYS:
                self.add_error("end", "A superbill covers at most a year: choose a shorter period.")
        return cleaned
