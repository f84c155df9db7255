from django.contrib import admin

from .models import PreparationText, ReminderRule


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    """Admins set when reminders go out; each reminder keeps the time it was given."""

    list_display = ("event", "name", "offset_minutes", "asks_confirmation", "is_active")
    list_filter = ("event", "is_active")
    list_editable = ("is_active",)


@admin.register(PreparationText)
class PreparationTextAdmin(admin.ModelAdmin):
    """What reminders tell patients to do before a session, per route; clinical words are refused on save."""

    list_display = ("route", "sms_text")

    def has_add_permission(self, request):
        return False  # one per route, seeded

    def has_delete_permission(self, request, obj=None):
        return False
