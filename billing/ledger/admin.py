"""Back-office pages of the patient ledger: admins edit the fee schedule, the poverty guidelines and the sliding-fee
tiers; charges, invoices, payments, adjustments and estimates change only through the billing pages."""

from django.contrib import admin, messages

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin
from kap_clinic.rules.billing_codes import RETIRED_CODES

from ..ledger_models import Charge, FeeScheduleItem, GoodFaithEstimate, Invoice, PovertyGuideline, SlidingScaleTier
from .charges import uncharged_sessions_charge


@admin.register(FeeScheduleItem)
class FeeScheduleItemAdmin(admin.ModelAdmin):
    list_display = ("code", "description", "route", "min_minutes", "max_minutes", "price", "unit", "is_active")
    list_filter = ("is_active", "route", "is_add_on")
    search_fields = ("code", "description")

    def save_model(self, request, obj, form, change):
        """A price set or changed here charges the dosing and integration sessions left uncharged for want of it (in
        the same transaction) and closes their alerts."""
        super().save_model(request, obj, form, change)
        if obj.is_active and obj.code in RETIRED_CODES:
            messages.warning(request, f"{RETIRED_CODES[obj.code]} Sessions are charged under the new code.")
        charged = uncharged_sessions_charge(by=request.user)
        if charged:
            messages.info(request, f"{len(charged)} session(s) waiting for a price are now charged.")


@admin.register(PovertyGuideline)
class PovertyGuidelineAdmin(admin.ModelAdmin):
    list_display = ("year", "first_person", "each_additional", "source")


@admin.register(SlidingScaleTier)
class SlidingScaleTierAdmin(admin.ModelAdmin):
    """Each save is checked against the other tiers (SlidingScaleTier.clean): an overlapping bound or a discount that
    grows with income is refused with the reason. The open-ended top tier cannot be deleted, so every income has one."""

    list_display = ("name", "up_to_percent_of_poverty", "discount_percent")

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.up_to_percent_of_poverty is None:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete could take the open-ended tier with it
        return actions


@admin.register(Charge)
class ChargeAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("service_date", "code", "kind", "amount", "invoice")
    list_filter = ("kind",)


@admin.register(Invoice)
class InvoiceAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("number", "issued_on", "status", "total_charged", "total_paid", "total_adjusted", "balance")
    list_filter = ("status",)


@admin.register(GoodFaithEstimate)
class GoodFaithEstimateAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("given_at", "due_by", "total")
