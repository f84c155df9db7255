"""The controlled-substance log: receiving lots, recording doses, reconciling a physical count.

Every amount is kept in mg as a Decimal. A lot's stock on hand is the sum of its ledger's stock
effects (`models.controlled.stock_effect`); each dose's drawn amount equals what was given plus what
was wasted, so the log balances: received + adjustments − administered − wasted = on hand.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DecimalField, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from patients.selectors import patients_visible_to

from ..models import ControlledProduct, CSLogEntry, DoseAdministration, DoseTopUp, DosingSession, ProductLot
from ..models.controlled import MG, stock_effect

MILLIGRAM = Decimal("0.001")
ZERO = Decimal("0")
# Who may read the log and receive stock: the prescribers and the administrators; reconciling is the admins'.
CS_ROLES = (Role.ADMIN, Role.CLINICIAN)


def _mg(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(MILLIGRAM)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationError(f"Enter the {what} as a number of mg.") from exc
    if not amount.is_finite():
        raise ValidationError(f"Enter the {what} as a number of mg.")
    return amount


def _require(user: User, *roles: str) -> None:
    if not user.has_role(*roles):
        raise PermissionDenied


def _locked_lot(lot: ProductLot) -> ProductLot:
    # One writer per lot at a time, so two draws cannot both spend the same milligrams.
    return ProductLot.objects.select_for_update().select_related("product").get(pk=lot.pk)


def _mg_field() -> DecimalField:
    return DecimalField(**MG)


def cs_lot_balance(lot: ProductLot) -> Decimal:
    """Stock on hand in mg: one aggregate over the lot's ledger."""
    total = CSLogEntry.objects.filter(lot=lot).aggregate(total=Sum(stock_effect()))["total"]
    return (total or ZERO).quantize(MILLIGRAM)


def _mg_text(amount: Decimal) -> str:
    return f"{amount.normalize():f} mg"


# ---- The session record and the log ------------------------------------------------------------
# The dose is recorded once, in the session record; the record's dose step (and each top-up) writes the log's
# administration rows from it in the same transaction. A dose logged here for a session may not exceed what the
# record gives, and the record is not signed while a partly logged session disagrees with it.


def session_dosed_mg(session: DosingSession) -> Decimal | None:
    """What the session record gives in all, in mg (the dose and any top-ups); None before the dose is recorded."""
    dose = DoseAdministration.objects.filter(session=session).values_list("dose_mg_given", flat=True).first()
    if dose is None:
        return None
    top_ups = DoseTopUp.objects.filter(session=session).aggregate(total=Sum("dose_mg"))["total"] or ZERO
    return (dose + top_ups).quantize(MILLIGRAM)


def session_logged_mg(session: DosingSession) -> Decimal:
    """What the controlled-substance log records as given in this session, in mg."""
    given = CSLogEntry.objects.filter(session=session, kind=CSLogEntry.Kind.ADMINISTERED)
    return (given.aggregate(total=Sum("amount_mg"))["total"] or ZERO).quantize(MILLIGRAM)


def cs_session_dose_problems(session: DosingSession, administered_mg) -> list[str]:
    """Why logging `administered_mg` as given in this session would disagree with its session record; [] if not."""
    recorded = session_dosed_mg(session)
    given = _mg(administered_mg, "amount given")
    if recorded is None or given <= 0:
        return []
    logged = session_logged_mg(session)
    if logged + given <= recorded:
        return []
    return [
        f"The session record gives {_mg_text(recorded)} in all and the log already has {_mg_text(logged)} given "
        f"in this session, so at most {_mg_text(recorded - logged)} more can be logged as given, not "
        f"{_mg_text(given)}. If more was given, record it in the session record."
    ]


def cs_session_reconciliation_problems(session: DosingSession) -> list[str]:
    """Before the record is signed: a session with doses in the log has the record's total logged, no more, no less."""
    logged = session_logged_mg(session)
    recorded = session_dosed_mg(session)
    if logged == 0 or recorded is None or logged == recorded:
        return []
    return [
        f"The controlled-substance log has {_mg_text(logged)} given in this session and the session record "
        f"{_mg_text(recorded)}: log the rest, or correct the log, before signing."
    ]


# ---- Writes -------------------------------------------------------------------------------------


