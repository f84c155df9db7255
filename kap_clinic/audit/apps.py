from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kap_clinic.audit"
    label = "audit"
    verbose_name = "Audit log"
