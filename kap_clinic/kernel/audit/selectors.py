import re
from datetime import date, datetime, time
from typing import NamedTuple

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
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


# How the audit trail writes "no value": None, or an empty set of related rows ("app.Model.None").
_EMPTY = re.compile(r"^(None|[\w]+\.[\w]+\.None)$")


def _value(value) -> str:
    text = "" if value is None else str(value)
    return "" if _EMPTY.match(text) else text


def _field_label(entry: LogEntry, name: str, labels: dict) -> str:
    """A changed field as the record's forms name it ("systolic BP before administration", not `bp_pre_systolic`);
    `labels` keeps each record type's names once looked up."""
    key = (entry.content_type_id, name)
    if key not in labels:
        model = entry.content_type.model_class() if entry.content_type_id else None
        try:
            field = model._meta.get_field(name) if model is not None else None
        except FieldDoesNotExist:
            field = None
        labels[key] = str(getattr(field, "verbose_name", "") or name.replace("_", " "))
    return labels[key]


def changed_fields(entry: LogEntry, labels: dict) -> list[tuple[str, str, str]]:
    """The entry's changed fields as (name, old, new), named as the record's forms name them, leaving out fields that
    were and stay empty (a new record's empty lists of related rows)."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    rows = []
    for name, change in changes.items():
        if isinstance(change, list | tuple) and len(change) == 2:
            old, new = _value(change[0]), _value(change[1])
        else:
            old, new = "", _value(change)
        if old or new:
            rows.append((_field_label(entry, str(name), labels), old, new))
    return rows


def audit_log_rows(entries) -> list[AuditRow]:
    """Each entry as the cells the audit log's row prints, worked out once in Python (a page of fifty entries printed
    cell by cell in the template cost more than its queries): when (in the clinic's time, to the second), who, what
    was done, to which record, the fields it changed and the address it came from."""
    kinds: dict[int, str] = {}
    labels: dict = {}
    rows = []
    for entry in entries:
        rows.append(
            AuditRow(
                when=f"{timezone.localtime(entry.timestamp):%Y-%m-%d %H:%M:%S}",
                who=entry_who(entry),
                action=str(_ACTIONS.get(entry.action, entry.action)),
                record=entry_record(entry, kinds),
                changed=", ".join(name for name, _, _ in changed_fields(entry, labels)),
                address=entry.remote_addr or "",
            )
        )
    return rows
