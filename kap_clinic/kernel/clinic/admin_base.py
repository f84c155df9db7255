from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A back-office view of rows that change only through their services (scoring, sign-off, the ledger, reminders
    and alerts); nobody adds, changes or deletes them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
