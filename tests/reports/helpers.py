"""A patient's course of treatment seeded for the report tests: screening, diagnosis, a series of doses with their
vitals, scores and adverse events, and check-ins after dosing began."""

import io
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from pypdf import PdfReader

from aftercare.models import CheckIn, CheckInResponse
from screening.models import Diagnosis
from screening.services import response_save, screening_start
from sessions.models import AdverseEvent, DoseAdministration, DosingSession, ScaleScore, VitalSign
from tests.sessions.record_helpers import book_session


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def pdf_pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def seed_course(patient, clinician, *, front_desk, icd10="F33.2", sessions=3, phq9_after=(9, 4)) -> list[DosingSession]:
    """Baseline PHQ-9 of 20 (answers summing to 20), a diagnosis, `sessions` doses and check-ins after them."""
    screening = screening_start(patient=patient, by=front_desk)
    response_save(screening=screening, code="phq9", answers=[3, 3, 3, 3, 2, 2, 2, 2, 0], complete=True, by=front_desk)
    Diagnosis.objects.create(
        screening=screening, icd10_code=icd10, description="Major depressive disorder", is_primary=True
    )
    first = book_session(patient, clinician, ready=False)
    doses = list(first.plan.sessions.order_by("starts_at")[:sessions])
    for index, session in enumerate(doses):
        DosingSession.objects.filter(pk=session.pk).update(status=DosingSession.Status.COMPLETED)
        at = session.starts_at + timedelta(minutes=10)
        DoseAdministration.objects.create(
            session=session,
            dose_mg_given=Decimal("35.0"),
            dose_mg_per_kg=Decimal("0.5"),
            dosed_at=at,
            dosed_by=clinician,
        )
        for minutes, sbp in ((0, 122), (20, 141 + index), (40, 128)):
            VitalSign.objects.create(
                session=session,
                taken_at=at + timedelta(minutes=minutes),
                minutes_from_dose=minutes,
                sbp=sbp,
                dbp=80,
                hr=70 + minutes // 10,
                spo2=98,
                recorded_by=clinician,
            )
        ScaleScore.objects.create(
            session=session, scale="moaas", score=3, taken_at=at, minutes_from_dose=20, recorded_by=clinician
        )
        ScaleScore.objects.create(
            session=session, scale="cadss", score=17 + index, taken_at=at, minutes_from_dose=30, recorded_by=clinician
        )
        if index == 0:
            AdverseEvent.objects.create(
                session=session, kind="nausea", onset_at=at, severity="moderate", recorded_by=clinician
            )
    last = doses[-1].starts_at
    for offset, total in enumerate(phq9_after, start=1):
        opens = last + timedelta(days=offset * 7)
        checkin = CheckIn.objects.create(
            patient=patient,
            instruments=["phq9"],
            opens_at=opens,
            due_at=opens + timedelta(days=3),
            closes_at=opens + timedelta(days=10),
            status=CheckIn.Status.COMPLETED,
            completed_at=opens + timedelta(hours=2),
        )
        CheckInResponse.objects.create(checkin=checkin, code="phq9", answers=[], total=total, band="")
    return doses


def more_checkins(patient, count: int) -> None:
    start = timezone.now() + timedelta(days=800)
    for index in range(count):
        opens = start + timedelta(days=index)
        CheckIn.objects.create(
            patient=patient,
            instruments=["phq9"],
            opens_at=opens,
            due_at=opens + timedelta(days=3),
            closes_at=opens + timedelta(days=10),
        )
