from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and insurance"

    def ready(self):
        # The services module needs the models, which load only once every app is registered.
        from .services import connect_session_signals

        connect_session_signals()
