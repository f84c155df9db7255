from django.contrib import admin

from .models import CheckIn, IntegrationSession


class _ReadOnly(admin.ModelAdmin):
    """Aftercare changes go through the services (reminders, alerts, overlap checks); the admin only shows rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IntegrationSession)
class IntegrationSessionAdmin(_ReadOnly):
    list_display = ("pk", "patient", "clinician", "modality", "starts_at", "status")
    list_filter = ("status", "modality")
    exclude = ("notes",)  # integration notes are read on the patient's aftercare page, where the view is audited


@admin.register(CheckIn)
class CheckInAdmin(_ReadOnly):
    list_display = ("pk", "patient", "opens_at", "due_at", "closes_at", "status")
    list_filter = ("status",)
