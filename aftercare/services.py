"""Aftercare: integration sessions, check-in series, the patient's check-in answers and the flags they raise.

Every change to an integration session or a check-in re-syncs its reminders in the same transaction. Flags become
staff alerts (docs/clinical-references.md#relapse, clinic policy): PHQ-9 item 9 above 0 (urgent), a relapse warning, a
missed check-in.
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from kap_clinic.kernel.notifications.models import ReminderRule, StaffAlert
from kap_clinic.kernel.notifications.planning import notice_write, reminders_sync
from kap_clinic.rules import checkin_cadence as cadence
from kap_clinic.rules import instruments, outcomes, relapse
from patients.models import Patient
from patients.selectors import is_portal_user_of
from screening.models import SuicideRiskAlert
from screening.services import risk_alert_raise
from sessions.models import DosingSession
from sessions.scheduling import booking

from .models import CheckIn, CheckInResponse, IntegrationSession
from .selectors import INTEGRATION_SESSION, episode_starts, phq9_points
from .signals import integration_session_completed

# PHQ-9 and GAD-7 at every check-in (docs/clinical-references.md#check-ins).
CHECKIN_INSTRUMENTS = ("phq9", "gad7")
# Instruments a check-in may hold: those with item text the patient can read (docs/clinical-references.md#instruments
# licence column).
PATIENT_INSTRUMENTS = ("phq9", "gad7", "pcl5")


def _require_staff(user: User) -> None:
    if user.role not in STAFF_ROLES:
        raise PermissionDenied


def _local_label(moment: datetime) -> str:
    when = timezone.localtime(moment)
    return f"{when:%a} {when.day} {when:%b %H:%M}"


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment, timezone.get_current_timezone())


def _chart_link(patient: Patient) -> str:
    return reverse("aftercare:patient", kwargs={"patient_pk": patient.pk})


# ---- Integration sessions -----------------------------------------------------------------------


def _save_integration(session: IntegrationSession) -> IntegrationSession:
    """Book or move through the booking core: it locks the clinician and the patient, then checks every kind of
    appointment (dosing sessions included) for a clash."""
    booking.lock_for_booking(clinician=session.clinician, patient=session.patient)
    problems = booking.booking_conflicts(
        kind=INTEGRATION_SESSION,
        pk=session.pk,
        clinician=session.clinician,
        patient=session.patient,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
    )
    if problems:
        raise ValidationError(problems)
    with booking.booking_race_lost_as_validation_error():
        with transaction.atomic():
            session.save()
    reminders_sync(session)
    return session


def _check_time(starts_at: datetime, duration_minutes: int) -> None:
    if starts_at < timezone.now():
        raise ValidationError(f"{_local_label(starts_at)} has already passed.")
    policy = ClinicSettings.load()
    if not policy.integration_min_minutes <= duration_minutes <= policy.integration_max_minutes:
        raise ValidationError(
            f"An integration session lasts between {policy.integration_min_minutes} and "
            f"{policy.integration_max_minutes} minutes."
        )


@transaction.atomic
def integration_session_book(
    *,
    patient: Patient,
    clinician: User,
    modality: str,
    starts_at: datetime,
    duration_minutes: int = 50,
    by: User,
) -> IntegrationSession:
    """Book an integration session; neither the clinician nor the patient may be booked elsewhere at that time."""
    _require_staff(by)
    if clinician.role != Role.CLINICIAN or not clinician.is_active:
        raise ValidationError("Integration sessions are held by an active clinician.")
    if modality not in IntegrationSession.Modality.values:
        raise ValidationError("Choose a modality.")
    _check_time(starts_at, duration_minutes)
    session = IntegrationSession(
        patient=patient,
        clinician=clinician,
        modality=modality,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        created_by=by,
    )
    return _save_integration(session)


def _locked_integration(session: IntegrationSession) -> IntegrationSession:
    return IntegrationSession.objects.select_for_update().select_related("patient", "clinician").get(pk=session.pk)


@transaction.atomic
def integration_session_reschedule(
    *, integration_session: IntegrationSession, starts_at: datetime, duration_minutes: int | None = None, by: User
) -> IntegrationSession:
    """Move a scheduled integration session to a free time."""
    _require_staff(by)
    session = _locked_integration(integration_session)
    if session.status != IntegrationSession.Status.SCHEDULED:
        raise ValidationError("Only a scheduled integration session can be moved.")
    duration = duration_minutes or session.duration_minutes
    _check_time(starts_at, duration)
    moved = starts_at != session.starts_at
    session.starts_at, session.duration_minutes = starts_at, duration
    session.calendar_sequence += 1
    session = _save_integration(session)
    if moved:
        notice_write(session, change=ReminderRule.Event.APPOINTMENT_MOVED)  # the patient hears of the new time
    return session


def _set_integration_status(
    session: IntegrationSession, status: str, *, reason: str = "", notes: str | None = None
) -> IntegrationSession:
    if session.status != IntegrationSession.Status.SCHEDULED:
        raise ValidationError(f"A {session.get_status_display().lower()} integration session cannot be changed.")
    session.status, session.status_reason = status, reason.strip()
    session.calendar_sequence += 1
    fields = ["status", "status_reason", "calendar_sequence", "updated_at"]
    if notes is not None:
        session.notes = notes.strip()
        fields.append("notes")
    session.save(update_fields=fields)
    reminders_sync(session)
    return session


@transaction.atomic
def integration_session_cancel(*, integration_session: IntegrationSession, reason: str, by: User) -> IntegrationSession:
    """Cancel a scheduled integration session, with the reason kept on the row (and in the audit log)."""
    _require_staff(by)
    if not reason.strip():
        raise ValidationError("Give a reason for the cancellation.")
    session = _locked_integration(integration_session)
    session = _set_integration_status(session, IntegrationSession.Status.CANCELLED, reason=reason)
    notice_write(session, change=ReminderRule.Event.APPOINTMENT_CANCELLED)
    return session


@transaction.atomic
def integration_session_complete(
    *, integration_session: IntegrationSession, notes: str, by: User
) -> IntegrationSession:
    """Mark a session held, with the clinician's integration notes (staff-only; the patient never sees them)."""
    if not by.has_role(Role.CLINICIAN):
        raise PermissionDenied("Only a clinician writes integration notes.")
    if not notes.strip():
        raise ValidationError("Write the integration notes.")
    session = _locked_integration(integration_session)
    if session.clinician_id != by.pk:
        raise PermissionDenied("Only the clinician who held the session writes its integration notes.")
    if session.starts_at > timezone.now():
        raise ValidationError("A session cannot be completed before it starts.")
    session = _set_integration_status(session, IntegrationSession.Status.COMPLETED, notes=notes)
    integration_session_completed.send(sender=IntegrationSession, session=session)
    return session


