from django.contrib import admin

from kap_clinic.audit.services import record_chart_view

from .models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("mrn", "date_of_birth", "primary_clinician", "created_at")
    search_fields = ("mrn",)
    readonly_fields = ("mrn", "created_at", "updated_at")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = self.get_object(request, object_id)
        if patient is not None:
            record_chart_view(obj=patient)
        return super().change_view(request, object_id, form_url, extra_context)
