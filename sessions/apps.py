from django.apps import AppConfig

from kap_clinic.kernel import reference_data

from . import reference_data as defaults


class SessionsConfig(AppConfig):
    # The label `sessions` belongs to django.contrib.sessions; ours is fixed from the first migration.
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = "Dosing sessions"

    def ready(self):
        reference_data.register(defaults.seed)
