"""Planning and booking a treatment series.

The clinic's calendar, the series the cadence engine proposes and what it would clash with, the dosing sessions'
busy-time source for the booking core, saving one booking, booking a whole series; and what every later change to a
booking shares: clinic wall-clock time, the Spravato label's dose and week rules, a session as the booking checks read
it.
"""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.notifications.planning import reminders_sync
from kap_clinic.rules import cadence, spravato
from kap_clinic.rules.overrides import MIN_JUSTIFICATION
from patients.models import Patient
from patients.services import patient_transition
from patients.status import Status

from ..models import (
    ClinicClosure,
    ClinicHours,
    ClinicianHours,
    DosingSession,
    Enrollment,
    Protocol,
    Room,
    TreatmentPlan,
)
from . import booking, checks


def _local(moment: datetime) -> datetime:
    """Aware UTC → naive clinic wall-clock time, the form cadence.py works in."""
    return timezone.localtime(moment).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    """Naive clinic wall-clock time → aware UTC. In UTC, adding hours is real elapsed time; an aware datetime in the
    clinic's zone would add wall-clock hours (Python compares and adds zone-aware datetimes of one zone by the
    clock on the wall), which made a 48-hour dose window 47 real hours long over the spring change."""
    return timezone.make_aware(moment, timezone.get_current_timezone()).astimezone(UTC)


aware = _aware  # the planning page's forecast reads proposed slots the way booking saves them


def clinic_calendar(*, clinician: User | None = None) -> cadence.ClinicCalendar:
    """The clinic's open hours and closures, narrowed to the clinician's working hours where they are set."""
    hours = {h.weekday: (h.opens, h.closes) for h in ClinicHours.objects.all()}
    if clinician is not None:
        own = {h.weekday: (h.starts, h.ends) for h in ClinicianHours.objects.filter(clinician=clinician)}
        if own:
            narrowed = {}
            for weekday, (opens, closes) in hours.items():
                if weekday in own:
                    start, end = max(opens, own[weekday][0]), min(closes, own[weekday][1])
                    if start < end:
                        narrowed[weekday] = (start, end)
            hours = narrowed
    closures = frozenset(ClinicClosure.objects.filter(day__gte=timezone.localdate()).values_list("day", flat=True))
    # The clinic's zone makes the minimum interval real elapsed time across daylight-saving changes
    # (docs/clinical-references.md#dose-interval).
    return cadence.ClinicCalendar(open_hours=hours, closures=closures, tz=timezone.get_current_timezone())


def _last_dose_before_plan(patient: Patient) -> datetime | None:
    last = (
        DosingSession.objects.active()
        .filter(patient=patient)
        .order_by("-starts_at")
        .values_list("dose_window_ends_at", flat=True)
        .first()
    )
    return _local(last) if last else None


def plan_preview(
    *,
    patient: Patient,
    protocol: Protocol,
    first_day: date,
    start_time: time | None,
    clinician: User,
    induction_sessions: int | None = None,
) -> list[cadence.PlannedSlot]:
    """The series the cadence engine proposes, with the reason for every moved date; nothing is saved.

    No session starts before now (a series planned from today) or inside the patient's last booked dose window.
    `induction_sessions` chooses the induction's length within the protocol's bounds (`Protocol.induction_bounds`).
    Refused (ValidationError) when the series cannot be planned: no usable day for a session, or a protocol whose
    cadence cannot be followed.
    """
    after = _local(timezone.now())
    last_dose_window = _last_dose_before_plan(patient)
    if last_dose_window is not None:
        after = max(after, last_dose_window)
    rule = _cadence_rule(protocol)
    if induction_sessions is not None:
        try:
            rule = cadence.with_induction_sessions(rule, induction_sessions, protocol.induction_bounds())
        except ValueError as exc:
            raise ValidationError({"induction_sessions": str(exc)}) from exc
    try:
        return cadence.plan_series(
            rule,
            first_day,
            clinic_calendar(clinician=clinician),
            start_time=start_time,
            after=after,
        )
    except cadence.SchedulingError as exc:
        raise ValidationError(str(exc)) from exc


