"""Forms of coverage and pre-authorization requests."""

import re

from django import forms

from kap_clinic.kernel.validation import BoundedInput

from .models import InsurancePolicy, Payer

ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def _date_field(label: str, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))


class PolicyForm(BoundedInput, forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.filter(is_active=True))
    plan_name = forms.CharField(label="Plan", max_length=120, required=False)
    member_id = forms.CharField(label="Member ID", max_length=40)
    group_id = forms.CharField(label="Group number", max_length=40, required=False)
    subscriber_name = forms.CharField(label="Subscriber", max_length=120)
    subscriber_relationship = forms.ChoiceField(
        label="Patient's relationship to the subscriber", choices=InsurancePolicy.Relationship.choices
    )
    effective_from = _date_field("Effective from")
    effective_to = _date_field("Effective to", required=False)
    rank = forms.ChoiceField(label="Primary or secondary", choices=InsurancePolicy.Rank.choices)
    is_active = forms.BooleanField(label="In force", required=False, initial=True)

    def __init__(self, *args, instance: InsurancePolicy | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in self.base_fields}
            kwargs["initial"]["payer"] = instance.payer_id
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["payer"].queryset = Payer.objects.filter(is_active=True) | Payer.objects.filter(
                pk=instance.payer_id
            )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("effective_from"), cleaned.get("effective_to")
        if start and end and end < start:
            self.add_error("effective_to", "The policy cannot end before it starts.")
        return cleaned


class SelfPayForm(BoundedInput, forms.Form):
    since = _date_field("Self-pay since")
    note = forms.CharField(max_length=300, required=False)


class AssembleForm(BoundedInput, forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.filter(is_active=True))


class WorkDoneForm(BoundedInput, forms.Form):
    note = forms.CharField(max_length=300, required=False)
