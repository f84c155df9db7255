"""Prior authorizations: entering them, moving them through their statuses, counting units and warning staff.

Units used (docs/clinical-references.md#prior-authorization): one unit per dosing session of the patient that took place
(checked in, in progress or completed) on a clinic-local date inside [starts_on, ends_on]. A scheduled, cancelled or
no-show session uses nothing. Drug-unit codes (J0013 is billed per mg: 56 mg is 56 units) need the dose on a claim,
which comes with claims; until then an authorization counts sessions, and staff enter `units_authorized` in sessions.
The count is written by the daily sweep and by staff's explicit "count again", never while a page is read.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.notifications.alerts import staff_alert_raise, staff_alerts_acknowledge
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.kernel.validation import AUTHORIZATION_MAX_DAYS, EARLIEST_CLINIC_DATE, LATEST_DATE
from patients.models import Patient
from sessions.models import DosingSession
from sessions.signals import session_status_changed

from .coverage import session_units, units_sessions, units_used
from .models import AuthorizationStatusChange, Payer, PriorAuthorization
from .roles import WORKING_ROLES  # noqa: F401 (staff who enter and work authorizations; views read it here)

Status = PriorAuthorization.Status

# The one place that says which status may follow which: draft → submitted → (pended →) approved | denied;
# denied → appealed → approved | denied | pended; approved → expired; anything open → cancelled.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.CANCELLED}),
    Status.SUBMITTED: frozenset({Status.PENDED, Status.APPROVED, Status.DENIED, Status.CANCELLED}),
    Status.PENDED: frozenset({Status.APPROVED, Status.DENIED, Status.CANCELLED}),
    Status.DENIED: frozenset({Status.APPEALED}),
    Status.APPEALED: frozenset({Status.PENDED, Status.APPROVED, Status.DENIED, Status.CANCELLED}),
    Status.APPROVED: frozenset({Status.EXPIRED, Status.CANCELLED}),
    Status.EXPIRED: frozenset(),
    Status.CANCELLED: frozenset(),
}
EDITABLE_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.PENDED, Status.APPEALED, Status.APPROVED)
# Waiting for the payer's answer: followed up after the payer's number of days.
AWAITING_STATUSES = (Status.SUBMITTED, Status.PENDED, Status.APPEALED)
# The payer's answer needs its reason written down.
NEEDS_REASON = (Status.DENIED, Status.PENDED, Status.APPEALED)

REQUEST_FIELDS = ("policy", "units_requested", "requested_starts_on", "requested_ends_on", "diagnoses", "justification")
EDIT_FIELDS = (
    "payer",
    "reference",
    "codes",
    "units_authorized",
    "starts_on",
    "ends_on",
    "notes",
    "policy",
    "units_requested",
    "requested_starts_on",
    "requested_ends_on",
    "diagnoses",
    "justification",
)


def _check_worker(by: User) -> None:
    if not by.has_role(*WORKING_ROLES):
        raise PermissionDenied("Only intake staff and admins work authorizations.")


def _approval_problems(authorization: PriorAuthorization) -> list[str]:
    problems = []
    if not authorization.reference.strip():
        problems.append("An approved authorization needs the payer's authorization number.")
    if authorization.starts_on is None or authorization.ends_on is None:
        problems.append("An approved authorization needs its first and last day.")
    if not authorization.units_authorized:
        problems.append("An approved authorization needs the number of units approved.")
    return problems


def _check_fields(authorization: PriorAuthorization) -> None:
    problems = []
    if not authorization.payer.is_active and authorization.status in (Status.DRAFT, Status.SUBMITTED):
        problems.append("That payer is no longer in use.")
    if authorization.starts_on and authorization.ends_on and authorization.starts_on > authorization.ends_on:
        problems.append("The last day must not be before the first day.")
    for day in (authorization.starts_on, authorization.ends_on):
        if day and not EARLIEST_CLINIC_DATE <= day <= LATEST_DATE:
            problems.append(f"{day:%d %b %Y} is not a plausible date for an authorization.")
    if (
        authorization.starts_on
        and authorization.ends_on
        and (authorization.ends_on - authorization.starts_on).days > AUTHORIZATION_MAX_DAYS
    ):
        problems.append("An authorization covers at most three years: check the first and last day.")
    if authorization.status == Status.APPROVED:
        problems += _approval_problems(authorization)
    if authorization.policy_id and authorization.policy.patient_id != authorization.patient_id:
        problems.append("That policy is another patient's.")
    if (
        authorization.requested_starts_on
        and authorization.requested_ends_on
        and authorization.requested_starts_on > authorization.requested_ends_on
    ):
        problems.append("The last day requested must not be before the first.")
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def authorization_create(
    *,
    patient: Patient,
    payer: Payer,
    by: User,
    reference: str = "",
    codes: list[str] | None = None,
    units_authorized: int | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    notes: str = "",
    **request,
) -> PriorAuthorization:
    """A new draft authorization for the patient, entered by intake staff or an admin; `request` takes the request's
    fields (policy, units requested, dates requested, diagnoses, justification)."""
    _check_worker(by)
    unknown = set(request) - set(REQUEST_FIELDS)
    if unknown:
        raise TypeError(f"Not a request field: {', '.join(sorted(unknown))}")
    authorization = PriorAuthorization(
        patient=patient,
        payer=payer,
        reference=reference.strip(),
        codes=list(codes or []),
        units_authorized=units_authorized,
        starts_on=starts_on,
        ends_on=ends_on,
        notes=notes.strip(),
        created_by=by,
        **{k: v.strip() if isinstance(v, str) else v for k, v in request.items()},
    )
    _check_fields(authorization)
    authorization.save()
    return authorization


@transaction.atomic
def authorization_update(*, authorization: PriorAuthorization, by: User, **fields) -> PriorAuthorization:
    """Change an open authorization's details; an approved one keeps its number, dates and units.

    Extending an approved authorization (a later end, more units) gives the sweep new warning keys, so staff are
    warned again as the extension runs out.
    """
    _check_worker(by)
    unknown = set(fields) - set(EDIT_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    locked = PriorAuthorization.objects.select_for_update().get(pk=authorization.pk)
    if locked.status not in EDITABLE_STATUSES:
        raise ValidationError(f"A {locked.get_status_display().lower()} authorization can no longer be changed.")
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    _check_fields(locked)
    locked.save()
    return locked


def _set_status(authorization: PriorAuthorization, to: str, *, by: User | None, note: str = "") -> PriorAuthorization:
    AuthorizationStatusChange.objects.create(
        authorization=authorization, from_status=authorization.status, to_status=to, changed_by=by, note=note[:300]
    )
    authorization.status = to
    authorization.save(update_fields=["status", "updated_at"])
    return authorization


@transaction.atomic
def authorization_transition(
    *, authorization: PriorAuthorization, to: str, by: User, note: str = ""
) -> PriorAuthorization:
    """Move an authorization one allowed step (draft → submitted → approved | denied; approved → expired |
    cancelled; draft or submitted → cancelled), recording who and when; approval needs number, dates and units."""
    _check_worker(by)
    locked = PriorAuthorization.objects.select_for_update().select_related("payer").get(pk=authorization.pk)
    if to not in TRANSITIONS.get(locked.status, ()):
        current = locked.get_status_display().lower()
        raise ValidationError(f"A {current} authorization cannot be marked {Status(to).label.lower()}.")
    if to == Status.APPROVED:
        problems = _approval_problems(locked)
        if problems:
            raise ValidationError(problems)
    if to in NEEDS_REASON and not note.strip():
        raise ValidationError(f"Write the reason it is {Status(to).label.lower()}.")
    if to in (Status.DENIED, Status.PENDED):
        locked.decision_reason = note.strip()
        locked.save(update_fields=["decision_reason", "updated_at"])
    if to == Status.SUBMITTED and locked.submitted_at is None:
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["submitted_at", "updated_at"])
    _set_status(locked, to, by=by, note=note.strip())
    if to in (Status.EXPIRED, Status.CANCELLED):
        # Staff ended it by hand: its "running out" warnings are answered and leave the home pages.
        staff_alerts_acknowledge(key_prefix=f"authorization-{locked.pk}-", by=by)
    if to == Status.APPROVED:
        _count_units(locked)  # sessions already given inside the approved dates count from the start
    return locked


def _day_start(day: date) -> datetime:
    """The aware moment the clinic's local day begins (midnight in TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def units_used_count(authorization: PriorAuthorization) -> int:
    """The units used by sessions of the patient that took place on a clinic-local day inside the authorization's
    dates and bill one of its codes, in the payer's units (`kap_clinic.rules.billing_codes.units_under`)."""
    return units_used(authorization)


