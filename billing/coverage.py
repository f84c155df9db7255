"""Coverage: each patient's insurance policies or self-pay, the units a session uses of an authorization (the payer's
units, per code: `kap_clinic.rules.billing_codes`), and the forecast shown beside every booking.

The forecast is the booking check billing registers with the sessions booking core (`sessions.scheduling.checks`):
for each approved authorization of the patient whose codes the planned sessions bill, the units used, the units of
the sessions already booked and of those being planned, against the units authorized and its dates. Planned sessions
beyond the units or outside the dates are a warning, and so are an insured patient's sessions billing codes that need
an authorization (`kap_clinic.rules.billing_codes.AUTHORIZATION_REQUIRED_CODES`) when no authorization covers them.
When the clinic's `authorization_hard_stop` is on, a booking or change that makes one of these worse than it was is
refused unless staff write why (recorded as an `AuthorizationOverride`).
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.rules.billing_codes import covers, needs_authorization, session_codes, units_under
from patients.models import Patient
from sessions.models import DosingSession, Protocol
from sessions.scheduling.checks import BookingForecast, PlannedSession

from .models import AuthorizationOverride, InsurancePolicy, PriorAuthorization, SelfPay
from .roles import WORKING_ROLES

POLICY_FIELDS = (
    "payer",
    "plan_name",
    "member_id",
    "group_id",
    "subscriber_name",
    "subscriber_relationship",
    "effective_from",
    "effective_to",
    "rank",
    "is_active",
)


def _check_worker(by: User) -> None:
    if not by.has_role(*WORKING_ROLES):
        raise PermissionDenied("Only intake staff and admins record coverage.")


# ---- Policies and self-pay ------------------------------------------------------------------------------------------


def _save_policy(policy: InsurancePolicy) -> InsurancePolicy:
    problems = []
    if policy.effective_to and policy.effective_to < policy.effective_from:
        problems.append("The policy cannot end before it starts.")
    if not policy.member_id.strip():
        problems.append("Enter the member ID.")
    if policy.is_active and policy.rank == InsurancePolicy.Rank.PRIMARY:
        other = InsurancePolicy.objects.filter(patient_id=policy.patient_id, rank="primary", is_active=True)
        if other.exclude(pk=policy.pk).exists():
            problems.append("The patient already has an active primary policy: make it inactive or secondary first.")
    if problems:
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:  # a primary added at the same moment by someone else
        raise ValidationError("The patient already has an active primary policy.") from exc
    return policy


@transaction.atomic
def policy_create(*, patient: Patient, by: User, **fields) -> InsurancePolicy:
    """Add an insurance policy; the patient is no longer self-pay once an active policy is on file."""
    _check_worker(by)
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one writer of a patient's coverage at a time
    policy = InsurancePolicy(patient=patient, updated_by=by, **{k: v for k, v in fields.items() if k in POLICY_FIELDS})
    _save_policy(policy)
    if policy.is_active:
        SelfPay.objects.filter(patient=patient).delete()
    return policy


@transaction.atomic
def policy_update(*, policy: InsurancePolicy, by: User, **fields) -> InsurancePolicy:
    _check_worker(by)
    Patient.objects.select_for_update().filter(pk=policy.patient_id).first()
    locked = InsurancePolicy.objects.select_for_update().get(pk=policy.pk)
    for name, value in fields.items():
        if name not in POLICY_FIELDS:
            raise TypeError(f"Not editable: {name}")
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.updated_by = by
    return _save_policy(locked)


@transaction.atomic
def self_pay_set(*, patient: Patient, by: User, since: date, note: str = "") -> SelfPay:
    """Record the patient as self-pay: their active policies are made inactive (kept for the record)."""
    _check_worker(by)
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    for policy in InsurancePolicy.objects.filter(patient=patient, is_active=True):
        policy.is_active = False
        policy.updated_by = by
        policy.save(update_fields=["is_active", "updated_by", "updated_at"])
    row, _ = SelfPay.objects.update_or_create(
        patient=patient, defaults={"since": since, "note": note.strip()[:300], "recorded_by": by}
    )
    return row


def coverage_of(patient: Patient) -> dict:
    """The patient's coverage for the chart: active policies (primary first), inactive ones, or self-pay."""
    policies = list(InsurancePolicy.objects.filter(patient=patient).select_related("payer"))
    return {
        "active": [p for p in policies if p.is_active],
        "inactive": [p for p in policies if not p.is_active],
        "self_pay": SelfPay.objects.filter(patient=patient).first(),
    }


