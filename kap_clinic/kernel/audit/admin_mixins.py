"""The back office reads patient records too: its pages record reads as the clinic's own pages do."""

from .services import record_chart_view, record_reads


class PatientReadAuditAdmin:
    """ModelAdmin mixin for models that hold a patient's data (their `get_additional_data()` names the patient).

    Opening a row records a read of it; a changelist records one read per patient listed when `list_reads` is on
    (leave it off where the list shows only session or form numbers, which name no patient).
    """

    list_reads = True

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = getattr(response, "context_data", None) and response.context_data.get("original")
        if obj is not None and response.status_code == 200:
            record_chart_view(obj=obj)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) and response.context_data.get("cl")
        if self.list_reads and changelist is not None and response.status_code == 200:
            record_reads(rows=changelist.result_list)
        return response
