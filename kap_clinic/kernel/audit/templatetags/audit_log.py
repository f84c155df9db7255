"""The audit log's rows written out once in Python: a page of fifty entries printed cell by cell in the template
(a date filter, a user's name, a choice's label, a content type's name, the changed fields) cost more than its
queries."""

from typing import NamedTuple

from auditlog.models import LogEntry
from django import template
from django.utils import timezone

register = template.Library()

_ACTIONS = dict(LogEntry.Action.choices)


class AuditRow(NamedTuple):
    when: str
    who: str
    action: str
    record: str
    changed: str
    address: str


@register.filter
def audit_rows(entries) -> list[AuditRow]:
    """Each entry as the cells its row prints: when (in the clinic's time, to the second), who, what was done, to
    which record, the fields it changed and the address it came from."""
    kinds: dict[int, str] = {}
    rows = []
    for entry in entries:
        kind = kinds.get(entry.content_type_id)
        if kind is None:
            kind = kinds[entry.content_type_id] = entry.content_type.name
        changes = entry.changes
        rows.append(
            AuditRow(
                when=f"{timezone.localtime(entry.timestamp):%Y-%m-%d %H:%M:%S}",
                who=entry.actor.get_username() if entry.actor_id else "system",
                action=str(_ACTIONS.get(entry.action, entry.action)),
                record=f"{kind} {entry.object_repr}",
                changed=", ".join(changes) if isinstance(changes, dict) else "",
                address=entry.remote_addr or "",
            )
        )
    return rows
