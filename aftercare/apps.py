from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "aftercare"
    verbose_name = "Aftercare and integration"

    def ready(self):
        # Imported here, once the app registry is ready: the selectors load the models.
        from sessions.scheduling.booking import busy_source_register

        from . import selectors

        busy_source_register(selectors.INTEGRATION_SESSION, selectors.integration_sessions_busy)
