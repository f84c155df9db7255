from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "kap_clinic.clinic"
    label = "clinic"
    verbose_name = "Clinic"