@transaction.atomic
def cs_lot_receive(
    *,
    product: ControlledProduct,
    lot_number: str,
    expires_on,
    quantity,
    unit: str = "mg",
    by: User,
    at: datetime | None = None,
    note: str = "",
) -> ProductLot:
    """Receive a lot into stock: the lot and its `received` ledger row, in mg (mL converted by the product's mg/mL)."""
    _require(by, *CS_ROLES)
    at = at or timezone.now()
    lot_number = lot_number.strip()
    if not lot_number:
        raise ValidationError("Enter the lot number.")
    if not product.is_active:
        raise ValidationError("That product is no longer stocked.")
    amount = _mg(quantity, "quantity")
    if unit == "ml":
        if not product.mg_per_ml:
            raise ValidationError("Set the product's mg per mL before receiving it in mL.")
        amount = (amount * product.mg_per_ml).quantize(MILLIGRAM)
    elif unit != "mg":
        raise ValidationError("Receive in mg or mL.")
    if amount <= 0:
        raise ValidationError("The quantity received must be more than zero.")
    if expires_on < timezone.localtime(at).date():
        raise ValidationError("This lot has already expired; do not receive it into stock.")
    if ProductLot.objects.filter(product=product, lot_number=lot_number).exists():
        raise ValidationError("That lot of this product was already received.")
    lot = ProductLot.objects.create(
        product=product,
        lot_number=lot_number,
        expires_on=expires_on,
        received_mg=amount,
        received_at=at,
        received_by=by,
    )
    CSLogEntry.objects.create(lot=lot, kind=CSLogEntry.Kind.RECEIVED, amount_mg=amount, at=at, by=by, note=note.strip())
    return lot


@transaction.atomic
def cs_dose_record(
    *,
    lot: ProductLot,
    drawn_mg,
    administered_mg,
    wasted_mg,
    by: User,
    witness: User | None = None,
    session: DosingSession | None = None,
    at: datetime | None = None,
    note: str = "",
) -> list[CSLogEntry]:
    """Record one dose from one lot: what was drawn, what was given and what was wasted (drawn = given + wasted).

    Waste needs a witness other than the person recording; an expired lot, or more than the lot holds, is refused.
    """
    _require(by, Role.CLINICIAN)
    if session is not None:
        # One writer per session at a time, so two entries cannot both log the record's last milligrams.
        session = DosingSession.objects.select_for_update().get(pk=session.pk)
    at = at or timezone.now()
    drawn, given, wasted = _mg(drawn_mg, "amount drawn"), _mg(administered_mg, "amount given"), _mg(wasted_mg, "waste")
    problems = []
    if drawn <= 0:
        problems.append("The amount drawn must be more than zero.")
    if given < 0 or wasted < 0:
        problems.append("Amounts given and wasted cannot be negative.")
    if drawn != given + wasted:
        problems.append(
            f"The amount drawn ({drawn} mg) must equal the amount given plus the waste ({given + wasted} mg)."
        )
    if wasted > 0:
        if witness is None:
            problems.append("Waste must be witnessed: name the witness.")
        elif witness.pk == by.pk:
            problems.append("The witness to the waste must be someone other than you.")
        elif not witness.is_active or witness.role not in STAFF_ROLES:
            problems.append("The witness must be an active member of staff.")
    if session is not None and not session.is_active:
        problems.append("A cancelled or missed session has no dose.")
    elif session is not None:
        problems.extend(cs_session_dose_problems(session, given))
    if problems:
        raise ValidationError(problems)
    lot = _locked_lot(lot)
    if not lot.product.is_active:
        raise ValidationError("That product is no longer stocked.")
    if lot.is_expired_on(timezone.localtime(at).date()):
        raise ValidationError(f"Lot {lot.lot_number} expired on {lot.expires_on.isoformat()}; use another lot.")
    on_hand = cs_lot_balance(lot)
    if drawn > on_hand:
        raise ValidationError(f"Lot {lot.lot_number} holds only {on_hand} mg.")
    common = {"lot": lot, "session": session, "at": at, "by": by}
    draw = CSLogEntry.objects.create(kind=CSLogEntry.Kind.DRAWN, amount_mg=drawn, note=note.strip(), **common)
    entries = [draw]
    if given > 0:
        entries.append(
            CSLogEntry.objects.create(kind=CSLogEntry.Kind.ADMINISTERED, amount_mg=given, draw=draw, **common)
        )
    if wasted > 0:
        entries.append(
            CSLogEntry.objects.create(
                kind=CSLogEntry.Kind.WASTED, amount_mg=wasted, draw=draw, witness=witness, **common
            )
        )
    return entries


@transaction.atomic
def cs_reconcile(*, lot: ProductLot, counted_mg, reason: str, by: User, at: datetime | None = None) -> CSLogEntry:
    """Record a physical count of a lot; any difference from the ledger becomes an adjustment that needs a reason."""
    _require(by, Role.ADMIN)
    counted = _mg(counted_mg, "physical count")
    if counted < 0:
        raise ValidationError("A physical count cannot be negative.")
    lot = _locked_lot(lot)
    difference = counted - cs_lot_balance(lot)
    reason = reason.strip()
    if difference != 0 and not reason:
        raise ValidationError(f"The count differs from the log by {difference} mg: give the reason for the adjustment.")
    return CSLogEntry.objects.create(
        lot=lot,
        kind=CSLogEntry.Kind.ADJUSTMENT,
        amount_mg=difference,
        counted_mg=counted,
        at=at or timezone.now(),
        by=by,
        note=reason or "Physical count matched the log.",
    )


