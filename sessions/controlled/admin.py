"""Back-office views of the controlled-substance log: products are edited here, lots and the log are read.

Lots and log entries come only through `sessions.controlled.services` (which keeps the ledger balanced); the log is
append-only, so nobody may change or delete a row here either.
"""

from django.contrib import admin, messages
from django.shortcuts import redirect

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin

from ..models import ControlledProduct, CSLogEntry, ProductLot


@admin.register(ControlledProduct)
class ControlledProductAdmin(admin.ModelAdmin):
    list_display = ("name", "strength", "ndc", "mg_per_ml", "schedule", "is_active")
    list_filter = ("is_active",)

    def has_delete_permission(self, request, obj=None):
        return False  # retire a product with is_active; its lots and log stay


@admin.register(ProductLot)
class ProductLotAdmin(ReadOnlyAdmin):
    list_display = ("lot_number", "product", "expires_on", "received_mg", "received_at", "received_by")
    list_filter = ("product",)
    actions = ["reconcile"]

    @admin.action(description="Reconcile: enter a physical count")
    def reconcile(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one lot to count at a time.", messages.WARNING)
            return None
        return redirect("sessions:cs_reconcile", pk=queryset.get().pk)


@admin.register(CSLogEntry)
class CSLogEntryAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_reads = False  # rows name a session number, not a patient
    list_display = ("at", "kind", "amount_mg", "lot", "session", "by", "witness")
    list_filter = ("kind", "lot__product")
    date_hierarchy = "at"
