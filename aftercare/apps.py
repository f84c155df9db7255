from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "aftercare"
    verbose_name = "Aftercare and integration"

    def ready(self):
        from kap_clinic.kernel.notifications import occasions

        from .occasions import CheckInOccasion, IntegrationOccasion

        # Models load only once every app is registered, so the occasions are imported here, not at the top.
        occasions.register(IntegrationOccasion())
        occasions.register(CheckInOccasion())
