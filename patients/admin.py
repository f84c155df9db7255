from django.contrib import admin

from kap_clinic.audit.services import record_chart_view

from .models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("mrn", "date_of_birth", "primary_clinician", "created_at")
    search_fields = ("mrn",)
    # Status moves only along the program path (patients.services); the admin shows it, never sets it.
    readonly_fields = ("mrn", "status", "created_at", "updated_at")
    exclude = ("family_name_key",)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = self.get_object(request, object_id)
        if patient is not None:
            record_chart_view(obj=patient)
        return super().change_view(request, object_id, form_url, extra_context)
