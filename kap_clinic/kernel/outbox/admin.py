from django.contrib import admin

from .models import OutboxEmail


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    """Read-only: the body may hold a single-use link, so it is not shown."""

    list_display = ["pk", "kind", "status", "attempts", "created_at", "sent_at", "status_reason"]
    list_filter = ["kind", "status", "needs_attention"]
    fields = ["kind", "key", "to", "subject", "status", "attempts", "next_try_at", "sent_at", "status_reason"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
