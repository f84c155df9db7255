"""Audit entries beyond the create/update/delete that django-auditlog records on its own.

Each model holding patient data registers with auditlog in its models.py and says which patient it
belongs to through `get_additional_data()`; reads of a chart are recorded here, in the request's
transaction, with the actor and address that AuditlogMiddleware supplies.
"""

from auditlog.models import LogEntry
from auditlog.signals import accessed


def record_chart_view(*, obj) -> None:
    """Record that the signed-in user opened this patient record."""
    accessed.send(sender=obj.__class__, instance=obj)


def record_security_event(*, obj, event: str) -> None:
    """Record an account-security event about obj (an admin's two-factor reset), with the request's actor."""
    LogEntry.objects.log_create(
        obj, force_log=True, action=LogEntry.Action.UPDATE, changes={"security event": [None, event]}
    )
