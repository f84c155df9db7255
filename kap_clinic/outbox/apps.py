from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "kap_clinic.outbox"
    label = "outbox"
    verbose_name = "Email outbox"
