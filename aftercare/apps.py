from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "aftercare"
    verbose_name = "Aftercare and integration"

    def ready(self):
        # Models load only once every app is registered, so these modules are imported here, not at the top.
        from kap_clinic.kernel.notifications import occasions
        from sessions.calendar import feed_source_register
        from sessions.scheduling.booking import busy_source_register

        from . import selectors
        from .occasions import CheckInOccasion, IntegrationOccasion

        occasions.register(IntegrationOccasion())
        occasions.register(CheckInOccasion())
        busy_source_register(selectors.INTEGRATION_SESSION, selectors.integration_sessions_busy)
        feed_source_register(selectors.INTEGRATION_SESSION, selectors.integration_feed_items)
