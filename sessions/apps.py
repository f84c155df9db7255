from django.apps import AppConfig

from kap_clinic.kernel import reference_data

from . import reference_data as defaults


class SessionsConfig(AppConfig):
    # The label `sessions` belongs to django.contrib.sessions; ours is fixed from the first migration.
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = "Dosing sessions"

    def ready(self):
        # Models load only once every app is registered, so these modules are imported here, not at the top.
        from kap_clinic.kernel.notifications import occasions
        from kap_clinic.kernel.notifications.models import register_preparation_routes
        from screening.selectors import alert_answer_reader_register

        from . import selectors
        from .models import Route
        from .occasions import DosingOccasion
        from .scheduling import booking, planning

        occasions.register(DosingOccasion())
        alert_answer_reader_register("session", selectors.rescreen_alert_answers)
        register_preparation_routes(Route.choices)
        reference_data.register(defaults.seed)
        booking.busy_source_register(planning.DOSING_SESSION, planning.dosing_sessions_busy)
