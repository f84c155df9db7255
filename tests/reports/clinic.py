"""A small clinic with hand-countable facts, built row by row at explicit dates (March 2026, clinic time)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from aftercare.models import CheckIn, CheckInResponse, IntegrationSession
from kap_clinic.rules import instruments
from screening.models import Diagnosis, InstrumentResponse, Screening
from sessions.models import AdverseEvent, DoseAdministration, DosingSession, Enrollment, Protocol, Room, TreatmentPlan


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_current_timezone())


def answers_for(code: str, total) -> list[int | None]:
    """Answers to `code` adding up to `total` (items filled from the first, each up to its highest value), or the
    answers themselves when a list is given."""
    if isinstance(total, list):
        return total
    instrument = instruments.get(code)
    answers, left = [], total
    for item in instrument.items:
        step = min(max(item.allowed_values), left)
        answers.append(step)
        left -= step
    assert left == 0
    return answers


def enroll(patient, clinician, on: date) -> Enrollment:
    enrollment = Enrollment.objects.create(patient=patient, enrolled_by=clinician, override_justification="Test.")
    Enrollment.objects.filter(pk=enrollment.pk).update(enrolled_at=at(on, 9))
    return enrollment


def plan(patient, clinician, *, route: str, on: date) -> TreatmentPlan:
    protocol = Protocol.objects.get(route=route)
    return TreatmentPlan.objects.create(
        patient=patient,
        enrollment=enroll(patient, clinician, on),
        protocol=protocol,
        planned_dose=protocol.default_dose,
        first_day=on,
        created_by=clinician,
    )


def room(name: str) -> Room:
    return Room.objects.get_or_create(name=name)[0]


def dosing(
    treatment: TreatmentPlan,
    starts_at: datetime,
    *,
    status: str = "completed",
    chair: Room,
    hours: int = 2,
    phase: str = "induction",
    kind: str = "series",
    mg: str | None = None,
) -> DosingSession:
    sequence = DosingSession.objects.filter(plan=treatment).count() + 1
    session = DosingSession.objects.create(
        plan=treatment,
        patient=treatment.patient,
        protocol=treatment.protocol,
        sequence=sequence,
        phase=phase,
        kind=kind,
        planned_dose=treatment.planned_dose,
        room=chair,
        clinician=treatment.created_by,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        dose_window_ends_at=starts_at + timedelta(hours=1),
        status=status,
        cancelled_by="clinic" if status == "cancelled" else None,
    )
    if mg is not None:
        DoseAdministration.objects.create(
            session=session,
            dose_mg_given=Decimal(mg),
            dosed_at=starts_at + timedelta(minutes=15),
            dosed_by=session.clinician,
        )
    return session


def adverse(session: DosingSession, severity: str, kind: str = "nausea") -> AdverseEvent:
    return AdverseEvent.objects.create(
        session=session,
        kind=kind,
        onset_at=session.starts_at + timedelta(minutes=30),
        severity=severity,
        recorded_by=session.clinician,
    )


def screened(patient, by, when: datetime, scores: dict[str, int], diagnoses=()) -> Screening:
    """A completed screening at `when` with instrument totals and ICD-10 diagnoses."""
    screening = Screening.objects.create(
        patient=patient, status="completed", created_by=by, completed_at=when, computed_outcome="eligible"
    )
    for code, total in scores.items():
        answers = answers_for(code, total)
        result = instruments.score(code, answers)
        response = InstrumentResponse.objects.create(
            screening=screening,
            code=code,
            answers=answers,
            is_complete=True,
            total=result.total,
            band=result.band,
            entered_by=by,
        )
        InstrumentResponse.objects.filter(pk=response.pk).update(updated_at=when)
    for code, description in diagnoses:
        Diagnosis.objects.create(screening=screening, icd10_code=code, description=description)
    return screening


def checked_in(patient, when: datetime, scores: dict[str, int]) -> CheckIn:
    """A check-in the patient completed at `when`."""
    checkin = CheckIn.objects.create(
        patient=patient,
        instruments=list(scores),
        opens_at=when - timedelta(days=1),
        due_at=when + timedelta(days=2),
        closes_at=when + timedelta(days=7),
        status=CheckIn.Status.COMPLETED,
        completed_at=when,
    )
    for code, total in scores.items():
        answers = answers_for(code, total)
        result = instruments.score(code, answers)
        CheckInResponse.objects.create(
            checkin=checkin, code=code, answers=answers, total=result.total, band=result.band
        )
    return checkin


def integration(patient, clinician, when: datetime, *, status: str = "completed", minutes: int = 60):
    return IntegrationSession.objects.create(
        patient=patient,
        clinician=clinician,
        modality=IntegrationSession.Modality.MBCT,
        starts_at=when,
        duration_minutes=minutes,
        status=status,
    )
