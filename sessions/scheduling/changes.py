"""Changes to a booked session: moving it (later sessions follow only as far as the minimum interval needs),
cancelling it, checking the patient in and undoing that, marking a no-show; and what has been recorded for a session.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.notifications.models import ReminderRule
from kap_clinic.kernel.notifications.planning import notice_write, reminders_sync
from kap_clinic.rules import cadence

from ..models import DosingSession
from ..signals import session_status_changed
from . import checks
from .planning import _aware, _label_week_problems, _local, _save_booking, clinic_calendar, planned_session


def _slot(session: DosingSession) -> cadence.PlannedSlot:
    return cadence.PlannedSlot(
        sequence=session.sequence,
        phase=session.phase,
        start=_local(session.starts_at),
        end=_local(session.ends_at),
        reasons=tuple(session.planner_notes),
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
