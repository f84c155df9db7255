"""Changing a booked session's planned dose, and what the booking checks say of a dose before it is saved."""

from dataclasses import replace
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role

from ..models import DoseAdministration, DosingSession
from . import checks
from .planning import _dose_override, planned_session


@transaction.atomic
def session_planned_dose_set(
    *, session: DosingSession, dose: Decimal, by: User, override_reason: str = "", booking_override_reason: str = ""
) -> DosingSession:
    """Change one booked session's planned dose (a step from 56 to 84 mg, say), keeping the series within the
    protocol's range and, for Spravato, the label's dose rules unless a clinician writes why not.

    A dose change is a booking change: the units billed follow the dose (J0013 counts milligrams; G2082 up to 56 mg,
    G2083 above), so it goes through the booking checks like a booking, refused where one blocks unless the clinician
    writes why (`booking_override_reason`)."""
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can change a planned dose.")
    session = DosingSession.objects.select_for_update().select_related("protocol", "plan").get(pk=session.pk)
    if session.status not in DosingSession.OPEN_FOR_DOSING_STATUSES:
        raise ValidationError("Only the dose of a session still to come can change.")
    if DoseAdministration.objects.filter(session=session).exists():
        raise ValidationError("This session's dose has been given.")
    protocol = session.protocol
    if not protocol.dose_min <= dose <= protocol.dose_max:
        raise ValidationError(
            f"The planned dose must be within the protocol's range, {protocol.dose_min}–{protocol.dose_max} "
            f"{protocol.get_dose_unit_display()}."
        )
    # The series as it stands: doses given where given, planned otherwise, this session's new dose in its place.
    given = dict(
        DoseAdministration.objects.filter(session__plan=session.plan_id).values_list("session_id", "dose_mg_given")
    )
    series = DosingSession.objects.active().filter(plan=session.plan_id).order_by("starts_at")
    doses = [dose if row.pk == session.pk else given.get(row.pk, row.planned_dose) for row in series]
    reason, override_by = _dose_override(protocol, doses, override_reason, by)
    if override_by is not None:
        plan = session.plan
        plan.dose_override_reason = f"Session {session.sequence}: {reason}"
        plan.dose_override_by = override_by
        plan.save(update_fields=["dose_override_reason", "dose_override_by"])
    before = planned_session(session)
    session.planned_dose = dose
    session.save(update_fields=["planned_dose", "updated_at"])
    checks.booking_checks_enforce(
        patient_id=session.patient_id,
        planned=[planned_session(session, before=before)],
        moving=[session.pk],
        override_reason=booking_override_reason,
        by=by,
    )
    return session


def session_dose_preview(*, session: DosingSession, dose: Decimal) -> list[checks.BookingForecast]:
    """What the booking checks say of the session at this planned dose (nothing is saved)."""
    before = planned_session(session)
    after = replace(before, dose=dose, before=before)
    return checks.booking_forecasts(patient_id=session.patient_id, planned=[after], moving=[session.pk])
