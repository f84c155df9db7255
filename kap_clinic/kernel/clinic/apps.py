from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "kap_clinic.kernel.clinic"
    label = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        # Loaded once the app registry is ready: admin and the checks read settings and models.
        from django.contrib import admin

        from kap_clinic.kernel import checks  # noqa: F401 - registers the configuration checks
        from kap_clinic.kernel.validation import bound_admin_forms

        # The admin site registered its models when django.contrib.admin (listed first) was ready.
        bound_admin_forms(admin.site)
