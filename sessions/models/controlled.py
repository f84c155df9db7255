"""The controlled-substance log: products, their lots, and an append-only ledger of every movement in mg.

Ketamine and esketamine are Schedule III. Stock on hand per lot is the sum of the ledger's stock
effects (received +, drawn −, adjustment ±); administered and wasted rows account for what was
drawn and do not move stock. Rows are never changed or deleted (refused here, in the admin and, by
migration 0004's triggers, in the database); a mistake is corrected by a new adjustment row.
"""

from datetime import date
from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, DecimalField, F, Q, Value, When

from kap_clinic.kernel.audit.append_only import AppendOnlyModel
from kap_clinic.kernel.audit.privileges import append_only

MG = {"max_digits": 12, "decimal_places": 3}


class ControlledProduct(models.Model):
    """A controlled product the clinic stocks, e.g. ketamine HCl 50 mg/mL."""

    name = models.CharField(max_length=120)
    strength = models.CharField("form and strength", max_length=120, help_text="e.g. ketamine HCl 50 mg/mL")
    ndc = models.CharField("NDC", max_length=14, blank=True)
    mg_per_ml = models.DecimalField(
        "mg per mL",
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text="For a solution: lets a quantity received in mL be recorded in mg.",
    )
    schedule = models.CharField("DEA schedule", max_length=4, default="III")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "strength"]
        constraints = [models.UniqueConstraint(fields=["name", "strength"], name="cs_product_unique")]

    def __str__(self):
        return f"{self.name} ({self.strength})"


class ProductLot(models.Model):
    """One manufacturer's lot of a product as received; its stock is the ledger's, not a field here."""

    product = models.ForeignKey(ControlledProduct, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=40)
    expires_on = models.DateField()
    received_mg = models.DecimalField("quantity received (mg)", **MG, validators=[MinValueValidator(Decimal("0.001"))])
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["product", "expires_on", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="cs_lot_unique_per_product"),
            models.CheckConstraint(name="cs_lot_received_positive", condition=Q(received_mg__gt=0)),
        ]

    def __str__(self):
        return f"lot {self.lot_number}"

    def is_expired_on(self, day: date) -> bool:
        # The expiry date is the last day of use.
        return self.expires_on < day


class CSLogEntry(AppendOnlyModel):
    """One movement of a controlled substance, in mg. Append-only."""

    changed_message = "Controlled-substance log entries cannot be changed; record a correction instead."
    deleted_message = "Controlled-substance log entries cannot be deleted; record a correction instead."

    class Kind(models.TextChoices):
        RECEIVED = "received", "Received"
        DRAWN = "drawn", "Drawn"
        ADMINISTERED = "administered", "Administered"
        WASTED = "wasted", "Wasted"
        ADJUSTMENT = "adjustment", "Adjustment"

    lot = models.ForeignKey(ProductLot, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Positive for every kind except an adjustment, which carries its sign (count − balance).
    amount_mg = models.DecimalField(**MG)
    session = models.ForeignKey(
        "treatment_sessions.DosingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cs_entries",
    )
    # Administered and wasted rows point at the draw they account for.
    draw = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="accounted_by")
    at = models.DateTimeField("when", db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counted_mg = models.DecimalField("physical count (mg)", **MG, null=True, blank=True)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "controlled-substance log entry"
        verbose_name_plural = "controlled-substance log entries"
        indexes = [models.Index(fields=["lot", "at"], name="cs_entry_lot_at_idx")]
        constraints = [
            models.CheckConstraint(
                name="cs_entry_amount_positive_unless_adjustment",
                condition=Q(kind="adjustment") | Q(amount_mg__gt=0),
            ),
            models.CheckConstraint(
                name="cs_entry_adjustment_nonzero_unless_count",
                condition=~Q(kind="adjustment") | ~Q(amount_mg=0) | Q(counted_mg__isnull=False),
            ),
            models.CheckConstraint(
                name="cs_entry_adjustment_has_reason",
                condition=~Q(kind="adjustment") | Q(amount_mg=0) | ~Q(note=""),
            ),
            models.CheckConstraint(
                name="cs_entry_waste_witnessed", condition=~Q(kind="wasted") | Q(witness__isnull=False)
            ),
            models.CheckConstraint(
                name="cs_entry_witness_is_someone_else", condition=Q(witness__isnull=True) | ~Q(witness=F("by"))
            ),
            models.CheckConstraint(
                name="cs_entry_accounting_rows_name_their_draw",
                condition=Q(kind__in=["administered", "wasted"], draw__isnull=False)
                | (~Q(kind__in=["administered", "wasted"]) & Q(draw__isnull=True)),
            ),
        ]

    def __str__(self):
        return f"CS entry #{self.pk}"

    @property
    def stock_effect_mg(self) -> Decimal:
        if self.kind in (self.Kind.RECEIVED, self.Kind.ADJUSTMENT):
            return self.amount_mg
        if self.kind == self.Kind.DRAWN:
            return -self.amount_mg
        return Decimal("0")

    def get_additional_data(self):
        return {"patient_id": self.session.patient_id} if self.session_id else None


def stock_effect(prefix: str = "") -> Case:
    """The change an entry makes to stock on hand, as a database expression (`prefix` "entries__" from a lot)."""
    kind, amount = f"{prefix}kind", F(f"{prefix}amount_mg")
    return Case(
        When(**{kind: CSLogEntry.Kind.RECEIVED}, then=amount),
        When(**{kind: CSLogEntry.Kind.ADJUSTMENT}, then=amount),
        When(**{kind: CSLogEntry.Kind.DRAWN}, then=amount * Value(Decimal("-1"))),
        default=Value(Decimal("0")),
        output_field=DecimalField(**MG),
    )


auditlog.register(ControlledProduct)
auditlog.register(ProductLot)
auditlog.register(CSLogEntry)

# The runtime database role may only read and append the ledger (kap_clinic/kernel/audit/privileges.py).
append_only(CSLogEntry)
