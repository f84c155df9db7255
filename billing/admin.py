from django.contrib import admin

from .models import Payer


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    list_display = ("name", "payer_code", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "payer_code")


from . import coverage_admin  # noqa: E402,F401 (coverage and pre-authorization back-office pages)
from .ledger import admin as ledger_admin  # noqa: E402,F401 (the patient ledger's back-office pages)
