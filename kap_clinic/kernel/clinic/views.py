from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.audit.services import record_reads

from . import selectors, services
from .forms import ClinicSettingsForm
from .models import ClinicSettings

HOMES = {
    Role.ADMIN: ("clinic/home_admin.html", selectors.admin_home),
    Role.CLINICIAN: ("clinic/home_clinician.html", selectors.clinician_home),
    Role.INTAKE: ("clinic/home_intake.html", selectors.intake_home),
    Role.PATIENT: ("clinic/home_patient.html", selectors.patient_home),
}


@login_required
def home_view(request):
    template, context_for = HOMES[request.user.role]
    # Lists are read once here: every patient they show is recorded as read (on a patient's home, their own record).
    ctx = {
        key: list(value) if isinstance(value, QuerySet) else value for key, value in context_for(request.user).items()
    }
    shown = [row for value in ctx.values() if isinstance(value, list) for row in value]
    record_reads(rows=[*shown, ctx["patient"]] if ctx.get("patient") is not None else shown)
    return render(request, template, ctx)


@role_required(Role.ADMIN)
def settings_view(request):
    form = ClinicSettingsForm(request.POST or None, instance=ClinicSettings.load())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Clinic settings saved.")
        return redirect("clinic:settings")
    return render(request, "clinic/settings_form.html", {"form": form}, status=400 if form.errors else 200)


@role_required(Role.ADMIN)
@require_POST
def worker_check_view(request):
    services.worker_check_request(requested_by=request.user)
    messages.info(request, "A background worker was asked to check in; refresh in a few seconds.")
    return redirect("clinic:home")


@never_cache
def health_view(request):
    """Liveness for the container orchestrator: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
