from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self):
        from kap_clinic.kernel.accounts import patient_scope

        from .selectors import visible_through

        # Models load only once every app is registered, so the selectors are imported here, not at the top.
        patient_scope.register(visible_through)
