"""Shared builders for the aftercare tests."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from aftercare.models import CheckIn, IntegrationSession
from aftercare.services import integration_session_book


def local_at(days: int, hour: int = 11, minute: int = 0) -> datetime:
    """An aware datetime `days` days from today at the given clinic wall-clock time."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_current_timezone())


def book(patient, clinician, *, days=2, hour=11, minute=0, duration=50, by=None) -> IntegrationSession:
    return integration_session_book(
        patient=patient,
        clinician=clinician,
        modality=IntegrationSession.Modality.MBCT,
        starts_at=local_at(days, hour, minute),
        duration_minutes=duration,
        by=by or clinician,
    )


def open_checkin(patient, *, opened_ago=timedelta(hours=1), instruments=("phq9", "gad7"), **fields) -> CheckIn:
    """A check-in open now: opened `opened_ago`, due 3 days after opening, closing a week after that."""
    opens = timezone.now() - opened_ago
    defaults = {
        "patient": patient,
        "instruments": list(instruments),
        "opens_at": opens,
        "due_at": opens + timedelta(days=3),
        "closes_at": opens + timedelta(days=10),
    }
    defaults.update(fields)
    return CheckIn.objects.create(**defaults)


PHQ9_CALM = [0, 1, 0, 1, 0, 0, 1, 0, 0]  # total 3, item 9 = 0
GAD7_CALM = [1, 0, 0, 1, 0, 0, 0]  # total 2


def phq9_total(total: int, *, item9: int = 0) -> list[int]:
    """PHQ-9 answers adding up to `total` with item 9 as given."""
    answers, left = [], total - item9
    for _ in range(8):
        step = min(3, left)
        answers.append(step)
        left -= step
    assert left == 0, "total too high for the other items"
    return [*answers, item9]