@transaction.atomic
def integration_session_no_show(*, integration_session: IntegrationSession, by: User) -> IntegrationSession:
    """Record that the patient did not come; only once the session has started."""
    _require_staff(by)
    session = _locked_integration(integration_session)
    if session.starts_at > timezone.now():
        raise ValidationError("A session cannot be marked as a no-show before it starts.")
    return _set_integration_status(session, IntegrationSession.Status.NO_SHOW, reason="No-show")


# ---- Check-in series ----------------------------------------------------------------------------


def induction_end_default(patient: Patient) -> date:
    """The day a series counts from when staff do not say: the patient's last held dosing session, else today."""
    last = (
        DosingSession.objects.filter(patient=patient, status=DosingSession.Status.COMPLETED)
        .order_by("-starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    return timezone.localtime(last).date() if last else timezone.localdate()


@transaction.atomic
def checkin_series_create(
    *,
    patient: Patient,
    by: User,
    induction_ended_on: date,
    instrument_codes: Sequence[str] = CHECKIN_INSTRUMENTS,
    weekly: int | None = None,
    later_every_weeks: int | None = None,
    horizon_weeks: int | None = None,
) -> list[CheckIn]:
    """Create the patient's check-ins from the cadence; returns those created.

    The cadence left out is the clinic's (ClinicSettings). Each opens at 09:00 clinic time on its day, is due and
    closes as the clinic's check-in window says (by default due 3 days later, closing 7 days after that).
    Days whose check-in would already be closed are skipped, and so are days the patient already has a check-in
    opening at that time, so creating a series twice adds nothing.
    """
    _require_staff(by)
    codes = list(dict.fromkeys(instrument_codes))
    if not codes or any(code not in PATIENT_INSTRUMENTS for code in codes):
        raise ValidationError("Choose the questionnaires for the check-ins.")
    policy = ClinicSettings.load()
    series = policy.checkin_series()  # the clinic's cadence, where this series does not choose its own
    chosen = {"weekly": weekly, "later_every_weeks": later_every_weeks, "horizon_weeks": horizon_weeks}
    series.update({name: value for name, value in chosen.items() if value is not None})
    try:
        days = cadence.checkin_dates(induction_ended_on, **series)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one series at a time per patient
    now = timezone.now()
    windows = [cadence.checkin_window(day, **policy.checkin_window()) for day in days]
    taken = set(
        CheckIn.objects.filter(patient=patient, opens_at__in=[_aware(w.opens) for w in windows]).values_list(
            "opens_at", flat=True
        )
    )
    created = []
    for window in windows:
        opens, due, closes = _aware(window.opens), _aware(window.due), _aware(window.closes)
        if closes <= now or opens in taken:
            continue
        checkin = CheckIn.objects.create(
            patient=patient, instruments=codes, opens_at=opens, due_at=due, closes_at=closes, created_by=by
        )
        reminders_sync(checkin)
        created.append(checkin)
    if not created:
        raise ValidationError("No new check-ins: every day of that series has passed or already has one.")
    return created


def _cancel(checkin: CheckIn) -> CheckIn:
    checkin.status = CheckIn.Status.CANCELLED
    checkin.save(update_fields=["status", "updated_at"])
    reminders_sync(checkin)
    return checkin


@transaction.atomic
def checkin_cancel(*, checkin: CheckIn, by: User) -> CheckIn:
    """Cancel one open check-in; the patient no longer sees it."""
    _require_staff(by)
    checkin = CheckIn.objects.select_for_update().get(pk=checkin.pk)
    if checkin.status != CheckIn.Status.OPEN:
        raise ValidationError(f"A {checkin.get_status_display().lower()} check-in cannot be cancelled.")
    return _cancel(checkin)


@transaction.atomic
def checkin_series_cancel(*, patient: Patient, by: User) -> list[CheckIn]:
    """Cancel every open check-in of the patient (those already answered or missed stay as they are)."""
    _require_staff(by)
    open_ones = CheckIn.objects.select_for_update().filter(patient=patient, status=CheckIn.Status.OPEN)
    return [_cancel(checkin) for checkin in open_ones]


# ---- The patient's answers and the flags they raise ---------------------------------------------


def phq9_totals_since_dosing(patient: Patient, *, exclude_checkin: CheckIn | None = None) -> list[int]:
    """PHQ-9 totals recorded since the episode's first dosing session (all of them if none yet), oldest first.

    Sources: check-ins and screening instruments (staff-entered or self-reported). The episode is the latest
    treatment plan whose dosing has begun (selectors.episode_starts), as for the baseline.
    """
    first_dose = episode_starts([patient.pk], begun_by=timezone.now()).get(patient.pk)
    points = phq9_points([patient.pk], exclude_checkin_id=exclude_checkin.pk if exclude_checkin else None)
    rows = points.get(patient.pk, [])
    if first_dose is not None:
        rows = [row for row in rows if row[0] >= first_dose]
    return [total for _, total in sorted(rows, key=lambda row: row[0])]


def pre_treatment_baseline(patient: Patient, *, exclude_checkin: CheckIn | None = None) -> int | None:
    """The episode's PHQ-9 baseline (the last score before its first dose), once dosing has begun; None otherwise."""
    started_at = episode_starts([patient.pk], begun_by=timezone.now()).get(patient.pk)
    if started_at is None:
        return None
    points = phq9_points([patient.pk], exclude_checkin_id=exclude_checkin.pk if exclude_checkin else None)
    return outcomes.episode(points.get(patient.pk, []), started_at).baseline


def _raise_item9_alert(checkin: CheckIn, *, summary: str) -> SuicideRiskAlert | None:
    # PHQ-9 item 9 above 0: urgent clinician review regardless of the total
    # (docs/clinical-references.md#instruments, #relapse). It opens a moderate suicide-risk alert (as in a screening),
    # so it reaches the next dosing day's pre-dose checks and holds dosing until a clinician has reviewed it. One alert
    # per check-in: the same answer sent again does not alert again.
    return risk_alert_raise(
        patient=checkin.patient,
        code="phq9",
        level="moderate",
        source=SuicideRiskAlert.Source.CHECKIN,
        source_ref=f"checkin-{checkin.pk}",
        summary=summary,
        link=_chart_link(checkin.patient),
    )


def _raise_flags(checkin: CheckIn, scores: Mapping[str, instruments.InstrumentScore]) -> list[StaffAlert]:
    phq9 = scores.get("phq9")
    if phq9 is None:
        return []
    patient, link, alerts = checkin.patient, _chart_link(checkin.patient), []
    if "item9" in phq9.flags:
        _raise_item9_alert(checkin, summary="PHQ-9 item 9 (thoughts of self-harm) answered above 0 on a check-in.")
    reason = relapse.relapse_reason(
        phq9_totals_since_dosing(patient, exclude_checkin=checkin),
        phq9.total,
        baseline=pre_treatment_baseline(patient, exclude_checkin=checkin),
        **ClinicSettings.load().relapse_thresholds(),
    )
    if reason is not None:
        alerts.append(
            staff_alert_raise(
                kind=StaffAlert.Kind.RELAPSE,
                key=f"checkin-{checkin.pk}-relapse",
                patient_id=patient.pk,
                clinician_id=patient.primary_clinician_id,
                summary=f"Relapse warning on a check-in: {reason}",
                link=link,
            )
        )
    return alerts


@transaction.atomic
def checkin_submit(*, checkin: CheckIn, answers: Mapping[str, Sequence[int | None]], by: User) -> CheckIn:
    """The patient's answers to every instrument of their open check-in, scored and stored; the check-in completes.

    Refused before it opens, after it closes, or once answered. Raises the staff alerts the answers call for.
    """
    checkin = CheckIn.objects.select_for_update().select_related("patient").get(pk=checkin.pk)
    if not is_portal_user_of(by, checkin.patient):
        raise PermissionDenied
    now = timezone.now()
    if checkin.status != CheckIn.Status.OPEN:
        raise ValidationError(f"This check-in is {checkin.get_status_display().lower()}; it cannot be filled again.")
    if now < checkin.opens_at:
        raise ValidationError("This check-in is not open yet.")
    if now >= checkin.closes_at:
        raise ValidationError("This check-in has closed.")
    missing = [instruments.get(code).name for code in checkin.instruments if code not in answers]
    if missing:
        raise ValidationError(f"Answer {', '.join(missing)}.")
    sex = checkin.patient.sex_for_scoring or None
    pcl5_cutoff = ClinicSettings.load().pcl5_cutoff if "pcl5" in checkin.instruments else None
    scores = {}
    for code in checkin.instruments:
        try:
            scores[code] = instruments.score(code, list(answers[code]), sex=sex, pcl5_cutoff=pcl5_cutoff)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    for code, result in scores.items():
        CheckInResponse.objects.create(
            checkin=checkin,
            code=code,
            answers=list(answers[code]),
            total=result.total,
            band=result.band,
            flags=list(result.flags),
        )
    checkin.status, checkin.completed_at = CheckIn.Status.COMPLETED, now
    checkin.save(update_fields=["status", "completed_at", "updated_at"])
    reminders_sync(checkin)
    _raise_flags(checkin, scores)
    return checkin


@transaction.atomic
def checkin_unsent_answers_check(
    *, checkin: CheckIn, answers: Mapping[str, Sequence[int | None]], by: User
) -> SuicideRiskAlert | None:
    """Answers the patient sent that cannot complete the check-in yet (a question left blank): nothing is stored, but
    PHQ-9 item 9 above 0 alerts clinicians at once, as a screening draft does, in case the patient never finishes."""
    checkin = CheckIn.objects.select_for_update().select_related("patient").get(pk=checkin.pk)
    if not is_portal_user_of(by, checkin.patient):
        raise PermissionDenied
    now = timezone.now()
    if checkin.status != CheckIn.Status.OPEN or not checkin.opens_at <= now < checkin.closes_at:
        return None
    phq9 = list(answers.get("phq9") or []) if "phq9" in checkin.instruments else []
    item9 = instruments.get("phq9").item("item9")
    value = phq9[item9.number - 1] if len(phq9) >= item9.number else None
    if value is None or value < item9.critical_at:
        return None
    return _raise_item9_alert(
        checkin,
        summary="PHQ-9 item 9 (thoughts of self-harm) answered above 0 on a check-in the patient has not finished.",
    )


@transaction.atomic
def checkin_mark_missed(*, checkin_id: int, now: datetime | None = None) -> CheckIn | None:
    """Mark an open check-in past its closing time as missed and alert its clinician; None if it no longer is one.

    The row lock and the status check are the claim: a second run, or a patient's answer racing it, finds it no
    longer open.
    """
    now = now or timezone.now()
    checkin = (
        CheckIn.objects.select_for_update()
        .select_related("patient")
        .filter(pk=checkin_id, status=CheckIn.Status.OPEN, closes_at__lte=now)
        .first()
    )
    if checkin is None:
        return None
    checkin.status = CheckIn.Status.MISSED
    checkin.save(update_fields=["status", "updated_at"])
    reminders_sync(checkin)
    staff_alert_raise(
        kind=StaffAlert.Kind.CHECKIN_MISSED,
        key=f"checkin-{checkin.pk}-missed",
        patient_id=checkin.patient_id,
        clinician_id=checkin.patient.primary_clinician_id,
        summary=f"Check-in due {timezone.localtime(checkin.due_at):%Y-%m-%d} was not filled in.",
        link=_chart_link(checkin.patient),
    )
    return checkin


def overdue_checkin_ids(*, now: datetime | None = None) -> list[int]:
    """Open check-ins past their closing time (the status-and-due index narrows them)."""
    now = now or timezone.now()
    return list(CheckIn.objects.filter(status=CheckIn.Status.OPEN, closes_at__lte=now).values_list("pk", flat=True))