def self_pay_filter(on: date, *, patient: str = "patient_id") -> Q:
    """The self-pay rule as a filter on rows that name a patient (`patient` is the field holding its id): recorded as
    self-pay, or with no active insurance policy in force on `on` (uninsured). `is_self_pay` asks it of one patient;
    a daily check asks it of all its rows in the same query."""
    in_force = InsurancePolicy.objects.filter(
        patient_id=OuterRef(patient), is_active=True, effective_from__lte=on
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
    return Q(**{f"{patient}__in": SelfPay.objects.values("patient_id")}) | ~Exists(in_force)


def is_self_pay(patient_id: int, *, on: date | None = None) -> bool:
    """Whether the patient pays for their own care on `on` (today unless given): recorded as self-pay, or with no
    active insurance policy in force that day (uninsured). Good-faith estimates are owed to these patients only."""
    on = on or timezone.localdate()
    return Patient.objects.filter(pk=patient_id).filter(self_pay_filter(on, patient="pk")).exists()


# ---- Units per code -------------------------------------------------------------------------------------------------


def units_sessions(sessions: QuerySet[DosingSession]) -> Iterable[DosingSession]:
    """The sessions with what their units depend on (the route, the dose given or planned) loaded in a few queries."""
    return sessions.select_related("protocol", "dose_administration").prefetch_related(Prefetch("dose_top_ups"))


def dose_mg(session: DosingSession) -> Decimal | None:
    """The milligrams given (the dose and any top-ups), or the planned dose for a fixed-dose protocol not yet given."""
    given = getattr(session, "dose_administration", None)
    if given is not None:
        return given.dose_mg_given + sum((t.dose_mg for t in session.dose_top_ups.all()), Decimal(0))
    if session.protocol.dose_unit == Protocol.DoseUnit.MG:
        return session.planned_dose
    return None


def billed_codes(session: DosingSession) -> dict[str, int]:
    return session_codes(session.protocol.route, dose_mg(session))


def session_units(codes: list[str], session: DosingSession) -> int:
    """The units this session uses of an authorization for `codes`."""
    return units_under(codes, billed_codes(session))


def _planned_codes(planned: PlannedSession) -> dict[str, int]:
    mg = planned.dose if planned.dose_unit == Protocol.DoseUnit.MG else None
    return session_codes(planned.route, mg)


def units_used(authorization: PriorAuthorization) -> int:
    """Units used by the patient's sessions that took place (checked in or later) on a clinic-local day inside the
    authorization's dates and bill one of its codes."""
    if authorization.starts_on is None or authorization.ends_on is None:
        return 0
    sessions = DosingSession.objects.filter(
        patient_id=authorization.patient_id,
        status__in=DosingSession.TREATED_STATUSES,  # a session uses a unit once the patient has arrived
        starts_at__gte=_day_start(authorization.starts_on),
        starts_at__lt=_day_start(authorization.ends_on + timedelta(days=1)),
    )
    return sum(session_units(authorization.codes, session) for session in units_sessions(sessions))


# ---- The forecast beside every booking -----------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def working_authorizations(patient_id: int, *, today: date) -> QuerySet[PriorAuthorization]:
    """The patient's approved authorizations still running (an expired one drops out of the working lists)."""
    return PriorAuthorization.objects.filter(
        patient_id=patient_id, status=PriorAuthorization.Status.APPROVED, ends_on__gte=today
    ).select_related("payer")


def _inside(authorization: PriorAuthorization, planned: PlannedSession) -> bool:
    return authorization.starts_on <= _local_day(planned.starts_at) <= authorization.ends_on


def _booked_from(patient_id: int, today: date) -> list[PlannedSession]:
    """The patient's sessions still booked from today, as the checks read them (the bookings as they stand)."""
    sessions = DosingSession.objects.filter(
        patient_id=patient_id, status=DosingSession.Status.SCHEDULED, starts_at__gte=_day_start(today)
    ).select_related("protocol")
    return [
        PlannedSession(
            starts_at=s.starts_at, route=s.protocol.route, dose=s.planned_dose, dose_unit=s.protocol.dose_unit, pk=s.pk
        )
        for s in sessions.order_by("starts_at")
    ]


def _days(sessions: list[PlannedSession]) -> str:
    return ", ".join(f"{_local_day(p.starts_at):%d %b %Y}" for p in sessions[:5]) + ("…" if len(sessions) > 5 else "")


def _forecast_one(
    authorization: PriorAuthorization,
    planned: list[PlannedSession],
    moving: set[int],
    today: date,
    booked_now: list[PlannedSession],
) -> tuple[BookingForecast, bool] | None:
    """The authorization's forecast, and whether the booking makes it worse than before (more units over, or a
    session newly outside its dates); None when the sessions being booked bill none of its codes."""
    codes = authorization.codes
    relevant = [p for p in planned if covers(codes, _planned_codes(p))]
    if planned and not relevant:
        return None  # the sessions being booked bill none of its codes
    inside = [p for p in relevant if _inside(authorization, p)]
    outside = [p for p in relevant if p not in inside]
    booked_qs = DosingSession.objects.filter(
        patient_id=authorization.patient_id,
        status=DosingSession.Status.SCHEDULED,
        starts_at__gte=_day_start(max(today, authorization.starts_on)),
        starts_at__lt=_day_start(authorization.ends_on + timedelta(days=1)),
    ).exclude(pk__in=moving)
    booked = sum(session_units(codes, s) for s in units_sessions(booked_qs))
    planned_units = sum(units_under(codes, _planned_codes(p)) for p in inside)
    # The same sessions as they were booked until now (nothing for a new booking): the baseline a change is held to.
    before_units = sum(
        units_under(codes, _planned_codes(p.before)) for p in planned if p.before and _inside(authorization, p.before)
    )
    total = authorization.units_authorized or 0
    used = units_used(authorization)  # counted now: the forecast does not wait for the daily check
    problems = []
    over = used + booked + planned_units - total
    if over > 0:
        problems.append(
            f"{over} unit{'s' if over != 1 else ''} more than the {total} authorized would be used "
            f"({used} used, {booked} booked, {planned_units} in this booking)."
        )
    if not planned:
        # The bookings as they stand: sessions already booked after the last day (or before the first) that bill its
        # codes.
        outside = [p for p in booked_now if covers(codes, _planned_codes(p)) and not _inside(authorization, p)]
    if outside:
        problems.append(
            f"{len(outside)} session{'s' if len(outside) != 1 else ''} fall outside the authorized dates "
            f"({authorization.starts_on:%d %b %Y} to {authorization.ends_on:%d %b %Y}): {_days(outside)}."
        )
    if planned:
        over_before = used + booked + before_units - total
        newly_outside = [
            p
            for p in outside
            if p.before is None or not covers(codes, _planned_codes(p.before)) or _inside(authorization, p.before)
        ]
        worse = (over > 0 and over > over_before) or bool(newly_outside)
    else:
        worse = bool(problems)
    forecast = BookingForecast(
        title=f"Authorization {authorization.reference or '#' + str(authorization.pk)} ({authorization.payer.name})",
        link=reverse("billing:authorization_detail", kwargs={"pk": authorization.pk}),
        total=total,
        used=used,
        booked=booked,
        planned=planned_units,
        window=f"{authorization.starts_on:%d %b %Y} to {authorization.ends_on:%d %b %Y}",
        problems=tuple(problems),
        blocking=False,
        reference_id=authorization.pk,
    )
    return forecast, worse


NO_AUTHORIZATION = "No authorization covers these sessions"


def _needs_authorization(billed: dict[str, int]) -> bool:
    return any(needs_authorization(code) for code in billed)


def _uncovered_forecast(
    patient_id: int,
    planned: list[PlannedSession],
    authorizations: list[PriorAuthorization],
    today: date,
    booked_now: list[PlannedSession],
) -> tuple[BookingForecast, bool] | None:
    """An insured patient's sessions that bill codes needing an authorization which none of their running approved
    authorizations covers; None when there are none, or for a self-pay patient. Worse than before when a session is
    newly without one (a new booking, or a change of dose or date that left its authorization behind)."""

    def covered(billed: dict[str, int]) -> bool:
        return any(covers(authorization.codes, billed) for authorization in authorizations)

    sessions = planned or booked_now
    uncovered = [p for p in sessions if _needs_authorization(codes := _planned_codes(p)) and not covered(codes)]
    if not uncovered or is_self_pay(patient_id, on=today):
        return None
    newly = [
        p
        for p in uncovered
        if p.before is None or not _needs_authorization(codes := _planned_codes(p.before)) or covered(codes)
    ]
    billed = sorted({code for p in uncovered for code in _planned_codes(p) if needs_authorization(code)})
    count = f"{len(uncovered)} session bills" if len(uncovered) == 1 else f"{len(uncovered)} sessions bill"
    forecast = BookingForecast(
        title="Insurance authorization",
        link=reverse("billing:patient_authorizations", kwargs={"patient_pk": patient_id}),
        total=0,
        used=0,
        booked=0,
        planned=0,
        window="",
        problems=(
            f"{NO_AUTHORIZATION}: {count} {', '.join(billed)}, which the insurer pays only with a prior "
            f"authorization ({_days(uncovered)}).",
        ),
        measured=False,
    )
    return forecast, bool(newly) if planned else True


def authorization_forecasts(
    *, patient_id: int, planned: list[PlannedSession], moving: Iterable[int] = (), today: date | None = None
) -> list[BookingForecast]:
    """The forecast of each running authorization of the patient that the planned sessions would use (all of them
    when nothing is being planned), and a problem when an insured patient's sessions need an authorization none
    covers. Blocking when the clinic's hard stop is on and the booking makes a problem worse than it was (with nothing
    planned, the bookings as they stand: blocking whenever a problem is found)."""
    today = today or timezone.localdate()
    hard_stop = ClinicSettings.load().authorization_hard_stop
    moving = set(moving)
    authorizations = list(working_authorizations(patient_id, today=today))
    booked_now = [] if planned else _booked_from(patient_id, today)
    found = [_forecast_one(authorization, planned, moving, today, booked_now) for authorization in authorizations]
    found.append(_uncovered_forecast(patient_id, planned, authorizations, today, booked_now))
    forecasts = []
    for pair in found:
        if pair is None:
            continue
        forecast, worse = pair
        if hard_stop and forecast.problems and worse:
            forecast = forecast.blocked()
        forecasts.append(forecast)
    return forecasts


def authorization_booking_check(
    *,
    patient_id: int,
    planned: list[PlannedSession],
    moving: Iterable[int] = (),
    override_reason: str = "",
    by: User | None = None,
    commit: bool = False,
) -> list[BookingForecast]:
    """The booking check registered with the sessions booking core. On a booking that goes ahead past a hard stop
    with a written reason, the override is recorded (who, when, why and what it passed)."""
    forecasts = authorization_forecasts(patient_id=patient_id, planned=planned, moving=moving)
    blocking = [f for f in forecasts if f.blocking]
    if commit and blocking and override_reason.strip() and by is not None:
        for forecast in blocking:
            AuthorizationOverride.objects.create(
                patient_id=patient_id,
                authorization_id=forecast.reference_id,
                reason=override_reason.strip(),
                problems=list(forecast.problems),
                by=by,
            )
    return forecasts


def units_booked_total(authorization: PriorAuthorization) -> int:
    """Units of the sessions still booked inside the authorization's dates (for the daily check)."""
    qs = DosingSession.objects.filter(
        patient_id=authorization.patient_id,
        status=DosingSession.Status.SCHEDULED,
        starts_at__gte=_day_start(authorization.starts_on),
        starts_at__lt=_day_start(authorization.ends_on + timedelta(days=1)),
    )
    return sum(session_units(authorization.codes, s) for s in units_sessions(qs))
