from django.contrib import admin

from . import rems_admin  # noqa: F401 - registers the REMS and controlled-substance admins
from .models import Enrollment


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    """Read-only: enrollment goes through the screening gate (sessions.services.enrollment_create) only."""

    list_display = ("pk", "patient", "status", "enrolled_at", "enrolled_by")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
