from django.contrib import admin

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin

from .models import Patient


@admin.register(Patient)
class PatientAdmin(PatientReadAuditAdmin, admin.ModelAdmin):
    list_display = ("mrn", "date_of_birth", "primary_clinician", "created_at")
    search_fields = ("mrn",)
    # Status moves only along the program path (patients.services); the admin shows it, never sets it.
    readonly_fields = ("mrn", "status", "created_at", "updated_at")
    exclude = ("family_name_key",)
