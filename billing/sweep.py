"""The daily authorization check, the only one: for many authorizations at once, in a number of queries that does
not grow with them (`authorization_check` is the same check for one authorization).

For each approved authorization: count its units used, warn front-office staff once per condition (ending within the
warning window, units nearly used, sessions booked after its end or beyond its units), and mark it expired once its
last day has passed. A batch reads everything the rules need in a few queries: the authorizations, the sessions of
their patients (with what their units depend on), the alerts already raised. Only what changes is written one at a
time (a unit count that moved, a new alert, an authorization past its last day), so a quiet day costs the same few
queries for ten authorizations or ten thousand.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kap_clinic.kernel.notifications.models import StaffAlert
from sessions.models import DosingSession

from .alerts import authorization_alert_raise
from .coverage import session_units, units_sessions
from .models import PriorAuthorization
from .services import _day_start, _set_status, units_nearly_used, warn_days

Status = PriorAuthorization.Status

# Authorizations checked in one transaction: the rows stay locked for a bounded time, the sessions read stay bounded.
SWEEP_BATCH = 200


@dataclass
class AuthorizationCheck:
    """What one check found: the alerts it raised now (not those raised on earlier days) and whether it expired."""

    authorization: PriorAuthorization
    raised: list[StaffAlert] = field(default_factory=list)
    expired: bool = False


def _label(authorization: PriorAuthorization) -> str:
    # Staff-facing and free of patient detail: the payer's number and name identify it; the link shows whose it is.
    return f"Authorization {authorization.reference or '#' + str(authorization.pk)} ({authorization.payer.name})"


def _sessions(n: int) -> str:
    return f"{n} session{'' if n == 1 else 's'} {'is' if n == 1 else 'are'}"


def _warnings(authorization: PriorAuthorization, sessions: list[DosingSession], *, today: date):
    """(key, summary) of each condition the authorization is in today, and whether it is past its last day.

    Worked out from sessions already read."""
    label = _label(authorization)
    key = f"authorization-{authorization.pk}-"
    end_next = _day_start(authorization.ends_on + timedelta(days=1))
    booked = [s for s in sessions if s.status == DosingSession.Status.SCHEDULED]
    found = []
    after_end = sum(1 for s in booked if s.starts_at >= end_next and session_units(authorization.codes, s))
    if after_end:
        found.append(
            (
                f"{key}booked-after-{authorization.ends_on.isoformat()}",
                f"{label} ends {authorization.ends_on:%Y-%m-%d}; {_sessions(after_end)} booked after it.",
            )
        )
    if authorization.ends_on < today:
        return found, True
    days_left = (authorization.ends_on - today).days
    if days_left <= warn_days():
        found.append(
            (
                f"{key}ends-{authorization.ends_on.isoformat()}",
                f"{label} ends {authorization.ends_on:%Y-%m-%d}, in {days_left} day{'s' if days_left != 1 else ''}.",
            )
        )
    if units_nearly_used(authorization):
        found.append(
            (
                f"{key}units-{authorization.units_authorized}",
                f"{label}: {authorization.units_used} of {authorization.units_authorized} units used.",
            )
        )
    left = max(authorization.units_left or 0, 0)
    start = _day_start(max(today, authorization.starts_on))
    within = [s for s in booked if start <= s.starts_at < end_next]
    within_units = sum(session_units(authorization.codes, s) for s in within)
    if within_units > left:
        count = sum(1 for s in within if session_units(authorization.codes, s))
        found.append(
            (
                f"{key}booked-over-units-{authorization.units_authorized}",
                f"{label}: {_sessions(count)} booked"
                + (f" ({within_units} units)" if within_units != count else "")
                + f" but {left} unit{'' if left == 1 else 's'} left.",
            )
        )
    return found, False


def _units_used(authorization: PriorAuthorization, sessions: list[DosingSession]) -> int:
    """As `coverage.units_used`, from sessions already read."""
    if authorization.starts_on is None or authorization.ends_on is None:
        return 0
    start, end_next = _day_start(authorization.starts_on), _day_start(authorization.ends_on + timedelta(days=1))
    return sum(
        session_units(authorization.codes, s)
        for s in sessions
        if s.status in DosingSession.TREATED_STATUSES and start <= s.starts_at < end_next
    )


@transaction.atomic
def authorizations_check(*, ids: Iterable[int], today: date) -> list[AuthorizationCheck]:
    """The daily check of the approved authorizations among `ids`, all at once (those no longer approved are passed
    over). Running it again on the same day raises nothing new."""
    authorizations = list(
        PriorAuthorization.objects.select_for_update(of=("self",))
        .select_related("payer", "patient")
        .filter(pk__in=list(ids), status=Status.APPROVED)
        .order_by("pk")
    )
    if not authorizations:
        return []
    earliest = min((a.starts_on for a in authorizations if a.starts_on), default=today)
    by_patient: dict[int, list[DosingSession]] = defaultdict(list)
    rows = DosingSession.objects.filter(
        Q(status=DosingSession.Status.SCHEDULED)
        | Q(status__in=DosingSession.TREATED_STATUSES, starts_at__gte=_day_start(earliest)),
        patient_id__in={a.patient_id for a in authorizations},
    )
    for session in units_sessions(rows):
        by_patient[session.patient_id].append(session)

    now = timezone.now()
    for authorization in authorizations:
        used = _units_used(authorization, by_patient[authorization.patient_id])
        if used != authorization.units_used:  # saved one by one: a change of units is in the audit trail
            authorization.units_used, authorization.units_counted_at = used, now
            authorization.save(update_fields=["units_used", "units_counted_at", "updated_at"])
    PriorAuthorization.objects.filter(pk__in=[a.pk for a in authorizations]).update(
        units_counted_at=now, updated_at=now
    )

    found = {a.pk: _warnings(a, by_patient[a.patient_id], today=today) for a in authorizations}
    keys = [key for warnings, _ in found.values() for key, _ in warnings]
    raised_before = set(StaffAlert.objects.filter(key__in=keys).values_list("key", flat=True))
    checks = []
    for authorization in authorizations:
        check = AuthorizationCheck(authorization=authorization)
        warnings, expired = found[authorization.pk]
        for key, summary in warnings:
            if key in raised_before:
                continue  # raised on an earlier day: nothing new
            check.raised.append(
                authorization_alert_raise(
                    key=key,
                    authorization_id=authorization.pk,
                    patient_id=authorization.patient_id,
                    summary=summary,
                )
            )
        if expired:
            _set_status(authorization, Status.EXPIRED, by=None, note="Past its last day (daily check).")
            check.expired = True
        checks.append(check)
    return checks


def authorization_check(*, authorization: PriorAuthorization, today: date) -> AuthorizationCheck:
    """The daily check of one authorization (`authorizations_check` of its id); one no longer approved is left as it
    is and the check finds nothing."""
    checks = authorizations_check(ids=[authorization.pk], today=today)
    return checks[0] if checks else AuthorizationCheck(authorization=authorization)