def _cadence_rule(protocol: Protocol) -> cadence.CadenceRule:
    """The protocol's cadence; refused (ValidationError, in the engine's words) when it cannot be followed."""
    try:
        return protocol.cadence_rule()
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def plan_preview_clashes(
    *, patient: Patient, clinician: User, room, slots: list[cadence.PlannedSlot]
) -> list[list[str]]:
    """For each proposed slot, what it would clash with if booked now (the booking core's wording), so the clinician
    sees a taken room or a busy diary before pressing Book; nothing is saved."""
    return [
        booking.booking_conflicts(
            kind=DOSING_SESSION,
            pk=None,
            clinician=clinician,
            patient=patient,
            starts_at=_aware(slot.start),
            ends_at=_aware(slot.end),
            room=room,
        )
        for slot in slots
    ]


DOSING_SESSION = "dosing session"


def dosing_sessions_busy(*, starts_at, ends_at, clinician_id, patient_id, room_id) -> list[booking.Busy]:
    """Active dosing sessions overlapping the range that share the clinician, the patient or the room: the booking
    core's busy-time source for dosing sessions (registered in `SessionsConfig.ready()`)."""
    whose = Q(clinician_id=clinician_id) | Q(patient_id=patient_id)
    if room_id is not None:
        whose |= Q(room_id=room_id)
    rows = (
        DosingSession.objects.active()
        .overlapping(starts_at, ends_at)
        .filter(whose)
        .values_list("pk", "clinician_id", "patient_id", "room_id")
    )
    return [booking.Busy(DOSING_SESSION, *row) for row in rows]


def _booking_conflicts(session: DosingSession) -> list[str]:
    """Why this booking cannot stand: the booking core's clashes with every kind of appointment (the same rules the
    database enforces among dosing sessions), and a dose too soon after another of the patient's."""
    clashes = booking.booking_clashes(
        kind=DOSING_SESSION,
        pk=session.pk,
        clinician=session.clinician,
        patient=session.patient,
        room=session.room,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
    )
    problems = [clash.message for clash in clashes]
    patient_dosed_then = any(clash.whose == "patient" and clash.kind == DOSING_SESSION for clash in clashes)
    too_soon = (
        DosingSession.objects.active()
        .exclude(pk=session.pk)
        .filter(
            patient=session.patient,
            starts_at__lt=session.dose_window_ends_at,
            dose_window_ends_at__gt=session.starts_at,
        )
    )
    if not patient_dosed_then and too_soon.exists():
        hours = session.protocol.min_interval_hours
        when = booking.when_label(session.starts_at)
        problems.append(f"The session at {when} is less than {hours} hours from another dose of this patient.")
    return problems


def _save_booking(session: DosingSession) -> DosingSession:
    booking.lock_for_booking(clinician=session.clinician, patient=session.patient)
    # Real elapsed time, whatever zone the start was given in (see _aware): the window is counted in UTC.
    session.dose_window_ends_at = session.starts_at.astimezone(UTC) + session.protocol.min_interval
    problems = _booking_conflicts(session)
    if problems:
        raise ValidationError(problems)
    with booking.booking_race_lost_as_validation_error():
        with transaction.atomic():
            session.save()
    reminders_sync(session)  # in the booking's transaction: booked, moved or refused together
    return session


