from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and insurance"

    def ready(self):
        # The services modules need the models, which load only once every app is registered.
        from sessions.scheduling.checks import booking_check_register

        from .coverage import authorization_booking_check
        from .services import connect_session_signals

        connect_session_signals()
        booking_check_register("insurance authorization", authorization_booking_check)