def _count_units(authorization: PriorAuthorization) -> PriorAuthorization:
    authorization.units_used = units_used_count(authorization)
    authorization.units_counted_at = timezone.now()
    authorization.save(update_fields=["units_used", "units_counted_at", "updated_at"])
    return authorization


@transaction.atomic
def authorization_units_refresh(*, authorization: PriorAuthorization, by: User) -> PriorAuthorization:
    """Count the units used again now, at staff's request."""
    _check_worker(by)
    locked = PriorAuthorization.objects.select_for_update().get(pk=authorization.pk)
    if locked.starts_on is None or locked.ends_on is None:
        raise ValidationError("Enter the authorization's first and last day before counting its units.")
    return _count_units(locked)


def authorization_units_recount_for_session(*, session: DosingSession) -> list[PriorAuthorization]:
    """Count again the units of the patient's approved authorizations covering the session's day, as its check-in
    (a unit used) or the undoing of it (the unit given back) changes them. Called in the changing transaction."""
    day = timezone.localtime(session.starts_at).date()
    covering = PriorAuthorization.objects.select_for_update().filter(
        patient_id=session.patient_id,
        status=PriorAuthorization.Status.APPROVED,
        starts_on__lte=day,
        ends_on__gte=day,
    )
    return [_count_units(authorization) for authorization in covering.order_by("pk")]


