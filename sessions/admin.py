import math

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from kap_clinic.kernel.clinic.admin_base import ReadOnlyAdmin

from .controlled import admin as controlled_admin  # noqa: F401 - registers the controlled-substance admins
from .models import (
    ClinicClosure,
    ClinicHours,
    ClinicianHours,
    ConsentDocument,
    DosingSession,
    Enrollment,
    Protocol,
    ProtocolPhase,
    Room,
)
from .rems import admin as rems_admin  # noqa: F401 - registers the REMS form admin
from .scheduling.closures import closures_import_public_holidays


@admin.register(Enrollment)
class EnrollmentAdmin(PatientReadAuditAdmin, ReadOnlyAdmin):
    """Read-only: enrollment goes through the screening gate (sessions.scheduling.enrollment.enrollment_create) only."""

    list_display = ("pk", "patient", "status", "enrolled_at", "enrolled_by")
    list_filter = ("status",)


class ProtocolPhaseFormSet(BaseInlineFormSet):
    """The induction phase's number of sessions lies within the protocol's fewest and most induction sessions."""

    def clean(self):
        super().clean()
        low, high = self.instance.induction_min_sessions, self.instance.induction_max_sessions
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or data.get("name") != "induction":
                continue
            count = data.get("sessions")
            if count is None and data.get("weeks"):
                count = math.ceil(data["weeks"] / (data.get("every_weeks") or 1)) * (data.get("per_week") or 1)
            if count is None:
                continue
            if low is None:
                raise ValidationError(
                    "Set the fewest and the most induction sessions: this protocol has an induction phase."
                )
            if not low <= count <= high:
                raise ValidationError(
                    f"The induction phase holds {count} sessions: it must lie within the protocol's fewest and most "
                    f"induction sessions ({low}–{high})."
                )


class ProtocolPhaseInline(admin.TabularInline):
    model = ProtocolPhase
    formset = ProtocolPhaseFormSet
    extra = 0


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    """Admins maintain the protocols: dose range, cadence phases, monitoring time and preparation text.

    A protocol in use is retired (is_active off) rather than deleted; plans keep pointing at it.
    """

    list_display = ("name", "route", "dose_unit", "dose_min", "dose_max", "min_interval_hours", "is_active")
    list_filter = ("route", "is_active")
    inlines = [ProtocolPhaseInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        protocol = form.instance
        try:
            protocol.cadence_rule()
        except ValueError as exc:  # e.g. three sessions a week with fewer preferred weekdays
            messages.warning(request, f"The cadence of this protocol cannot be planned as it stands: {exc}")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    """A room out of use takes no new bookings; those already ahead in it stay, and the admin is told which."""

    list_display = ("name", "is_active", "notes")
    list_filter = ("is_active",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.is_active:
            return
        ahead = DosingSession.objects.filter(
            room=obj, status__in=DosingSession.UPCOMING_STATUSES, starts_at__gte=timezone.now()
        ).order_by("starts_at")
        count = ahead.count()
        if count:
            first = timezone.localtime(ahead.values_list("starts_at", flat=True)[0]).date()
            sessions = "1 session is" if count == 1 else f"{count} sessions are"
            messages.warning(
                request,
                f"{sessions} still booked in {obj.name}, the first on {first.isoformat()}: they stay in this room "
                "until they are cancelled and booked in another.",
            )


@admin.register(ClinicHours)
class ClinicHoursAdmin(admin.ModelAdmin):
    list_display = ("weekday", "opens", "closes")


@admin.register(ClinicClosure)
class ClinicClosureAdmin(admin.ModelAdmin):
    list_display = ("day", "reason")
    date_hierarchy = "day"
    change_list_template = "admin/treatment_sessions/clinicclosure/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_holidays_view)
        return [
            path("import-holidays/", view, name="treatment_sessions_clinicclosure_import_holidays"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        year = timezone.localdate().year
        extra_context = {**(extra_context or {}), "holiday_years": (year, year + 1)}
        return super().changelist_view(request, extra_context=extra_context)

    def import_holidays_view(self, request):
        """Close the clinic on a year's public holidays (the country and region in the clinic settings)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        this_year = timezone.localdate().year
        try:
            year = int(request.POST.get("year", ""))
        except ValueError:
            year = 0
        if year not in (this_year, this_year + 1):
            messages.error(request, "Choose this year or next year.")
        else:
            try:
                created = closures_import_public_holidays(year=year, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"{len(created)} public holidays of {year} added as closures.")
        return redirect("admin:treatment_sessions_clinicclosure_changelist")


@admin.register(ClinicianHours)
class ClinicianHoursAdmin(admin.ModelAdmin):
    list_display = ("clinician", "weekday", "starts", "ends")
    list_filter = ("clinician",)


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    """Admins publish consent forms per route. A version patients have accepted no longer changes (its fields turn
    read-only): publish a new version, which asks every patient again from its effective date."""

    list_display = ("route", "version", "title", "effective_on", "created_by")
    list_filter = ("route",)
    fields = ("route", "version", "title", "text", "effective_on")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.acceptances.exists():
            return self.fields
        return ()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.acceptances.exists()
