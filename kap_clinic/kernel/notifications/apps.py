from django.apps import AppConfig

from kap_clinic.kernel import reference_data

from . import reference_data as defaults


class NotificationsConfig(AppConfig):
    name = "kap_clinic.kernel.notifications"
    label = "notifications"
    verbose_name = "Reminders and notifications"

    def ready(self):
        reference_data.register(defaults.seed)