@transaction.atomic
def plan_create(
    *,
    patient: Patient,
    protocol: Protocol,
    first_day: date,
    start_time: time | None,
    room: Room,
    clinician: User,
    planned_dose: Decimal,
    by: User,
    first_dose: Decimal | None = None,
    session_doses: list[Decimal] | None = None,
    dose_override_reason: str = "",
    induction_sessions: int | None = None,
    booking_override_reason: str = "",
) -> TreatmentPlan:
    """Book a whole series for an enrolled patient: one row per session, each with its planned dose, all or nothing.

    Doses: `session_doses` (one per session) or else `first_dose` for session 1 and `planned_dose` for the rest. A
    Spravato series keeps the label's dose rules (`kap_clinic.rules.spravato`) unless a clinician writes why not.
    """
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can plan treatment.")
    enrollment = Enrollment.objects.filter(patient=patient, status=Enrollment.Status.ACTIVE).first()
    if enrollment is None:
        raise ValidationError("Enroll the patient before planning treatment.")
    if not protocol.is_active:
        raise ValidationError("That protocol is no longer in use.")
    slots = plan_preview(
        patient=patient,
        protocol=protocol,
        first_day=first_day,
        start_time=start_time,
        clinician=clinician,
        induction_sessions=induction_sessions,
    )
    if session_doses is not None:
        if len(session_doses) != len(slots):
            raise ValidationError(f"Give one dose per session: the series has {len(slots)} sessions.")
        doses = list(session_doses)
    else:
        doses = [planned_dose if first_dose is None else first_dose] + [planned_dose] * (len(slots) - 1)
    for dose in {planned_dose, *doses}:
        if not protocol.dose_min <= dose <= protocol.dose_max:
            raise ValidationError(
                f"The planned dose must be within the protocol's range, {protocol.dose_min}–{protocol.dose_max} "
                f"{protocol.get_dose_unit_display()}."
            )
    reason, override_by = _dose_override(protocol, doses, dose_override_reason, by)
    plan = TreatmentPlan.objects.create(
        patient=patient,
        enrollment=enrollment,
        protocol=protocol,
        planned_dose=planned_dose,
        dose_override_reason=reason,
        dose_override_by=override_by,
        first_day=first_day,
        created_by=by,
    )
    problems = []
    for slot, dose in zip(slots, doses, strict=True):
        session = DosingSession(
            plan=plan,
            patient=patient,
            protocol=protocol,
            sequence=slot.sequence,
            phase=slot.phase,
            planned_dose=dose,
            room=room,
            clinician=clinician,
            starts_at=_aware(slot.start),
            ends_at=_aware(slot.end),
            planner_notes=list(slot.reasons),
        )
        try:
            _save_booking(session)
        except ValidationError as exc:
            problems.extend(exc.messages)
    if problems:
        raise ValidationError(problems)
    booked = list(plan.sessions.all())
    checks.booking_checks_enforce(
        patient_id=patient.pk,
        planned=[planned_session(s) for s in booked],
        moving=[s.pk for s in booked],
        override_reason=booking_override_reason,
        by=by,
    )
    if patient.status == Status.ENROLLED:
        patient_transition(patient=patient, to=Status.INDUCTION, by=by, reason=f"Treatment plan #{plan.pk} booked.")
    return plan


def follows_spravato_label(protocol: Protocol) -> bool:
    """Intranasal esketamine protocols follow the Spravato label's dose and frequency rules
    (docs/clinical-references.md#spravato)."""
    return protocol.route == cadence.Route.INTRANASAL


def _dose_override(protocol: Protocol, doses: list[Decimal], reason: str, by: User) -> tuple[str, User | None]:
    """("", None) when the doses keep the label's rules; else the clinician's written reason, which is required."""
    problems = spravato.series_dose_problems(doses) if follows_spravato_label(protocol) else []
    if not problems:
        return "", None
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            ["These doses are outside the Spravato label's dose rules; a clinician's written override is needed:"]
            + problems
        )
    if len(reason) < MIN_JUSTIFICATION:
        raise ValidationError(
            f"Write at least {MIN_JUSTIFICATION} characters explaining why the label's dose rules are overridden."
        )
    return reason, by


def _label_week_problems(plan: TreatmentPlan, starts: list[datetime]) -> list[str]:
    """Spravato label weeks (counted from the series' first dose) holding more doses than the label allows."""
    if not follows_spravato_label(plan.protocol) or not starts:
        return []
    local_starts = sorted(_local(start) for start in starts)
    return cadence.week_cap_problems(local_starts, plan.protocol.cadence_rule(), local_starts[0].date())


def planned_session(session: DosingSession, *, before: checks.PlannedSession | None = None) -> checks.PlannedSession:
    """A booked (or about to be booked) session as the booking checks read it; `before` is how it was booked until
    this change (None for a new booking)."""
    return checks.PlannedSession(
        starts_at=session.starts_at,
        route=session.protocol.route,
        dose=session.planned_dose,
        dose_unit=session.protocol.dose_unit,
        pk=session.pk,
        before=before,
    )
