from django.apps import AppConfig

# The Celery app must exist in every process that sends a task (the site as well as the worker), so that shared tasks
# bind to it rather than to a default app; the kernel loads it with the apps rather than from kap_clinic/__init__.py,
# which would pull Celery and Django into every import of the pure rules.
from kap_clinic.celery import app as celery_app  # noqa: F401


class OutboxConfig(AppConfig):
    name = "kap_clinic.kernel.outbox"
    label = "outbox"
    verbose_name = "Email outbox"
