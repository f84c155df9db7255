from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import permission_required, role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import apply_validation_error, form_submit, message_validation_error

from . import services
from .forms import InviteSetPasswordForm, PatientForm, PatientRegisterForm
from .selectors import get_patient_for_user, get_patient_of_portal_user, patient_search, patients_visible_to


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
    """Register a patient once: the form's one-time token makes a second post of it show the first one's patient, and
    details that look like a patient on file are saved only with "Register anyway"."""
    if request.method != "POST":
        form = PatientRegisterForm(initial={"form_token": services.registration_token_issue(by=request.user)})
        return render(request, "patients/patient_form.html", {"form": form})
    offered = "register_anyway" in request.POST  # the possible matches were shown with this form
    form = PatientRegisterForm(request.POST, offer_register_anyway=offered)
    matches: list = []
    if form.is_valid():
        fields = dict(form.cleaned_data)
        token, anyway = fields.pop("form_token"), fields.pop("register_anyway", False)
        try:
            registration = services.patient_register(
                created_by=request.user, form_token=token, register_anyway=anyway, **fields
            )
        except services.PossibleDuplicate as exc:
            matches = exc.matches
            form = PatientRegisterForm(request.POST, offer_register_anyway=True)
            form.is_valid()
            apply_validation_error(form, exc)
        except ValidationError as exc:  # the form's token expired or is not this user's: a fresh one, check again
            data = request.POST.copy()
            data["form_token"] = services.registration_token_issue(by=request.user)
            form = PatientRegisterForm(data, offer_register_anyway=offered)
            form.is_valid()
            apply_validation_error(form, exc)
        else:
            patient = registration.patient
            if registration.created:
                messages.success(request, f"Registered patient {patient.mrn}.")
            else:
                messages.info(request, f"This form was already saved: patient {patient.mrn} was registered then.")
            return redirect("homes:patient_chart", pk=patient.pk)
    visible = set(patients_visible_to(request.user).filter(pk__in=[m.pk for m in matches]).values_list("pk", flat=True))
    shown = [m for m in matches if m.pk in visible]
    record_reads(rows=shown)
    ctx = {"form": form, "matches": shown, "hidden_matches": len(matches) - len(shown)}
    return render(request, "patients/patient_form.html", ctx, status=400)


@role_required(Role.PATIENT)
def my_record_view(request):
    return redirect("homes:patient_chart", pk=get_patient_of_portal_user(request.user).pk)


@permission_required("patients.change_patient")  # the same permission the "Edit" link asks for
def patient_edit_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST":
        if form_submit(form, services.patient_update, patient=patient, updated_by=request.user).done:
            messages.success(request, "Saved.")
            return redirect("homes:patient_chart", pk=patient.pk)
    record_chart_view(obj=patient)
    status = 400 if form.errors else 200
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient}, status=status)


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
    return redirect("homes:patient_chart", pk=patient.pk)


# ---- Portal invitation ---------------------------------------------------------------------------


def invite_accept_view(request, token):
    """A patient chooses their portal password through the single-use link the clinic emailed."""
    if request.user.is_authenticated:
        return render(request, "patients/invite_signed_in.html", status=403)
    invite = services.invite_for_token(token)
    if invite is None:
        return render(request, "patients/invite_invalid.html", status=404)
    form = InviteSetPasswordForm(invite.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_accept(invite=invite, password=form.cleaned_data["new_password1"])
        except ValidationError:
            return render(request, "patients/invite_invalid.html", status=404)
        messages.success(request, "Your password is set. Sign in with your email address and new password.")
        return redirect("accounts:login")
    return render(request, "patients/invite_accept.html", {"form": form}, status=400 if form.errors else 200)
