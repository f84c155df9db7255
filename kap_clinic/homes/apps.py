from django.apps import AppConfig


class HomesConfig(AppConfig):
    """Pages that gather several apps (role homes, the staff chart, the patient's schedule) and the wiring that lets
    a lower app's news reach the apps above it."""

    name = "kap_clinic.homes"
    label = "homes"
    verbose_name = "Home pages"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the receivers (app registry must be ready first)
