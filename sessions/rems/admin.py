"""Back-office view of the REMS forms: read only, since forms change only through `sessions.rems.delivery`."""

from django.contrib import admin

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin

from ..models import RemsMonitoringForm


@admin.register(RemsMonitoringForm)
class RemsMonitoringFormAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_reads = False  # rows name a session number, not a patient
    list_display = ("pk", "session", "treatment_date", "signed_at", "submitted_at")
    list_filter = ("submitted_at",)
