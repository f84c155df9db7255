from django import forms
from django.contrib import admin

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin
from kap_clinic.kernel.validation import BoundedInput
from kap_clinic.rules import contraindications

from .models import ConditionRule, Screening, SuicideRiskAlert


@admin.register(Screening)
class ScreeningAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("pk", "patient", "status", "computed_outcome", "final_outcome", "signed_off_at")
    list_filter = ("status", "computed_outcome", "final_outcome")


@admin.register(SuicideRiskAlert)
class SuicideRiskAlertAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    list_display = ("pk", "patient", "level", "status", "raised_at", "cleared_at")
    list_filter = ("status", "level")


class ConditionRuleForm(BoundedInput, forms.ModelForm):
    code = forms.ChoiceField(label="Condition", choices=[(c.code, c.label) for c in contraindications.CONDITIONS])

    class Meta:
        model = ConditionRule
        fields = ["code", "severity"]


@admin.register(ConditionRule)
class ConditionRuleAdmin(admin.ModelAdmin):
    """Where a clinic sets its own severity for a contraindication (absolute screens out, relative asks a clinician)."""

    form = ConditionRuleForm
    list_display = ("code", "severity", "updated_at")