def _session_status_changed(sender, *, session, from_status, to_status, **kwargs) -> None:
    treated = DosingSession.TREATED_STATUSES
    if (from_status in treated) != (to_status in treated):
        authorization_units_recount_for_session(session=session)


def connect_session_signals() -> None:
    session_status_changed.connect(_session_status_changed, dispatch_uid="billing.units_on_session_status")


# ---- The daily check ---------------------------------------------------------------------------------------


@dataclass
class AuthorizationCheck:
    """What one check found: the alerts it raised now (not those raised on earlier days) and whether it expired."""

    authorization: PriorAuthorization
    raised: list[StaffAlert] = field(default_factory=list)
    expired: bool = False


def warn_days() -> int:
    return settings.AUTHORIZATION_WARN_DAYS


def warn_units_percent() -> int:
    return settings.AUTHORIZATION_WARN_UNITS_PERCENT


def units_nearly_used(authorization: PriorAuthorization, percent: int | None = None) -> bool:
    percent = warn_units_percent() if percent is None else percent
    authorized = authorization.units_authorized or 0
    return authorized > 0 and authorization.units_used * 100 >= authorized * percent


def is_running_out(authorization: PriorAuthorization, *, today: date) -> bool:
    """Approved, and ending within the warning window or with its units nearly used (as `selectors.running_out`)."""
    if authorization.status != Status.APPROVED:
        return False
    ends_soon = authorization.ends_on is not None and authorization.ends_on <= today + timedelta(days=warn_days())
    return ends_soon or units_nearly_used(authorization)


def _label(authorization: PriorAuthorization) -> str:
    # Staff-facing and free of patient detail: the payer's number and name identify it; the link shows whose it is.
    return f"Authorization {authorization.reference or '#' + str(authorization.pk)} ({authorization.payer.name})"


def _sessions(n: int) -> str:
    return f"{n} session{'' if n == 1 else 's'} {'is' if n == 1 else 'are'}"


@transaction.atomic
def authorization_check(*, authorization: PriorAuthorization, today: date) -> AuthorizationCheck:
    """For an approved authorization: count units used, warn front-office staff once per condition (ending within
    the warning window, units nearly used, sessions booked after its end or beyond its units), and mark it expired
    once its last day has passed. Running it again on the same day raises nothing new.
    """
    locked = (
        PriorAuthorization.objects.select_for_update(of=("self",))
        .select_related("payer", "patient")
        .get(pk=authorization.pk)
    )
    check = AuthorizationCheck(authorization=locked)
    if locked.status != Status.APPROVED:
        return check
    _count_units(locked)
    link = reverse("billing:authorization_detail", kwargs={"pk": locked.pk})
    label = _label(locked)

    def warn(condition: str, summary: str) -> None:
        key = f"authorization-{locked.pk}-{condition}"
        is_new = not StaffAlert.objects.filter(key=key).exists()
        alert = staff_alert_raise(
            kind=StaffAlert.Kind.AUTHORIZATION,
            key=key,
            patient_id=locked.patient_id,
            summary=summary,
            link=link,
            audience=StaffAlert.Audience.FRONT_OFFICE,
        )
        if is_new:
            check.raised.append(alert)

    booked = DosingSession.objects.filter(patient_id=locked.patient_id, status=DosingSession.Status.SCHEDULED)
    after_end = sum(
        1
        for session in units_sessions(booked.filter(starts_at__gte=_day_start(locked.ends_on + timedelta(days=1))))
        if session_units(locked.codes, session)  # only sessions billing one of its codes
    )
    if after_end:
        warn(
            f"booked-after-{locked.ends_on.isoformat()}",
            f"{label} ends {locked.ends_on:%Y-%m-%d}; {_sessions(after_end)} booked after it.",
        )
    if locked.ends_on < today:
        _set_status(locked, Status.EXPIRED, by=None, note="Past its last day (daily check).")
        check.expired = True
        return check
    days_left = (locked.ends_on - today).days
    if days_left <= warn_days():
        warn(
            f"ends-{locked.ends_on.isoformat()}",
            f"{label} ends {locked.ends_on:%Y-%m-%d}, in {days_left} day{'s' if days_left != 1 else ''}.",
        )
    if units_nearly_used(locked):
        warn(
            f"units-{locked.units_authorized}",
            f"{label}: {locked.units_used} of {locked.units_authorized} units used.",
        )
    left = max(locked.units_left or 0, 0)
    within = booked.filter(
        starts_at__gte=_day_start(max(today, locked.starts_on)),
        starts_at__lt=_day_start(locked.ends_on + timedelta(days=1)),
    )
    within_units = sum(session_units(locked.codes, session) for session in units_sessions(within))
    if within_units > left:
        count = sum(1 for session in units_sessions(within) if session_units(locked.codes, session))
        warn(
            f"booked-over-units-{locked.units_authorized}",
            f"{label}: {_sessions(count)} booked"
            + (f" ({within_units} units)" if within_units != count else "")
            + f" but {left} unit{'' if left == 1 else 's'} left.",
        )
    return check
