from datetime import date, datetime, time

from auditlog.models import LogEntry
from django.db.models import QuerySet
from django.utils import timezone


def audit_entries(
    *,
    patient_id: int | None = None,
    actor_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[LogEntry]:
    """Audit entries, newest first, filtered by patient, acting user and period (dates in clinic time)."""
    qs = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    if patient_id is not None:
        qs = qs.filter(additional_data__patient_id=patient_id)
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    tz = timezone.get_current_timezone()
    if start is not None:
        qs = qs.filter(timestamp__gte=timezone.make_aware(datetime.combine(start, time.min), tz))
    if end is not None:
        qs = qs.filter(timestamp__lt=timezone.make_aware(datetime.combine(end, time.max), tz))
    return qs
