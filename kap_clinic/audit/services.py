"""Audit entries beyond the create/update/delete that django-auditlog records on its own.

Each model holding patient data registers with auditlog in its models.py and says which patient it
belongs to through `get_additional_data()`; reads of a chart are recorded here, in the request's
transaction, with the actor and address that AuditlogMiddleware supplies.
"""

from auditlog.signals import accessed


def record_chart_view(*, obj) -> None:
    """Record that the signed-in user opened this patient record."""
    accessed.send(sender=obj.__class__, instance=obj)


def record_account_event(*, user, event: str) -> None:
    """Record something done to a sign-in account that is not a saved field (a password-reset link emailed, a
    password set through it), with the actor and address the middleware supplies."""
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(
        user,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes={"account": ["", event]},
        additional_data={"event": event},
    )
