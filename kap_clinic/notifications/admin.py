from django.contrib import admin

from .models import ReminderRule


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    """Admins set when reminders go out; each reminder keeps the time it was given."""

    list_display = ("event", "name", "offset_minutes", "asks_confirmation", "is_active")
    list_filter = ("event", "is_active")
    list_editable = ("is_active",)
