"""Back-office pages of coverage and pre-authorization: insurance policies, self-pay records, packets sent to payers
and the pre-authorization work list. Every row changes only through the coverage and pre-authorization pages (one
active primary policy, self-pay ending the policies, a packet sent once), so these pages only show them, and opening
or listing them records a read of the patient's record."""

from django.contrib import admin

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin

from .coverage_models import InsurancePolicy, PreauthSubmission, PreauthWorkItem, SelfPay


@admin.register(InsurancePolicy)
class InsurancePolicyAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("__str__", "payer", "plan_name", "rank", "effective_from", "effective_to", "is_active")
    list_filter = ("is_active", "rank", "payer")
    list_select_related = ("payer",)


@admin.register(SelfPay)
class SelfPayAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("__str__", "since", "recorded_at")


class _ThroughAuthorizationAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    """Rows that belong to a patient through their authorization: the reads are recorded against its patient."""

    list_reads = False  # the rows name their authorization; the patients are recorded through it below
    list_select_related = ("authorization",)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = getattr(response, "context_data", None) and response.context_data.get("original")
        if obj is not None and response.status_code == 200:
            record_chart_view(obj=obj.authorization)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) and response.context_data.get("cl")
        if changelist is not None and response.status_code == 200:
            record_reads(rows=[row.authorization for row in changelist.result_list])
        return response


@admin.register(PreauthSubmission)
class PreauthSubmissionAdmin(_ThroughAuthorizationAdmin):
    list_display = ("__str__", "authorization", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel")


@admin.register(PreauthWorkItem)
class PreauthWorkItemAdmin(_ThroughAuthorizationAdmin):
    list_display = ("__str__", "authorization", "kind", "created_at", "done_at")
    list_filter = ("kind",)
