from django.contrib import admin

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin

from .models import CheckIn, IntegrationSession


@admin.register(IntegrationSession)
class IntegrationSessionAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("pk", "patient", "clinician", "modality", "starts_at", "status")
    list_select_related = ("patient", "clinician")
    list_filter = ("status", "modality")
    exclude = ("notes",)  # integration notes are read on the patient's aftercare page, where the view is audited


@admin.register(CheckIn)
class CheckInAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("pk", "patient", "opens_at", "due_at", "closes_at", "status")
    list_select_related = ("patient",)
    list_filter = ("status",)
