"""Charges, each exactly once: a completed dosing session's codes (one row per session and code, held unique by the
database, so a retried or raced completion adds nothing), and the clinic's late-cancellation and no-show fees.

Driven by `sessions.signals.session_status_changed`, in the transaction that completes, cancels or marks the
session; each row is saved in its own savepoint (the audit log records it against the patient), and one refused by
the unique key is a twin already there, so two completions racing leave one set of charges. A held integration
session (announced by aftercare, handed over in composition) is charged its psychotherapy code the same way.

A service with a code the fee schedule has no active price for is charged what is priced and recorded as waiting
(`UnpricedService`, one open record per session held by the database), with one "no price" alert for billing staff;
saving a price charges each waiting service, resolves its record and closes its alert (`uncharged_sessions_charge`).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.alerts import staff_alerts_acknowledge
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import billing_codes, sliding_scale
from sessions.models import DosingSession
from sessions.signals import session_status_changed

from ..alerts import bill_alert_raise
from ..coverage import dose_mg
from ..ledger_models import Charge, UnpricedService
from .estimate_alerts import estimate_alerts_raise
from .fees import fee_lookup
from .sliding_scale import current_discount

LATE_CANCEL_CODE = "LATE-CANCEL"
NO_SHOW_CODE = "NO-SHOW"


@dataclass(frozen=True)
class Line:
    code: str
    units: Decimal


def charge_lines(*, route: str, dose_mg: Decimal | None, infusion_minutes: int | None = None) -> list[Line]:
    """The charge lines of a completed dosing session (the codes are `billing_codes.charge_codes`)."""
    codes = billing_codes.charge_codes(route, dose_mg, infusion_minutes)
    return [Line(code, Decimal(units)) for code, units in codes.items()]


def _session_lines(session: DosingSession) -> tuple[Decimal | None, list[Line]]:
    """The milligrams given (one reading for charges and authorizations: `coverage.dose_mg`, top-ups included) and
    the charge lines they and the infusion minutes make."""
    given = getattr(session, "dose_administration", None)
    mg_given = dose_mg(session)
    minutes = given.infusion_minutes if given is not None else None
    return mg_given, charge_lines(route=session.protocol.route, dose_mg=mg_given, infusion_minutes=minutes)


def _charge(
    session: DosingSession, *, code: str, units: Decimal, kind: str, discount: int, mg: Decimal | None = None
) -> Charge | None:
    fee = fee_lookup(code, route=session.protocol.route)
    if fee is None:
        return None
    if fee.unit == fee.Unit.MG and mg:
        units = Decimal(billing_codes.milligram_units(mg))  # priced per milligram: the milligrams given
    list_amount = (fee.price * units).quantize(Decimal("0.01"))
    return Charge(
        patient_id=session.patient_id,
        session=session,
        kind=kind,
        code=code,
        description=fee.description,
        service_date=timezone.localtime(session.starts_at).date(),
        units=units,
        unit_price=fee.price,
        list_amount=list_amount,
        discount_percent=discount,
        amount=sliding_scale.discounted(list_amount, discount),
    )


def _fee(session: DosingSession, *, code: str, kind: str, amount: Decimal, description: str) -> Charge:
    return Charge(
        patient_id=session.patient_id,
        session=session,
        kind=kind,
        code=code,
        description=description,
        service_date=timezone.localtime(session.starts_at).date(),
        units=Decimal(1),
        unit_price=amount,
        list_amount=amount,
        amount=amount,
    )


def _already_charged(row: Charge) -> bool:
    if row.session_id is not None:
        return Charge.objects.filter(session_id=row.session_id, code=row.code).exists()
    if row.integration_session_id is not None:
        return Charge.objects.filter(integration_session_id=row.integration_session_id, code=row.code).exists()
    return False


def _insert_once(rows: list[Charge]) -> list[Charge]:
    """Save each new row on its own (so the audit log records each charge on the patient's record), inside a
    savepoint: a repeat, or a racing twin that inserted first (`charge_once_per_session_code`), adds nothing and
    leaves the caller's transaction intact. Returns the rows inserted."""
    inserted = []
    for row in rows:
        if row is None:
            continue
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            if not _already_charged(row):  # another constraint refused it: not a twin, so a real error
                raise
        else:
            inserted.append(row)
    return inserted


def session_charges_post(*, session: DosingSession) -> list[Charge]:
    """The completed session's charges, created the first time and left as they are after that; when the plan's
    charges reach $400 or more above its good-faith estimate, the front office is alerted (once per estimate)."""
    session = (
        DosingSession.objects.select_related("protocol", "dose_administration")
        .prefetch_related("dose_top_ups")
        .get(pk=session.pk)
    )
    if session.status != DosingSession.Status.COMPLETED:
        raise ValidationError("Only a completed session is charged for its services.")
    mg_given, lines = _session_lines(session)
    discount = current_discount(session.patient_id, on=timezone.localtime(session.starts_at).date())
    rows = [
        (
            line.code,
            _charge(
                session, code=line.code, units=line.units, kind=Charge.Kind.SERVICE, discount=discount, mg=mg_given
            ),
        )
        for line in lines
    ]
    _insert_once([row for _, row in rows])
    unpriced = [code for code, row in rows if row is None]
    if unpriced:  # not those charged before, when they had a price
        charged = set(Charge.objects.filter(session=session, code__in=unpriced).values_list("code", flat=True))
        unpriced = [code for code in unpriced if code not in charged]
    if unpriced:
        record = _unpriced_record(
            patient_id=session.patient_id,
            session=session,
            service_date=timezone.localtime(session.starts_at).date(),
            route=session.protocol.route,
        )
        _fee_missing_alert(record, unpriced, what=session.protocol.get_route_display(), service="session")
    estimate_alerts_raise(session.plan_id)
    return list(Charge.objects.filter(session=session, kind=Charge.Kind.SERVICE))


def _unpriced_record(**fields) -> UnpricedService:
    """The service's open "waiting for a price" record, created the first time (in a savepoint: a racing twin refused
    by the one-open-record keys leaves the caller's transaction intact, and its row is the one returned)."""
    service = (
        {"session": fields["session"]}
        if fields.get("session") is not None
        else {"integration_session_id": fields["integration_session_id"]}
    )
    open_records = UnpricedService.objects.filter(resolved_at__isnull=True, **service)
    record = open_records.first()
    if record is not None:
        return record
    try:
        with transaction.atomic():
            return UnpricedService.objects.create(**fields)
    except IntegrityError:
        record = open_records.first()
        if record is None:  # another constraint refused it: not a twin, so a real error
            raise
        return record


def _fee_missing_alert(record: UnpricedService, codes: list[str], *, what: str, service: str) -> None:
    """Billing staff are told that a service could not be charged in full: a code it bills has no active price (for
    its route, or its minutes). Raised once per service, from its open record; closed when an admin sets the price
    (`uncharged_sessions_charge`)."""
    bill_alert_raise(
        kind=StaffAlert.Kind.FEE_MISSING,
        key=record.alert_key,
        patient_id=record.patient_id,
        summary=(
            f"No price in the fee schedule for {', '.join(codes)} ({what}): the {service} of "
            f"{record.service_date:%Y-%m-%d} is not charged for it until an admin sets the price"
        ),
    )


@transaction.atomic
def uncharged_sessions_charge(*, by) -> list[UnpricedService]:
    """Charge the services left uncharged for want of a price (their records still open), now that an admin has set
    one: each gets what the fee schedule now prices, exactly once, and its record is resolved and its alert closed
    once nothing it bills is left without a price. Called where fee schedule prices are saved (the open records are
    locked, so two admins saving at once charge each service once). Returns the records resolved now."""
    resolved = []
    for record in UnpricedService.objects.select_for_update().filter(resolved_at__isnull=True).order_by("pk"):
        if record.session_id is not None:
            session = DosingSession.objects.get(pk=record.session_id)
            if session.status != DosingSession.Status.COMPLETED:
                continue
            session_charges_post(session=session)
            if _unpriced_codes(session):
                continue
        else:
            charged = _integration_charge(
                patient_id=record.patient_id,
                integration_session_id=record.integration_session_id,
                minutes=record.minutes,
                day=record.service_date,
                route=record.route,
            )
            if not charged:
                continue
        record.resolved_at = timezone.now()
        record.save(update_fields=["resolved_at"])
        staff_alerts_acknowledge(key_prefix=record.alert_key, by=by)
        resolved.append(record)
    return resolved


def _unpriced_codes(session: DosingSession) -> list[str]:
    """The codes the completed session bills that are not charged yet (for want of a price)."""
    session = (
        DosingSession.objects.select_related("protocol", "dose_administration")
        .prefetch_related("dose_top_ups")
        .get(pk=session.pk)
    )
    _, lines = _session_lines(session)
    charged = set(Charge.objects.filter(session=session).values_list("code", flat=True))
    return [line.code for line in lines if line.code not in charged]


def cancellation_fee_post(*, session: DosingSession, cancelled_at=None) -> Charge | None:
    """The late-cancellation fee, when the clinic charges one and the patient cancelled inside its window (a session
    the clinic cancelled never costs the patient anything)."""
    if session.cancelled_by != DosingSession.CancelledBy.PATIENT:
        return None
    policy = ClinicSettings.load()
    cancelled_at = cancelled_at or timezone.now()
    if policy.late_cancel_fee <= 0:
        return None
    if (session.starts_at - cancelled_at).total_seconds() >= policy.late_cancel_hours * 3600:
        return None
    _insert_once(
        [
            _fee(
                session,
                code=LATE_CANCEL_CODE,
                kind=Charge.Kind.LATE_CANCEL,
                amount=policy.late_cancel_fee,
                description=f"Cancelled less than {policy.late_cancel_hours} hours before the session",
            )
        ]
    )
    return Charge.objects.get(session=session, code=LATE_CANCEL_CODE)


def no_show_fee_post(*, session: DosingSession) -> Charge | None:
    policy = ClinicSettings.load()
    if policy.no_show_fee <= 0:
        return None
    _insert_once(
        [
            _fee(
                session,
                code=NO_SHOW_CODE,
                kind=Charge.Kind.NO_SHOW,
                amount=policy.no_show_fee,
                description="Missed session (no-show)",
            )
        ]
    )
    return Charge.objects.get(session=session, code=NO_SHOW_CODE)


def integration_charges_post(
    *, patient_id: int, integration_session_id: int, minutes: int, starts_at, route: str = ""
) -> list[Charge]:
    """A held integration session's psychotherapy code by its minutes (CPT time rule), charged once; under 16
    minutes nothing is billable. A code without an active price is recorded as waiting for one, with a "no price"
    alert for billing staff (once), and charged when an admin sets the price (`uncharged_sessions_charge`)."""
    return _integration_charge(
        patient_id=patient_id,
        integration_session_id=integration_session_id,
        minutes=minutes,
        day=timezone.localtime(starts_at).date(),
        route=route,
    )


def _integration_charge(*, patient_id: int, integration_session_id: int, minutes: int, day, route: str) -> list[Charge]:
    code = billing_codes.psychotherapy_code(minutes)
    if code is None:
        return []
    charged = list(Charge.objects.filter(integration_session_id=integration_session_id))
    if charged:
        return charged
    fee = fee_lookup(code, route=route, minutes=minutes)
    if fee is None:
        record = _unpriced_record(
            patient_id=patient_id,
            integration_session_id=integration_session_id,
            service_date=day,
            minutes=minutes,
            route=route,
        )
        _fee_missing_alert(record, [code], what=f"{minutes} minutes", service="integration session")
        return []
    discount = current_discount(patient_id, on=day)
    _insert_once(
        [
            Charge(
                patient_id=patient_id,
                integration_session_id=integration_session_id,
                code=fee.code,
                description=fee.description,
                service_date=day,
                units=Decimal(1),
                unit_price=fee.price,
                list_amount=fee.price,
                discount_percent=discount,
                amount=sliding_scale.discounted(fee.price, discount),
            )
        ]
    )
    return list(Charge.objects.filter(integration_session_id=integration_session_id))


def _on_status_changed(sender, *, session, from_status, to_status, **kwargs) -> None:
    if to_status == DosingSession.Status.COMPLETED:
        session_charges_post(session=session)
    elif to_status == DosingSession.Status.CANCELLED:
        cancellation_fee_post(session=session)
    elif to_status == DosingSession.Status.NO_SHOW:
        no_show_fee_post(session=session)


def connect_charge_signals() -> None:
    session_status_changed.connect(_on_status_changed, dispatch_uid="billing.charges_on_session_status")
