from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and insurance"

    def ready(self):
        # The services modules need the models, which load only once every app is registered.
        from kap_clinic.kernel import reference_data
        from sessions.scheduling.checks import booking_check_register

        from .coverage import authorization_booking_check
        from .ledger import reference_data as ledger_defaults
        from .ledger.charges import connect_charge_signals
        from .services import connect_session_signals

        connect_session_signals()
        connect_charge_signals()
        booking_check_register("insurance authorization", authorization_booking_check)
        reference_data.register(ledger_defaults.seed)
