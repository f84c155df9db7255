from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import permission_required, role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import apply_validation_error, message_validation_error

from . import services
from .forms import PatientForm, RemsEnrollmentForm, StatusChangeForm
from .selectors import get_patient_for_user, patient_chart, patient_search


@role_required(*STAFF_ROLES)
def patient_list_view(request):
    # Searches are POSTed so that names never appear in URLs, browser history or access logs.
    data = request.POST if request.method == "POST" else request.GET
    query = request.POST.get("q", "") if request.method == "POST" else ""
    page = Paginator(patient_search(request.user, query), 25).get_page(data.get("page"))
    page.object_list = list(page.object_list)  # read once: recorded as read, then shown
    record_reads(rows=page.object_list)
    return render(request, "patients/patient_list.html", {"page": page, "q": query})


@permission_required("patients.add_patient")  # the same permission the "Register a patient" link asks for
def patient_create_view(request):
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = services.patient_create(created_by=request.user, **form.cleaned_data)
        messages.success(request, f"Registered patient {patient.mrn}.")
        return redirect("patients:detail", pk=patient.pk)
    status = 400 if form.errors else 200
    return render(request, "patients/patient_form.html", {"form": form}, status=status)


@role_required(*STAFF_ROLES, Role.PATIENT)
def patient_detail_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    record_chart_view(obj=patient)
    if not request.user.is_clinic_staff:
        return render(request, "patients/my_record.html", {"patient": patient})
    ctx = {
        **patient_chart(patient),
        "status_form": StatusChangeForm(current=patient.status),
        "rems_form": RemsEnrollmentForm(),
    }
    return render(request, "patients/patient_detail.html", ctx)


@role_required(Role.PATIENT)
def my_record_view(request):
    patient = getattr(request.user, "patient", None)
    if patient is None:
        raise Http404("No patient record is linked to this account.")
    return redirect("patients:detail", pk=patient.pk)


@permission_required("patients.change_patient")  # the same permission the "Edit" link asks for
def patient_edit_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        services.patient_update(patient=patient, updated_by=request.user, **form.cleaned_data)
        messages.success(request, "Saved.")
        return redirect("patients:detail", pk=patient.pk)
    record_chart_view(obj=patient)
    status = 400 if form.errors else 200
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient}, status=status)


@role_required(*STAFF_ROLES)
@require_POST
def patient_transition_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = StatusChangeForm(request.POST, current=patient.status)
    if form.is_valid():
        try:
            services.patient_manual_transition(
                patient=patient, to=form.cleaned_data["to"], by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Status changed to {patient.status_label.lower()}.")
            return redirect("patients:detail", pk=patient.pk)
    record_chart_view(obj=patient)
    ctx = {**patient_chart(patient), "status_form": form, "rems_form": RemsEnrollmentForm()}
    return render(request, "patients/patient_detail.html", ctx, status=400)


@role_required(*STAFF_ROLES)
@require_POST
def patient_invite_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    try:
        services.patient_invite(patient=patient, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Invitation sent to the patient's email address.")
    return redirect("patients:detail", pk=patient.pk)


@role_required(Role.ADMIN, Role.INTAKE, Role.CLINICIAN)
@require_POST
def patient_rems_enrollment_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = RemsEnrollmentForm(request.POST)
    if form.is_valid():
        try:
            services.patient_rems_enrollment_record(
                patient=patient, enrolled_on=form.cleaned_data["enrolled_on"], by=request.user
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Spravato REMS enrollment recorded.")
            return redirect("patients:detail", pk=patient.pk)
    record_chart_view(obj=patient)
    ctx = {**patient_chart(patient), "status_form": StatusChangeForm(current=patient.status), "rems_form": form}
    return render(request, "patients/patient_detail.html", ctx, status=400)
