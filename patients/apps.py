from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self):
        # Models load only once every app is registered, so these modules are imported here, not at the top.
        from kap_clinic.kernel.accounts import patient_scope

        from .selectors import visible_through

        patient_scope.register(visible_through)
