from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "kap_clinic.kernel.clinic"
    label = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        # Imported once the app registry is ready: the admin site and the forms it checks load models.
        from django.contrib import admin

        from kap_clinic.kernel.validation import bound_admin_forms

        # The admin site registered its models when django.contrib.admin (listed first) was ready.
        bound_admin_forms(admin.site)