# ---- Reads --------------------------------------------------------------------------------------


@dataclass
class ProductBalance:
    product: ControlledProduct
    lots: list[ProductLot] = field(default_factory=list)

    @property
    def balance_mg(self) -> Decimal:
        return sum((lot.balance_mg for lot in self.lots), ZERO)


def cs_balances(*, include_empty: bool = True) -> list[ProductBalance]:
    """Stock on hand per product and per lot, from one aggregate query (each lot carries `balance_mg`)."""
    lots = (
        ProductLot.objects.select_related("product")
        .annotate(balance_mg=Coalesce(Sum(stock_effect("entries__")), ZERO, output_field=_mg_field()))
        .order_by("product__name", "product__strength", "product_id", "expires_on", "lot_number")
    )
    products: dict[int, ProductBalance] = {}
    for lot in lots:
        if not include_empty and lot.balance_mg == 0:
            continue
        products.setdefault(lot.product_id, ProductBalance(product=lot.product)).lots.append(lot)
    return list(products.values())


def cs_lot_log(lot: ProductLot) -> QuerySet[CSLogEntry]:
    """The lot's ledger in time order, each row with its stock effect and the running balance after it."""
    order = ["at", "pk"]
    return (
        CSLogEntry.objects.filter(lot=lot)
        .select_related("by", "witness", "session__patient")
        .annotate(
            effect_mg=stock_effect(),
            running_mg=Window(Sum(stock_effect()), order_by=order),
        )
        .order_by(*order)
    )


def cs_lot_log_for_user(lot: ProductLot, user: User) -> list[CSLogEntry]:
    """The lot's ledger as this user reads it: a dose names its patient (chart number) only where the user may open
    that patient's record, and otherwise only its session number.

    Least privilege: accounting for stock needs to know which session each milligram went to, not whose session it
    was; a clinician sees their own patients' chart numbers, and other clinicians' patients by session alone.
    """
    return cs_entries_shown_to(list(cs_lot_log(lot)), user)


def cs_lot_log_latest_first(lot: ProductLot) -> QuerySet[CSLogEntry]:
    """The lot's ledger newest entry first, for paging (each row's running balance still counts in time order)."""
    return cs_lot_log(lot).order_by("-at", "-pk")


def cs_entries_shown_to(entries: list[CSLogEntry], user: User) -> list[CSLogEntry]:
    """Ledger rows marked with whether this user sees each dose's patient (see cs_lot_log_for_user)."""
    patient_ids = {entry.session.patient_id for entry in entries if entry.session_id}
    visible = (
        set(patients_visible_to(user).filter(pk__in=patient_ids).values_list("pk", flat=True)) if patient_ids else set()
    )
    for entry in entries:
        entry.shows_patient = entry.session_id is not None and entry.session.patient_id in visible
    return entries


@dataclass(frozen=True)
class LotTotals:
    received_mg: Decimal
    drawn_mg: Decimal
    administered_mg: Decimal
    wasted_mg: Decimal
    adjusted_mg: Decimal
    on_hand_mg: Decimal

    @property
    def balances(self) -> bool:
        """Every milligram is accounted for: what came in equals what was given, wasted and is still on hand."""
        accounted = self.drawn_mg == self.administered_mg + self.wasted_mg
        return accounted and self.received_mg + self.adjusted_mg - self.drawn_mg == self.on_hand_mg


def cs_lot_totals(lot: ProductLot) -> LotTotals:
    """Totals per kind and stock on hand for a lot, in one aggregate query."""
    kinds = CSLogEntry.Kind

    def total(kind):
        return Coalesce(Sum("amount_mg", filter=Q(kind=kind)), ZERO, output_field=_mg_field())

    row = CSLogEntry.objects.filter(lot=lot).aggregate(
        received=total(kinds.RECEIVED),
        drawn=total(kinds.DRAWN),
        administered=total(kinds.ADMINISTERED),
        wasted=total(kinds.WASTED),
        adjusted=total(kinds.ADJUSTMENT),
        on_hand=Coalesce(Sum(stock_effect()), ZERO, output_field=_mg_field()),
    )
    return LotTotals(**{f"{name}_mg": value.quantize(MILLIGRAM) for name, value in row.items()})


def get_lot_for_user(user: User, pk: int) -> ProductLot:
    """A lot, for the roles that keep the controlled-substance log; 404 otherwise."""
    if not user.has_role(*CS_ROLES):
        raise Http404("No such lot.")
    lot = ProductLot.objects.select_related("product", "received_by").filter(pk=pk).first()
    if lot is None:
        raise Http404("No such lot.")
    return lot
