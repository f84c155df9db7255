"""What each patient owes: the fee schedule, charges, sliding-scale assessments, good-faith estimates, invoices,
payments and adjustments. Money is Decimal in NUMERIC columns throughout."""

from decimal import Decimal

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Round

from kap_clinic.rules import sliding_scale
from patients.models import Patient
from sessions.models import DosingSession, TreatmentPlan
from sessions.models.scheduling import Route

__all__ = [
    "Adjustment",
    "Charge",
    "FeeScheduleItem",
    "GoodFaithEstimate",
    "Invoice",
    "InvoiceVoidedLine",
    "Payment",
    "PovertyGuideline",
    "SlidingScaleAssessment",
    "SlidingScaleTier",
    "UnpricedService",
]

MONEY = {"max_digits": 10, "decimal_places": 2}
ZERO = Decimal("0.00")


class FeeScheduleItem(models.Model):
    """The clinic's price for one billing code, for a route (blank: any route) and a range of minutes (blank: any
    length), edited by admins."""

    class Unit(models.TextChoices):
        SERVICE = "service", "Per service"
        MG = "mg", "Per mg"
        HOUR = "hour", "Per additional hour"

    code = models.CharField(max_length=8)
    description = models.CharField(max_length=200)
    route = models.CharField(max_length=12, choices=Route.choices, blank=True, help_text="Blank: any route.")
    min_minutes = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Face-to-face minutes, from.")
    max_minutes = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Up to and including.")
    price = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.SERVICE)
    is_add_on = models.BooleanField("Add-on code", default=False)
    is_active = models.BooleanField(default=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["code", "route", "min_minutes"]
        constraints = [
            models.UniqueConstraint(fields=["code", "route", "min_minutes"], name="fee_one_price_per_code_route"),
            models.CheckConstraint(condition=Q(price__gte=0), name="fee_price_not_negative"),
            models.CheckConstraint(
                condition=Q(min_minutes__isnull=True)
                | Q(max_minutes__isnull=True)
                | Q(min_minutes__lte=F("max_minutes")),
                name="fee_minutes_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.description}"

    def clean(self):
        self.code = self.code.strip().upper().lstrip("+")
        same = FeeScheduleItem.objects.filter(code=self.code, route=self.route, min_minutes=self.min_minutes)
        # Blank minutes are NULL, which a unique index lets repeat: one price per code and route is checked here.
        if same.exclude(pk=self.pk).exists():
            raise ValidationError("This code already has a price for that route and length of service.")


class PovertyGuideline(models.Model):
    """The year's federal poverty guideline (HHS, 48 contiguous states and DC), edited by admins."""

    year = models.PositiveSmallIntegerField(unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    first_person = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("1.00"))])
    each_additional = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(first_person__gt=0, each_additional__gte=0), name="guideline_positive")
        ]

    def __str__(self):
        return f"Poverty guideline {self.year}"


