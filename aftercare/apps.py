from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "aftercare"
    verbose_name = "Aftercare and integration"

    def ready(self):
        # Models load only once every app is registered, so these modules are imported here, not at the top.
        from kap_clinic.kernel.notifications import occasions
        from screening.selectors import alert_answer_reader_register
        from sessions.calendar import feed_source_register
        from sessions.scheduling.booking import busy_source_register

        from . import selectors
        from .occasions import CheckInOccasion, IntegrationOccasion

        occasions.register(IntegrationOccasion())
        occasions.register(CheckInOccasion())
        alert_answer_reader_register("checkin", selectors.checkin_alert_answers)
        busy_source_register(selectors.INTEGRATION_SESSION, selectors.integration_sessions_busy)
        feed_source_register(selectors.INTEGRATION_SESSION, selectors.integration_feed_items)
