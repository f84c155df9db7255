"""Accounts in the Django admin: for superusers only (break-glass).

Clinic admins manage staff accounts, roles and deactivation on the clinic's own staff pages, where
superuser and staff status, groups and permissions are not editable. Authenticator secrets and backup
codes are shown to nobody.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin

from .models import TwoFactorReset, User


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """Only superusers see these pages, whatever permissions a group holds."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(User)
class UserAdmin(SuperuserOnlyAdmin, BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Clinic role", {"fields": ("role",)}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Clinic role", {"fields": ("role",)}))


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin, SuperuserOnlyAdmin, BaseGroupAdmin):
    """The role groups are written from roles.py after every migrate: shown here, changed only there."""


class DeviceAdmin(SuperuserOnlyAdmin):
    """Which devices an account has, never their keys or codes; a superuser may delete a lost one."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, DeviceAdmin)


@admin.register(TwoFactorReset)
class TwoFactorResetAdmin(ReadOnlyAdmin, SuperuserOnlyAdmin):
    list_display = ("user", "created_by", "created_at", "expires_at", "used_at")
    fields = list_display
    readonly_fields = list_display
