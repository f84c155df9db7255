from functools import partial

from django.apps import AppConfig
from django.db import connections, transaction


class AuditConfig(AppConfig):
    name = "kap_clinic.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        from auditlog.models import LogEntry
        from django.db.models.signals import post_migrate, post_save

        from . import security
        from .privileges import append_only, grant_after_migrate

        append_only(LogEntry)
        post_migrate.connect(grant_after_migrate, dispatch_uid="kap_clinic.audit.grant_runtime_role")
        post_save.connect(_seal_entry, sender=LogEntry, dispatch_uid="kap_clinic.audit.seal_entry")
        security.register_models()
        security.connect_signals()


def _seal_entry(sender, instance, created, raw=False, using="default", **kwargs):
    """Where the database does not seal entries itself (PostgreSQL does, at commit), seal them after the commit."""
    if created and not raw and connections[using].vendor != "postgresql":
        from .chain import seal_pending_entries  # imports the models, which must not load while the registry fills

        transaction.on_commit(partial(seal_pending_entries, using=using), using=using)
