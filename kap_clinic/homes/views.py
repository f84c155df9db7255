"""Pages that gather several apps: each role's home, the staff chart, the patient's schedule and the audit log
browser (the kernel's trail, searched by a patient's MRN from the registry)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.selectors import audit_entries, audit_log_rows
from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import form_submit
from kap_clinic.kernel.paging import CappedPaginator
from patients.forms import RemsEnrollmentForm, StatusChangeForm
from patients.selectors import get_patient_for_user, get_patient_of_portal_user
from patients.services import patient_manual_transition, patient_rems_enrollment_record
from sessions.calendar import live_feed

from . import selectors
from .forms import AuditFilterForm

HOMES = {
    Role.ADMIN: ("homes/home_admin.html", selectors.admin_home),
    Role.CLINICIAN: ("homes/home_clinician.html", selectors.clinician_home),
    Role.INTAKE: ("homes/home_intake.html", selectors.intake_home),
    Role.PATIENT: ("homes/home_patient.html", selectors.patient_home),
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


@role_required(*STAFF_ROLES)
def work_list_view(request, kind):
    """A home page's work list in full, a page at a time (the home shows its first rows and links here)."""
    work = selectors.WORK_LISTS.get(kind)
    if work is None:
        raise Http404("No such list.")
    page = CappedPaginator(work.rows(request.user), 50).get_page(request.GET.get("page"))
    page.object_list = work.shown(list(page.object_list))  # read once: recorded as read, then shown
    record_reads(rows=page.object_list)
    return render(request, "homes/work_list.html", {"page": page, "kind": kind, "work": work})


# ---- The patient chart ---------------------------------------------------------------------------


def _chart(request, patient, *, status_form=None, rems_form=None, status=200):
    record_chart_view(obj=patient)
    ctx = {
        **selectors.patient_chart(patient),
        "status_form": status_form or StatusChangeForm(current=patient.status),
        "rems_form": rems_form or RemsEnrollmentForm(),
    }
    return render(request, "homes/patient_chart.html", ctx, status=status)


@role_required(*STAFF_ROLES, Role.PATIENT)
def patient_chart_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    if not request.user.is_clinic_staff:
        record_chart_view(obj=patient)
        return render(request, "patients/my_record.html", {"patient": patient})
    return _chart(request, patient)


@role_required(*STAFF_ROLES)
@require_POST
def patient_transition_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = StatusChangeForm(request.POST, current=patient.status)
    if form_submit(form, patient_manual_transition, patient=patient, by=request.user).done:
        messages.success(request, f"Status changed to {patient.status_label.lower()}.")
        return redirect("homes:patient_chart", pk=patient.pk)
    return _chart(request, patient, status_form=form, status=400)


@role_required(Role.ADMIN, Role.INTAKE, Role.CLINICIAN)
@require_POST
def patient_rems_enrollment_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = RemsEnrollmentForm(request.POST)
    if form_submit(form, patient_rems_enrollment_record, patient=patient, by=request.user).done:
        messages.success(request, "Spravato REMS enrollment recorded.")
        return redirect("homes:patient_chart", pk=patient.pk)
    return _chart(request, patient, rems_form=form, status=400)


# ---- The patient's schedule ----------------------------------------------------------------------


@role_required(Role.PATIENT)
def portal_schedule_view(request):
    patient = get_patient_of_portal_user(request.user)
    record_chart_view(obj=patient)  # the patient reading their own record is recorded too
    ctx = {"schedule": selectors.patient_schedule(patient), "feed": live_feed(patient)}
    return render(request, "homes/portal_schedule.html", ctx)


@role_required(Role.ADMIN)
def audit_log_view(request):
    form = AuditFilterForm(request.GET or None)
    entries = audit_entries()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        entries = audit_entries(
            patient_id=data["patient"].pk if data["patient"] else None,
            actor_id=data["user"].pk if data["user"] else None,
            start=data["start"],
            end=data["end"],
        )
    elif form.is_bound:
        entries = entries.none()
    page = CappedPaginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"form": form, "page": page, "rows": audit_log_rows(page.object_list), "query": query.urlencode()}
    return render(request, "audit/log_list.html", ctx, status=400 if form.errors else 200)
