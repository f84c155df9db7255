from django.contrib import admin

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin

from . import services
from .models import Patient


@admin.register(Patient)
class PatientAdmin(PatientReadAuditAdmin, admin.ModelAdmin):
    list_display = ("mrn", "date_of_birth", "primary_clinician", "created_at")
    search_fields = ("mrn",)
    # Status moves only along the program path (patients.services); the admin shows it, never sets it.
    readonly_fields = ("mrn", "status", "created_at", "updated_at")
    exclude = ("family_name_key",)

    def save_model(self, request, obj, form, change):
        """An edit goes through the same service as the chart's edit page, so a change of contact details or consent
        re-plans the patient's reminders there too."""
        if not change:
            return super().save_model(request, obj, form, change)
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        current = Patient.objects.get(pk=obj.pk)
        saved = services.patient_update(patient=current, updated_by=request.user, **fields)
        obj.refresh_from_db()
        return saved
