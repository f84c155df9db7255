"""Forms of the controlled-substance log."""

from decimal import Decimal

from django import forms
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.accounts.services import witness_password_check
from kap_clinic.kernel.validation import BoundedInput, expiry_date

from ..models import ControlledProduct, ProductLot
from .services import cs_session_dose_problems


def _mg_field(label: str, *, min_value: Decimal | None = Decimal("0"), **kwargs) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=3, min_value=min_value, **kwargs)


def _lot_label(lot: ProductLot) -> str:
    return f"{lot.product} · lot {lot.lot_number} · expires {lot.expires_on:%Y-%m-%d}"


def _staff_name(user: User) -> str:
    return user.get_full_name() or user.username


class LotReceiveForm(BoundedInput, forms.Form):
    product = forms.ModelChoiceField(queryset=ControlledProduct.objects.filter(is_active=True))
    lot_number = forms.CharField(max_length=40)
    expires_on = forms.DateField(
        label="Expiry date", widget=forms.DateInput(attrs={"type": "date"}), validators=[expiry_date]
    )
    quantity = _mg_field("Quantity received", min_value=Decimal("0.001"))
    unit = forms.ChoiceField(choices=[("mg", "mg"), ("ml", "mL (converted with the product's mg per mL)")])
    note = forms.CharField(
        required=False, max_length=500, help_text="e.g. supplier and invoice or DEA Form 222 number."
    )


class DoseRecordForm(BoundedInput, forms.Form):
    """One dose from one lot; waste is confirmed by the witness's own password."""

    lot = forms.ModelChoiceField(queryset=ProductLot.objects.none())
    drawn_mg = _mg_field("Drawn (mg)", min_value=Decimal("0.001"))
    administered_mg = _mg_field("Given (mg)")
    wasted_mg = _mg_field("Wasted (mg)", initial=Decimal("0"))
    witness = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, help_text="Required when anything is wasted."
    )
    witness_password = forms.CharField(
        label="Witness's password", required=False, widget=forms.PasswordInput(render_value=False)
    )
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, request, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.session = session
        self.fields["lot"].queryset = ProductLot.objects.filter(
            product__is_active=True, expires_on__gte=timezone.localdate()
        ).select_related("product")
        self.fields["lot"].label_from_instance = _lot_label
        self.fields["witness"].queryset = (
            User.objects.filter(is_active=True, role__in=STAFF_ROLES).exclude(pk=request.user.pk).order_by("last_name")
        )
        self.fields["witness"].label_from_instance = _staff_name

    def clean(self):
        cleaned = super().clean()
        drawn, given, wasted = (cleaned.get(k) for k in ("drawn_mg", "administered_mg", "wasted_mg"))
        if None not in (drawn, given, wasted) and drawn != given + wasted:
            self.add_error(None, "The amount drawn must equal the amount given plus the waste.")
        if self.session is not None and given:
            for problem in cs_session_dose_problems(self.session, given):  # the log follows the session record
                self.add_error("administered_mg", problem)
        if not wasted:
            cleaned["witness"] = None  # nothing wasted: nothing witnessed, whoever was chosen
        else:
            witness = cleaned.get("witness")
            if witness is None:
                self.add_error("witness", "Waste must be witnessed.")
            elif not witness_password_check(witness=witness, password=cleaned.get("witness_password")):
                self.add_error(
                    "witness_password",
                    "The witness must confirm with their own password (after several wrong tries, wait a while).",
                )
        return cleaned


class ReconcileForm(BoundedInput, forms.Form):
    counted_mg = _mg_field("Physical count (mg)")
    reason = forms.CharField(
        label="Reason for any difference",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when the count differs from the log.",
    )
