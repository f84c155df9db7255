from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kap_clinic.kernel.notifications"
    label = "notifications"
    verbose_name = "Reminders and notifications"
