from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kap_clinic.kernel.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Models, and the modules that import them, load only once the app registry is ready.
        from auditlog.models import LogEntry
        from django.db.models.signals import post_migrate

        from . import security
        from .privileges import append_only, grant_after_migrate

        append_only(LogEntry)
        post_migrate.connect(grant_after_migrate, dispatch_uid="kap_clinic.kernel.audit.grant_runtime_role")
        security.register_models()
        security.connect_signals()
