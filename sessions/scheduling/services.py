from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import holidays
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.models import ReminderRule
from kap_clinic.kernel.notifications.planning import notice_write, reminders_sync
from kap_clinic.rules import cadence, spravato
from patients.models import Patient
from patients.services import patient_transition
from patients.status import Status
from screening.gate import enrollment_gate

from ..models import (
    ClinicClosure,
    ClinicHours,
    ClinicianHours,
    DoseAdministration,
    DosingSession,
    Enrollment,
    Protocol,
    Room,
    TreatmentPlan,
)
from ..signals import session_status_changed
from . import booking, checks

MIN_JUSTIFICATION = 20
SPRAVATO_MAINTENANCE_DAYS = (7, 14)  # docs/clinical-references.md#spravato: weekly or every 2 weeks from week 9


@transaction.atomic
def enrollment_create(*, patient: Patient, by: User, override_justification: str = "") -> Enrollment:
    """Enroll a patient in the treatment program, only through the screening gate.

    Without a current, clinician-signed eligible screening the gate stays shut unless a clinician
    writes why they override it; the override is stored on the enrollment and so in the audit log.
    """
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician can enroll a patient.")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if Enrollment.objects.filter(patient=patient, status=Enrollment.Status.ACTIVE).exists():
        raise ValidationError("This patient is already enrolled.")
    gate = enrollment_gate(patient)
    justification = override_justification.strip()
    if gate.blocking:
        # An open suicide-risk alert is no paperwork gap: a written override does not enroll past it.
        raise ValidationError(["Enrollment is refused while a suicide-risk alert is open:", *gate.blocking])
    if not gate.is_open:
        if not justification:
            raise ValidationError(
                {
                    "override_justification": [
                        "Write a justification: overriding the screening gate needs one, and this box is empty.",
                        "Enrollment needs a current eligible screening:",
                        *gate.reasons,
                    ]
                }
            )
        if len(justification) < MIN_JUSTIFICATION:
            raise ValidationError(
                f"Write at least {MIN_JUSTIFICATION} characters explaining why the screening gate is overridden."
            )
    enrollment = Enrollment.objects.create(
        patient=patient,
        screening=gate.screening,
        override_justification=justification if not gate.is_open else "",
        enrolled_by=by,
    )
    reason = "Enrolled through the screening gate." if gate.is_open else f"Gate overridden: {justification}"
    patient_transition(patient=patient, to=Status.ENROLLED, by=by, reason=reason)
    return enrollment


# ---- Scheduling ---------------------------------------------------------------------------------


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


def _slot(session: DosingSession) -> cadence.PlannedSlot:
    return cadence.PlannedSlot(
        sequence=session.sequence,
        phase=session.phase,
        start=_local(session.starts_at),
        end=_local(session.ends_at),
        reasons=tuple(session.planner_notes),
    )


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


