from django.contrib import messages
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import Role

from . import services
from .forms import ClinicSettingsForm
from .models import ClinicSettings


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
    return redirect("homes:home")


@never_cache
def health_view(request):
    """Liveness for the container orchestrator: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
