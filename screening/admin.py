from django import forms
from django.contrib import admin

from . import contraindications
from .models import ConditionRule, Screening, SuicideRiskAlert


class ReadOnlyAdmin(admin.ModelAdmin):
    """Screenings and alerts change only through their services (scoring, sign-off, documented review)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = ("pk", "patient", "status", "computed_outcome", "final_outcome", "signed_off_at")
    list_filter = ("status", "computed_outcome", "final_outcome")


@admin.register(SuicideRiskAlert)
class SuicideRiskAlertAdmin(ReadOnlyAdmin):
    list_display = ("pk", "patient", "level", "status", "raised_at", "cleared_at")
    list_filter = ("status", "level")


class ConditionRuleForm(forms.ModelForm):
    code = forms.ChoiceField(label="Condition", choices=[(c.code, c.label) for c in contraindications.CONDITIONS])

    class Meta:
        model = ConditionRule
        fields = ["code", "severity"]


@admin.register(ConditionRule)
class ConditionRuleAdmin(admin.ModelAdmin):
    """Where a clinic sets its own severity for a contraindication (absolute screens out, relative asks a clinician)."""

    form = ConditionRuleForm
    list_display = ("code", "severity", "updated_at")
