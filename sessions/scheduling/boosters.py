"""Boosters after a series: the booster that would be booked, what the booking checks say of it, and booking it."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.rules import cadence

from ..models import DosingSession, TreatmentPlan
from . import checks
from .planning import (
    _aware,
    _cadence_rule,
    _label_week_problems,
    _local,
    _save_booking,
    clinic_calendar,
    follows_spravato_label,
    planned_session,
)

SPRAVATO_MAINTENANCE_DAYS = (7, 14)  # docs/clinical-references.md#spravato: weekly or every 2 weeks from week 9


# Used only when a protocol sets no booster interval, and said so on the booking: boosters every 3-6 weeks are typical
# for IV ketamine (docs/clinical-references.md#cadence), 4 weeks is the middle.
DEFAULT_BOOSTER_INTERVAL_DAYS = 28


def booster_propose(*, plan: TreatmentPlan, interval_days: int | None = None) -> DosingSession:
    """The booster `booster_book` would book, unsaved: after the patient's last dose, at the protocol's booster
    interval unless told otherwise. Refused (ValidationError) when no booster can be booked now, nor on any usable day
    within the cadence engine's search window."""
    induction_ahead = DosingSession.objects.filter(
        patient=plan.patient, phase="induction", status__in=DosingSession.UPCOMING_STATUSES
    ).count()
    if induction_ahead:
        # A booster tops up a finished series; during induction the next session is already booked.
        left = "1 induction session is" if induction_ahead == 1 else f"{induction_ahead} induction sessions are"
        raise ValidationError(
            f"No booster during induction: {left} still ahead. Book a booster once the induction series is over."
        )
    protocol = plan.protocol
    last = DosingSession.objects.active().filter(patient=plan.patient).order_by("-starts_at").first()
    if last is None:
        raise ValidationError("The patient has no dose to time a booster from.")
    notes = []
    # An interval given (here or on the protocol) is used as it is: 0 is refused, not replaced by another value.
    days = interval_days if interval_days is not None else protocol.booster_interval_days
    if days is None:
        days = DEFAULT_BOOSTER_INTERVAL_DAYS
        notes.append(f"The protocol sets no booster interval: booked {days} days after the last dose.")
    if days < 1:
        raise ValidationError(
            f"A booster interval of {days} days is not allowed: it must be at least 1 day. "
            "Correct the protocol's booster interval."
        )
    if follows_spravato_label(protocol) and days not in SPRAVATO_MAINTENANCE_DAYS:
        # docs/clinical-references.md#spravato: from week 9, once weekly or every 2 weeks (the least frequent that keeps
        # the response).
        raise ValidationError(
            "Spravato maintenance from week 9 is once a week or every 2 weeks: book it 7 or 14 days after the last "
            f"dose, not {days}."
        )
    last_dose = _local(last.starts_at)
    due_on = last_dose.date() + timedelta(days=days)
    today = timezone.localdate()
    if due_on <= today:
        # Already due (the last dose was long ago): from tomorrow, so the booster is never booked in the past.
        notes.append(
            f"Moved from {due_on:%a} {due_on.day} {due_on:%b}: that day has passed; booked from the next usable day."
        )
        days = (today - last_dose.date()).days + 1
    try:
        slot = cadence.booster_slot(last_dose, days, _cadence_rule(protocol), clinic_calendar(clinician=last.clinician))
    except cadence.SchedulingError as exc:
        raise ValidationError(str(exc)) from exc
    sequence = (plan.sessions.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
    session = DosingSession(
        plan=plan,
        patient=plan.patient,
        protocol=protocol,
        sequence=sequence,
        phase="booster",
        kind=DosingSession.Kind.BOOSTER,
        planned_dose=plan.planned_dose,
        room=last.room,
        clinician=last.clinician,
        starts_at=_aware(slot.start),
        ends_at=_aware(slot.end),
        planner_notes=[*notes, *slot.reasons],
    )
    return session


def booster_preview(
    *, plan: TreatmentPlan, interval_days: int | None = None
) -> tuple[DosingSession, list[checks.BookingForecast]]:
    """The booster that would be booked now and what the booking checks say of it (the authorization's units and
    dates), so the clinician sees the forecast before pressing Book; nothing is saved."""
    session = booster_propose(plan=plan, interval_days=interval_days)
    forecasts = checks.booking_forecasts(patient_id=plan.patient_id, planned=[planned_session(session)])
    return session, forecasts


@transaction.atomic
def booster_book(
    *, plan: TreatmentPlan, by: User, interval_days: int | None = None, booking_override_reason: str = ""
) -> DosingSession:
    """Book one booster after the patient's last dose, at the protocol's booster interval unless told otherwise. Like
    any booking it goes through the booking checks: refused where one blocks unless the clinician writes why."""
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can book a booster.")
    session = booster_propose(plan=plan, interval_days=interval_days)
    _save_booking(session)
    booked = DosingSession.objects.active().filter(plan=plan).values_list("starts_at", flat=True)
    week_problems = _label_week_problems(plan, list(booked))  # refusing rolls the booking back
    if week_problems:
        raise ValidationError(week_problems)
    checks.booking_checks_enforce(
        patient_id=plan.patient_id,
        planned=[planned_session(session)],
        moving=[session.pk],
        override_reason=booking_override_reason,
        by=by,
    )
    return session
