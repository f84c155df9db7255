"""Consent forms: the patient reads and accepts them in the portal; staff see a patient's acceptances, record a
paper form with its scan, and open the scan through an access-checked view (scans have no public URL)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view
from kap_clinic.kernel.forms import form_submit, message_validation_error
from patients.selectors import get_patient_for_user, get_patient_of_portal_user, visible_through

from ..models import ConsentAcceptance, ConsentDocument
from . import services as consent
from .forms import ConsentRecordForm

RECORDERS = (Role.CLINICIAN, Role.INTAKE, Role.ADMIN)


def _acceptable_documents():
    today_ids = []
    for route in ConsentDocument.objects.order_by().values_list("route", flat=True).distinct():
        today_ids += list(consent.consent_documents_acceptable(route).values_list("pk", flat=True))
    return ConsentDocument.objects.filter(pk__in=today_ids).order_by("route", "version")


@role_required(Role.PATIENT)
def portal_consent_view(request):
    patient = get_patient_of_portal_user(request.user)
    record_chart_view(obj=patient)
    rows = []
    for status in consent.consent_statuses(patient, consent.patient_routes(patient)):
        newer = []
        if status.document is not None:
            accepted = {a.document_id for a in status.history}
            newer = [
                d
                for d in consent.consent_documents_acceptable(status.route).filter(version__gt=status.document.version)
                if d.pk not in accepted
            ]
        rows.append((status, newer))
    return render(request, "sessions/portal/consent.html", {"rows": rows})


@role_required(Role.PATIENT)
@require_POST
def portal_consent_accept_view(request, pk):
    patient = get_patient_of_portal_user(request.user)
    # Only forms for the patient's own treatment routes; anything else is not theirs to see.
    document = get_object_or_404(ConsentDocument, pk=pk, route__in=consent.patient_routes(patient))
    if request.POST.get("has_read") != "yes":
        messages.error(request, "Tick the box to confirm you have read the form before accepting it.")
        return redirect("sessions:portal_consent")
    try:
        consent.consent_accept_in_portal(patient=patient, document=document, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, f"Thank you: you accepted “{document.title}” (version {document.version}).")
    return redirect("sessions:portal_consent")


def _staff_page(request, patient, form, status=200):
    record_chart_view(obj=patient)
    ctx = {
        "patient": patient,
        "statuses": consent.consent_statuses(patient),
        "form": form,
        "can_record": request.user.has_role(*RECORDERS),
    }
    return render(request, "sessions/consent/patient_consent.html", ctx, status=status)


@role_required(*STAFF_ROLES)
def patient_consent_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    return _staff_page(request, patient, ConsentRecordForm(documents=_acceptable_documents()))


@role_required(*RECORDERS)
@require_POST
def patient_consent_record_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    form = ConsentRecordForm(request.POST, request.FILES, documents=_acceptable_documents())
    if form_submit(form, consent.consent_record_by_staff, patient=patient, by=request.user).done:
        messages.success(request, "Signed consent form recorded.")
        return redirect("sessions:patient_consent", patient_pk=patient.pk)
    return _staff_page(request, patient, form, status=400)


@never_cache
@role_required(*STAFF_ROLES)
def consent_scan_view(request, pk):
    acceptance = (
        ConsentAcceptance.objects.select_related("patient")
        .filter(visible_through(request.user), ~Q(scan=""), pk=pk)
        .first()
    )
    if acceptance is None:
        raise Http404("No such scan.")
    record_chart_view(obj=acceptance)
    try:
        handle = acceptance.scan.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The scan file is missing.") from exc
    suffix = acceptance.scan.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(handle, filename=f"consent-{acceptance.pk}.{suffix}")
    response["Content-Type"] = {"pdf": "application/pdf", "png": "image/png"}.get(suffix, "image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