class SlidingScaleTier(models.Model):
    """One band of the clinic's sliding fee: a household income up to this percentage of the poverty guideline earns
    this discount. The band without an upper bound is the top one. Admins edit the set; assessments copy the tier
    they found, so editing the set later does not change what a patient was assessed at."""

    name = models.CharField(max_length=20, unique=True)
    up_to_percent_of_poverty = models.PositiveSmallIntegerField(
        "Up to % of the poverty guideline",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Incomes up to and including this percentage of the guideline. Blank: no upper bound (the top tier).",
    )
    discount_percent = models.PositiveSmallIntegerField("Discount %", validators=[MaxValueValidator(100)])

    class Meta:
        ordering = [F("up_to_percent_of_poverty").asc(nulls_last=True)]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="sliding_tier_discount_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(up_to_percent_of_poverty__isnull=True)
                | Q(up_to_percent_of_poverty__gte=1, up_to_percent_of_poverty__lte=1000),
                name="sliding_tier_bound_plausible",
            ),
            # One tier per upper bound, and one open-ended tier (NULL counts as 0, which no real bound is).
            models.UniqueConstraint(
                Coalesce("up_to_percent_of_poverty", 0),
                name="sliding_tier_one_per_bound",
                violation_error_message="Another tier already ends at this percentage, or is already the open top "
                "tier.",
            ),
        ]

    def __str__(self):
        return f"Tier {self.name}"

    def as_rule(self) -> sliding_scale.Tier:
        return sliding_scale.Tier(self.name, self.up_to_percent_of_poverty, self.discount_percent)

    def clean(self):
        # The set as it would be after this save must still be usable (no overlap, discounts falling as income rises).
        if self.discount_percent is None or not self.name:
            return  # the field errors say what is missing
        others = [tier.as_rule() for tier in SlidingScaleTier.objects.exclude(pk=self.pk)]
        try:
            sliding_scale.check_tiers(sliding_scale.ordered([*others, self.as_rule()]))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class SlidingScaleAssessment(models.Model):
    """A patient's sliding-fee tier as assessed on a day, with the evidence seen and who saw it. The latest applies."""

    class Evidence(models.TextChoices):
        TAX_RETURN = "tax_return", "Tax return"
        PAY_STUBS = "pay_stubs", "Pay stubs"
        BENEFITS = "benefits", "Benefits letter"
        EMPLOYER = "employer", "Employer letter"
        ATTESTATION = "attestation", "Signed self-attestation"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sliding_scale_assessments")
    guideline = models.ForeignKey(PovertyGuideline, on_delete=models.PROTECT, related_name="+")
    household_size = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(50)])
    household_income = models.DecimalField("Yearly household income", **MONEY, validators=[MinValueValidator(ZERO)])
    percent_of_guideline = models.DecimalField(max_digits=7, decimal_places=1)
    # The tier as it stood when assessed (name, upper bound, discount): later edits of the tiers leave it as it was.
    tier = models.CharField(max_length=20)
    tier_up_to_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    discount_percent = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    evidence = models.CharField(max_length=12, choices=Evidence.choices)
    evidence_note = models.CharField(max_length=300, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()
    review_by = models.DateField("Verify again by")

    class Meta:
        ordering = ["-verified_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__lte=100, household_income__gte=0, household_size__gte=1),
                name="sliding_scale_values_plausible",
            )
        ]

    def __str__(self):
        return f"sliding-scale assessment #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class Invoice(models.Model):
    """A bill to the patient for some of their charges. Its totals are kept with it and the database holds them to
    balance = charged - paid - adjusted."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=20, unique=True)
    issued_on = models.DateField()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    total_charged = models.DecimalField(**MONEY, default=ZERO)
    total_paid = models.DecimalField(**MONEY, default=ZERO)
    total_adjusted = models.DecimalField(**MONEY, default=ZERO)
    balance = models.DecimalField(**MONEY, default=ZERO)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # A void invoice keeps its number, totals and (in `voided_lines`) the charges it held, for the record; it no
    # longer counts in what the patient owes, and its charges can go on a new invoice.
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    void_reason = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                # Void exactly when voided: when, by whom and why, all three together.
                condition=(Q(status="void", voided_at__isnull=False, voided_by__isnull=False) & ~Q(void_reason=""))
                | (~Q(status="void") & Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")),
                name="invoice_void_recorded_together",
            ),
            models.CheckConstraint(
                # Rounded to the cent: exact on PostgreSQL's NUMERIC, and SQLite's binary numbers compare equal too.
                condition=Q(balance=Round(F("total_charged") - F("total_paid") - F("total_adjusted"), 2)),
                name="invoice_balance_reconciles",
            ),
            models.CheckConstraint(
                condition=Q(total_charged__gte=0, total_paid__gte=0, total_adjusted__gte=0, balance__gte=0),
                name="invoice_totals_not_negative",
            ),
        ]

    def __str__(self):
        return f"Invoice {self.number}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class InvoiceVoidedLine(models.Model):
    """A charge as it stood on an invoice when the invoice was voided: the record of what the void invoice billed,
    kept while the charge itself is free to go on a new invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="voided_lines")
    charge = models.ForeignKey("Charge", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "charge"], name="voided_line_once_per_invoice_charge"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="voided_line_not_negative"),
        ]

    def __str__(self):
        return f"voided line #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.charge.patient_id}


