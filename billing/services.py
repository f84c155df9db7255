"""Prior authorizations: entering them, moving them through their statuses, counting units and warning staff.

Units used (docs/clinical-references.md#prior-authorization): one unit per dosing session of the patient that took place
(checked in, in progress or completed) on a clinic-local date inside [starts_on, ends_on]. A scheduled, cancelled or
no-show session uses nothing. Drug-unit codes (J0013 is billed per mg: 56 mg is 56 units) need the dose on a claim,
which comes with claims; until then an authorization counts sessions, and staff enter `units_authorized` in sessions.
The count is written by the daily sweep and by staff's explicit "count again", never while a page is read.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.notifications.alerts import staff_alerts_acknowledge
from kap_clinic.kernel.validation import AUTHORIZATION_MAX_DAYS, EARLIEST_CLINIC_DATE, LATEST_DATE
from kap_clinic.rules.billing_codes import RETIRED_CODES
from patients.models import Patient
from sessions.models import DosingSession
from sessions.signals import session_status_changed

from .alerts import authorization_alert_raise
from .coverage import units_used
from .models import AuthorizationStatusChange, Payer, PriorAuthorization
from .roles import WORKING_ROLES

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
    _retired_codes_alert(authorization)
    return authorization


def retired_codes_named(authorization: PriorAuthorization) -> list[str]:
    """The warnings for codes retired since that the authorization names (S0013, replaced by J0013)."""
    return [RETIRED_CODES[code] for code in authorization.codes if code in RETIRED_CODES]


def _retired_codes_alert(authorization: PriorAuthorization) -> None:
    """Admins and the front office are told, once per authorization and code, that it names a retired code: the payer
    may ask for it to be redone under the code that replaced it. Closed with the authorization's other warnings."""
    for code in authorization.codes:
        if code not in RETIRED_CODES:
            continue
        authorization_alert_raise(
            key=f"authorization-{authorization.pk}-retired-{code}",
            authorization_id=authorization.pk,
            patient_id=authorization.patient_id,
            summary=f"An authorization names {code}: {RETIRED_CODES[code]} Ask the payer whether it must be redone.",
        )


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
    _retired_codes_alert(locked)
    return locked


def _set_status(authorization: PriorAuthorization, to: str, *, by: User | None, note: str = "") -> PriorAuthorization:
    AuthorizationStatusChange.objects.create(
        authorization=authorization, from_status=authorization.status, to_status=to, changed_by=by, note=note[:300]
    )
    authorization.status = to
    authorization.save(update_fields=["status", "updated_at"])
    return authorization


def request_problems(authorization: PriorAuthorization) -> list[str]:
    """What a request needs before it is sent to the payer, in the app or outside it."""
    problems = []
    if not authorization.codes:
        problems.append("Name the codes requested.")
    if not authorization.units_requested:
        problems.append("Enter the units requested.")
    if authorization.requested_starts_on is None or authorization.requested_ends_on is None:
        problems.append("Enter the first and last day requested.")
    if not authorization.diagnoses:
        problems.append("Enter at least one ICD-10 diagnosis.")
    if not authorization.justification.strip():
        problems.append("Write the clinical justification.")
    return problems


SUBMIT_ELSEWHERE = (
    "A request is marked submitted only when it is sent: submit it to the payer from its page, or record that it "
    "was sent outside the app and say how."
)


@transaction.atomic
def authorization_transition(
    *, authorization: PriorAuthorization, to: str, by: User, note: str = ""
) -> PriorAuthorization:
    """Move an authorization one allowed step (submitted → approved | denied; approved → expired | cancelled;
    anything open → cancelled), recording who and when; approval needs number, dates and units.

    A draft becomes submitted only as it is sent: `billing.preauth.lifecycle.preauth_submit` (the payer's channel)
    or `preauth_record_sent` (sent by staff outside the app), never through this step."""
    if to == Status.SUBMITTED:
        _check_worker(by)
        raise ValidationError(SUBMIT_ELSEWHERE)
    return _transition(authorization=authorization, to=to, by=by, note=note)


@transaction.atomic
def authorization_submitted_mark(*, authorization: PriorAuthorization, by: User, note: str) -> PriorAuthorization:
    """Mark a draft submitted as it is sent, with who and when; the request must say everything the payer asks.
    Called by `billing.preauth.lifecycle` only (`preauth_submit`, `preauth_record_sent`), which say how it went."""
    _check_worker(by)
    locked = PriorAuthorization.objects.select_for_update().select_related("payer").get(pk=authorization.pk)
    if locked.status != Status.DRAFT:
        raise ValidationError("Only a request being assembled can be submitted.")
    problems = request_problems(locked)
    if problems:
        raise ValidationError(problems)
    return _transition(authorization=locked, to=Status.SUBMITTED, by=by, note=note)


def _transition(*, authorization: PriorAuthorization, to: str, by: User, note: str) -> PriorAuthorization:
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


# ---- When an authorization is running out (the daily check itself is `sweep.authorizations_check`) -------------


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
