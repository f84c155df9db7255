from datetime import date, datetime, time
from typing import NamedTuple

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


_ACTIONS = dict(LogEntry.Action.choices)


class AuditRow(NamedTuple):
    when: str
    who: str
    action: str
    record: str
    changed: str
    address: str


def entry_who(entry: LogEntry) -> str:
    """Who made the entry: the acting user's name, or "system" for a task or a command."""
    return entry.actor.get_username() if entry.actor_id else "system"


def entry_record(entry: LogEntry, kinds: dict[int, str]) -> str:
    """The record an entry is about ("patient KL-0000001"); `kinds` keeps each record type's name once looked up."""
    if not entry.content_type_id:
        return entry.object_repr
    kind = kinds.get(entry.content_type_id)
    if kind is None:
        kind = kinds[entry.content_type_id] = entry.content_type.name
    return f"{kind} {entry.object_repr}"


def audit_log_rows(entries) -> list[AuditRow]:
    """Each entry as the cells the audit log's row prints, worked out once in Python (a page of fifty entries printed
    cell by cell in the template cost more than its queries): when (in the clinic's time, to the second), who, what
    was done, to which record, the fields it changed and the address it came from."""
    kinds: dict[int, str] = {}
    rows = []
    for entry in entries:
        changes = entry.changes
        rows.append(
            AuditRow(
                when=f"{timezone.localtime(entry.timestamp):%Y-%m-%d %H:%M:%S}",
                who=entry_who(entry),
                action=str(_ACTIONS.get(entry.action, entry.action)),
                record=entry_record(entry, kinds),
                changed=", ".join(changes) if isinstance(changes, dict) else "",
                address=entry.remote_addr or "",
            )
        )
    return rows
