from django.apps import AppConfig


class SessionsConfig(AppConfig):
    # The label `sessions` belongs to django.contrib.sessions; ours is fixed from the first migration.
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = "Dosing sessions"

    def ready(self):
        # Imported here, once the app registry is ready: the services module loads the models.
        from .scheduling import booking, services

        booking.busy_source_register(services.DOSING_SESSION, services.dosing_sessions_busy)