class Charge(models.Model):
    """One billed line: a code for a session (at most once per session and code, whatever retries or races), or a
    cancellation or no-show fee."""

    class Kind(models.TextChoices):
        SERVICE = "service", "Service"
        LATE_CANCEL = "late_cancel", "Late cancellation fee"
        NO_SHOW = "no_show", "No-show fee"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="charges")
    session = models.ForeignKey(DosingSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # An integration session's id, as aftercare announces it (billing does not read aftercare's tables).
    integration_session_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SERVICE)
    code = models.CharField(max_length=12)
    description = models.CharField(max_length=200)
    service_date = models.DateField()
    units = models.DecimalField(max_digits=8, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))])
    unit_price = models.DecimalField(**MONEY)
    list_amount = models.DecimalField(**MONEY)
    discount_percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    amount = models.DecimalField(**MONEY)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="lines")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "code"], condition=Q(session__isnull=False), name="charge_once_per_session_code"
            ),
            models.UniqueConstraint(
                fields=["integration_session_id", "code"],
                condition=Q(integration_session_id__isnull=False),
                name="charge_once_per_integration_code",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0, amount__lte=F("list_amount"), units__gt=0), name="charge_amount_plausible"
            ),
        ]

    def __str__(self):
        return f"charge #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class UnpricedService(models.Model):
    """A service that could not be charged in full because a code it bills had no active price: a completed dosing
    session, or a held integration session (by the id, minutes and day aftercare announced). Open until a price saved
    in the fee schedule lets it be charged in full (`billing.ledger.charges.uncharged_sessions_charge`); its "no
    price" alert is raised from it and closed with it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(DosingSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # An integration session's id, as aftercare announces it (billing does not read aftercare's tables).
    integration_session_id = models.PositiveBigIntegerField(null=True, blank=True)
    service_date = models.DateField()
    minutes = models.PositiveSmallIntegerField(null=True, blank=True, help_text="An integration session's minutes.")
    route = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                # Exactly one service: a dosing session, or an integration session with its minutes.
                condition=Q(session__isnull=False, integration_session_id__isnull=True)
                | Q(session__isnull=True, integration_session_id__isnull=False, minutes__isnull=False),
                name="unpriced_one_service",
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(session__isnull=False, resolved_at__isnull=True),
                name="unpriced_open_once_per_session",
            ),
            models.UniqueConstraint(
                fields=["integration_session_id"],
                condition=Q(integration_session_id__isnull=False, resolved_at__isnull=True),
                name="unpriced_open_once_per_integration",
            ),
        ]

    def __str__(self):
        return f"unpriced service #{self.pk}"

    @property
    def alert_key(self) -> str:
        """The key of its "no price" alert (a dosing session's is the one it has always had)."""
        if self.session_id is not None:
            return f"fee-missing-session-{self.session_id}-unpriced"
        return f"fee-missing-integration-{self.integration_session_id}-unpriced"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class Payment(models.Model):
    class Method(models.TextChoices):
        CARD = "card", "Card"
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        TRANSFER = "transfer", "Bank transfer"
        HSA = "hsa", "HSA / FSA card"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    method = models.CharField(max_length=10, choices=Method.choices)
    reference = models.CharField(max_length=60, blank=True)
    received_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]

    def __str__(self):
        return f"payment #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.invoice.patient_id}


class Adjustment(models.Model):
    """An amount taken off an invoice (a waived fee, a write-off, a courtesy discount), with the reason."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="adjustments")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    reason = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_positive")]

    def __str__(self):
        return f"adjustment #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.invoice.patient_id}


class GoodFaithEstimate(models.Model):
    """The expected charges of a treatment plan's planned sessions, given to a self-pay patient in writing, with the
    day it was due and the moment it was given."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="good_faith_estimates")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="+")
    lines = models.JSONField(default=list)  # [{code, description, units, unit_price, amount}] as strings
    total = models.DecimalField(**MONEY)
    assumptions = models.TextField(
        blank=True, help_text="What the estimate assumed, said to the patient (e.g. a weight, when none is recorded)."
    )
    discount_percent = models.PositiveSmallIntegerField(default=0)
    scheduled_on = models.DateField()
    first_service_on = models.DateField()
    requested = models.BooleanField("Asked for by the patient", default=False)
    due_by = models.DateField()
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-given_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="estimate_total_not_negative")]

    def __str__(self):
        return f"good-faith estimate #{self.pk}"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


auditlog.register(FeeScheduleItem)
auditlog.register(PovertyGuideline)
auditlog.register(SlidingScaleTier)
auditlog.register(SlidingScaleAssessment)
auditlog.register(Invoice)
auditlog.register(InvoiceVoidedLine)
auditlog.register(Charge)
auditlog.register(UnpricedService)
auditlog.register(Payment)
auditlog.register(Adjustment)
auditlog.register(GoodFaithEstimate)