@transaction.atomic
def session_reschedule(
    *, session: DosingSession, new_start: datetime, by: User, booking_override_reason: str = ""
) -> list[DosingSession]:
    """Move one session; later sessions of the series move only as far as the minimum interval needs."""
    if by.role not in STAFF_ROLES:
        raise PermissionDenied
    session = DosingSession.objects.select_for_update().select_related("protocol").get(pk=session.pk)
    if session.status != DosingSession.Status.SCHEDULED:
        raise ValidationError("Only a scheduled session can be moved.")
    if new_start < timezone.now():
        when = timezone.localtime(new_start)
        raise ValidationError(
            f"Can't move session {session.sequence} to {when:%a} {when.day} {when:%b %H:%M}: "
            "that time has already passed."
        )
    series = list(
        DosingSession.objects.select_for_update()
        .filter(plan=session.plan_id, status=DosingSession.Status.SCHEDULED)
        .order_by("starts_at")
    )
    index = next(i for i, s in enumerate(series) if s.pk == session.pk)
    try:
        moved = cadence.reschedule(
            [_slot(s) for s in series],
            index,
            _local(new_start),
            session.protocol.cadence_rule(),
            clinic_calendar(clinician=session.clinician),
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    changed = []
    before = {row.pk: planned_session(row) for row in series}  # as booked until now: a move is held to these
    # Latest new start first. Every pushed session moves later and stays at least the minimum interval after the one
    # before it, so each row's new slot is clear of the old slots of the rows still to be saved: no row has to be
    # freed (cancelled) on the way, which would also have written a false cancellation into the audit log.
    for row, slot in sorted(zip(series, moved, strict=True), key=lambda pair: pair[1].start, reverse=True):
        start = _aware(slot.start)
        if start == row.starts_at:
            continue
        row.starts_at, row.ends_at = start, _aware(slot.end)
        row.planner_notes = list(slot.reasons)
        row.calendar_sequence += 1
        changed.append(row)
    for row in changed:
        _save_booking(row)
        notice_write(row, change=ReminderRule.Event.APPOINTMENT_MOVED)  # the patient hears of the new time
    # Spravato label weeks (docs/clinical-references.md#spravato), checked on the series as saved; refusing rolls the
    # whole move back.
    week_problems = _label_week_problems(
        session.plan,
        list(DosingSession.objects.active().filter(plan=session.plan_id).values_list("starts_at", flat=True)),
    )
    if week_problems:
        raise ValidationError(week_problems)
    if changed:
        checks.booking_checks_enforce(
            patient_id=session.patient_id,
            planned=[planned_session(row, before=before[row.pk]) for row in changed],
            moving=[row.pk for row in changed],
            override_reason=booking_override_reason,
            by=by,
        )
    return changed


def _set_status(
    session: DosingSession,
    status: str,
    *,
    allowed_from: tuple[str, ...],
    reason: str = "",
    cancelled_by: str | None = None,
) -> DosingSession:
    session = DosingSession.objects.select_for_update().get(pk=session.pk)
    if session.status not in allowed_from:
        raise ValidationError(f"A {session.get_status_display().lower()} session cannot be changed that way.")
    from_status = session.status
    session.status = status
    session.status_reason = reason.strip()
    # Who cancelled goes with a cancellation and with nothing else (the database holds the two together).
    session.cancelled_by = cancelled_by if status == DosingSession.Status.CANCELLED else None
    session.calendar_sequence += 1
    session.save(update_fields=["status", "status_reason", "cancelled_by", "calendar_sequence", "updated_at"])
    # Cancelled, no-show or checked in: pending reminders are cancelled; back to scheduled: planned again.
    reminders_sync(session)
    session_status_changed.send(sender=DosingSession, session=session, from_status=from_status, to_status=status)
    return session


@transaction.atomic
def session_cancel(*, session: DosingSession, by: User, reason: str, cancelled_by: str) -> DosingSession:
    """Cancel a booked session with a reason and who cancelled it (the patient or the clinic: only the patient's late
    cancellation is charged); its room, clinician and dose window are free again."""
    if by.role not in STAFF_ROLES:
        raise PermissionDenied
    if cancelled_by not in DosingSession.CancelledBy.values:
        raise ValidationError("Say who cancelled: the patient or the clinic.")
    if not reason.strip():
        raise ValidationError("Give a reason for the cancellation.")
    scheduled = DosingSession.OPEN_FOR_DOSING_STATUSES
    session = _set_status(
        session, DosingSession.Status.CANCELLED, allowed_from=scheduled, reason=reason, cancelled_by=cancelled_by
    )
    notice_write(session, change=ReminderRule.Event.APPOINTMENT_CANCELLED)
    return session


def _on_its_day(session: DosingSession, rule: str) -> None:
    """Refuse unless the session is booked for today (the clinic's local date), saying `rule`."""
    day = timezone.localtime(session.starts_at).date()
    if day != timezone.localdate():
        raise ValidationError(f"Session {session.sequence} is booked for {day:%a} {day.day} {day:%b %Y}: {rule}")


@transaction.atomic
def session_check_in(*, session: DosingSession, by: User) -> DosingSession:
    """Mark the patient as arrived, on the session's own day only (checking in cancels its reminders, and the session
    uses a unit of the patient's prior authorization)."""
    if by.role not in STAFF_ROLES:
        raise PermissionDenied
    _on_its_day(session, "a patient can only be checked in on the day of their session.")
    return _set_status(session, DosingSession.Status.CHECKED_IN, allowed_from=(DosingSession.Status.SCHEDULED,))


def session_recorded_parts(session: DosingSession) -> list[str]:
    """What has been recorded for the session on its dosing-day record (checks, dose, vitals, scores, events,
    discharge, signature, REMS form, controlled-substance entries), by name; empty when nothing has."""
    recorded = []
    for relation in DosingSession._meta.related_objects:
        if relation.related_model._meta.app_label != DosingSession._meta.app_label:
            continue  # reminders and confirmations belong to the booking, not to the record
        if relation.related_model._default_manager.filter(**{relation.field.name: session.pk}).exists():
            recorded.append(str(relation.related_model._meta.verbose_name))
    return recorded


@transaction.atomic
def session_check_in_undo(*, session: DosingSession, by: User) -> DosingSession:
    """Take back a check-in made by mistake: the session is scheduled again, its reminders are planned again and the
    prior-authorization unit its check-in used is given back. Only on the session's day, and only while nothing has
    been recorded for it (no pre-dose check, dose or vital signs). The audit log keeps who undid it."""
    if by.role not in STAFF_ROLES:
        raise PermissionDenied
    locked = DosingSession.objects.select_for_update().get(pk=session.pk)
    if locked.status != DosingSession.Status.CHECKED_IN:
        raise ValidationError(
            f"Only a checked-in session's check-in can be undone; this one is {locked.get_status_display().lower()}."
        )
    _on_its_day(locked, "a check-in can only be undone on the day of the session.")
    recorded = session_recorded_parts(locked)
    if recorded:
        raise ValidationError(
            "The check-in cannot be undone: the session's record already has "
            + ", ".join(recorded)
            + ". Cancel or complete the session instead."
        )
    return _set_status(locked, DosingSession.Status.SCHEDULED, allowed_from=(DosingSession.Status.CHECKED_IN,))


@transaction.atomic
def session_no_show(*, session: DosingSession, by: User) -> DosingSession:
    if by.role not in STAFF_ROLES:
        raise PermissionDenied
    if session.starts_at > timezone.now():
        raise ValidationError("A session cannot be marked as a no-show before it starts.")
    return _set_status(
        session, DosingSession.Status.NO_SHOW, allowed_from=(DosingSession.Status.SCHEDULED,), reason="No-show"
    )


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


def public_holidays(*, year: int, country: str, subdivision: str = "") -> dict[date, str]:
    """The public holidays of a year in the clinic's country (and state or region), by day, with their names."""
    days = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return {day: "; ".join(days.get_list(day)) for day in sorted(days)}


@transaction.atomic
def closures_import_public_holidays(*, year: int, by: User | None) -> list[ClinicClosure]:
    """Close the clinic on each public holiday of `year` in the country and region set in the clinic settings.

    Runs again without adding anything twice: a day already closed keeps its closure and reason. `by` is the admin
    who asked (None from the command line and the demo). Returns the closures created.
    """
    if by is not None and not by.has_role(Role.ADMIN):
        raise PermissionDenied("Only an admin can change the clinic's closures.")
    clinic = ClinicSettings.load()
    try:
        days = public_holidays(year=year, country=clinic.holiday_country, subdivision=clinic.holiday_subdivision)
    except NotImplementedError as exc:
        raise ValidationError(
            "The public holidays of the country or region in the clinic settings are not known."
        ) from exc
    closed = set(ClinicClosure.objects.filter(day__year=year).values_list("day", flat=True))
    created = [
        ClinicClosure.objects.create(day=day, reason=name[: ClinicClosure._meta.get_field("reason").max_length])
        for day, name in days.items()
        if day not in closed
    ]
    return created
