"""Checks every writer of the session record shares: who may record, the session row locked, the session still open,
and times on the session's day and not in the future.

Every writer locks the session row first (`_lock`), so two people saving at once (or a save racing the signature) take
turns, and refuses once the record is signed.
"""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.rules.overrides import MIN_JUSTIFICATION

from ..models import DoseAdministration, DosingSession, RecordSignature
from ..models.record import SIGNED_MESSAGE

RECORDING_ROLES = (Role.CLINICIAN, Role.INTAKE)
DOSING_ROLES = (Role.CLINICIAN,)
# A typed time may run a little ahead of the server clock; more than this is a typing slip.
CLOCK_SLACK = timedelta(minutes=2)


def _require_role(by: User, *roles: str, doing: str) -> None:
    if not by.has_role(*roles):
        raise PermissionDenied(f"Your role cannot {doing}.")


def _lock(session: DosingSession) -> DosingSession:
    """The session row, locked for the rest of the transaction, refusing if its record is signed."""
    session = (
        DosingSession.objects.select_for_update(of=("self",)).select_related("protocol", "patient").get(pk=session.pk)
    )
    if RecordSignature.objects.filter(session=session).exists():
        raise ValidationError(SIGNED_MESSAGE)
    return session


def _require_open(session: DosingSession) -> None:
    if session.status in DosingSession.CLOSED_STATUSES:
        raise ValidationError(f"The session is {session.get_status_display().lower()}; there is nothing to record.")


def _require_checklist_open(session: DosingSession) -> None:
    if DoseAdministration.objects.filter(session=session).exists():
        raise ValidationError("The dose has been given; the pre-dose checklist can no longer change.")


def _require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_JUSTIFICATION:
        raise ValidationError(f"Write at least {MIN_JUSTIFICATION} characters explaining {what}.")
    return reason


def _require_session_day(session: DosingSession, moment: datetime, what: str) -> None:
    if timezone.localdate(moment) != timezone.localdate(session.starts_at):
        day = timezone.localtime(session.starts_at).strftime("%a %d %b %Y")
        raise ValidationError(f"{what} must be on the day of the session ({day}).")


def _require_past(moment: datetime, what: str) -> None:
    if moment > timezone.now() + CLOCK_SLACK:
        raise ValidationError(f"{what} is in the future.")


def _dose_of(session: DosingSession) -> DoseAdministration:
    dose = DoseAdministration.objects.filter(session=session).first()
    if dose is None:
        raise ValidationError("Record the dose first: monitoring times are counted from it.")
    return dose


def _record_link(session: DosingSession) -> str:
    return reverse("sessions:record_detail", args=[session.pk])


def _minutes_after(dose: DoseAdministration, moment: datetime) -> int:
    if moment < dose.dosed_at.replace(second=0, microsecond=0):
        raise ValidationError("That time is before the dose; pre-dose readings belong to the pre-dose checklist.")
    return max(0, int((moment - dose.dosed_at).total_seconds() // 60))
