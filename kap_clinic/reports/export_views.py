"""Downloads: CSV of the clinic's lists and of the outcomes and operations reports, and a patient's record as FHIR.

Every file that names patients records a read of each of them before it goes out (the clinic's accounting of
disclosures), as the list pages do; the CSVs stream a line at a time.
"""

from datetime import timedelta

from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import PeriodForm
from patients.forms import ClinicianChoiceField
from patients.models import Patient
from patients.selectors import get_patient_for_user, get_patient_of_portal_user
from sessions.models import Route

from . import exports
from .csv_export import write_csv
from .fhir import patient_bundle_json
from .operations import operations_report
from .outcomes import clinic_outcomes

DEFAULT_DAYS = 30


class ReportPeriodForm(PeriodForm):
    route = forms.ChoiceField(
        label="Route",
        required=False,
        choices=[("", "Every route"), *Route.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("start", "end"):
            self.fields[name].widget.attrs["class"] = "form-control"
        if user is not None and user.has_role(Role.ADMIN):
            # Admins may narrow the clinic outcomes to one clinician's patients; a clinician's are always their own.
            self.fields["clinician"] = ClinicianChoiceField(
                label="Clinician (clinic outcomes)",
                required=False,
                empty_label="Every clinician",
                queryset=User.objects.filter(role=Role.CLINICIAN, is_active=True).order_by("last_name", "first_name"),
                widget=forms.Select(attrs={"class": "form-select"}),
            )


def _period_form(request) -> ReportPeriodForm:
    if "start" in request.GET or "end" in request.GET:
        return ReportPeriodForm(request.GET, user=request.user)
    today = timezone.localdate()
    return ReportPeriodForm({"start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today}, user=request.user)


def _read(patients) -> None:
    """A read of every patient the file names, one entry each, as a list page records them."""
    if patients is not None:
        record_reads(rows=(Patient(pk=pk, mrn=mrn) for pk, mrn in patients.values_list("pk", "mrn").iterator()))


def _download(export: exports.Export) -> StreamingHttpResponse:
    _read(export.patients)
    response = StreamingHttpResponse(write_csv(export.rows, export.headers), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.ADMIN, Role.CLINICIAN, Role.INTAKE)
def export_index_view(request):
    return render(request, "reports/exports_index.html", {"form": _period_form(request)})


@role_required(Role.ADMIN, Role.CLINICIAN, Role.INTAKE)
def patient_list_csv_view(request):
    return _download(exports.patient_list(request.user))


@role_required(Role.ADMIN, Role.CLINICIAN)
def sessions_csv_view(request):
    return _download(exports.dosing_sessions(request.user))


@role_required(Role.ADMIN, Role.CLINICIAN)
def patient_sessions_csv_view(request, pk):
    patient = get_patient_for_user(request.user, pk)
    return _download(exports.dosing_sessions(request.user, patient))


@role_required(Role.ADMIN, Role.CLINICIAN)
def checkins_csv_view(request):
    return _download(exports.checkins(request.user))


@role_required(Role.ADMIN, Role.CLINICIAN)
def authorizations_csv_view(request):
    return _download(exports.authorizations(request.user))


def _invalid(request, form) -> HttpResponse:
    return render(request, "reports/exports_index.html", {"form": form}, status=400)


@role_required(Role.ADMIN, Role.CLINICIAN)
def outcomes_csv_view(request):
    form = _period_form(request)
    if not form.is_valid():
        return _invalid(request, form)
    # A clinician's report covers their own patients and sessions; admins see the whole clinic or one clinician's.
    if request.user.role == Role.CLINICIAN:
        clinician_id = request.user.pk
    else:
        chosen = form.cleaned_data.get("clinician")
        clinician_id = chosen.pk if chosen else None
    report = clinic_outcomes(
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        route=form.cleaned_data["route"] or None,
        clinician_id=clinician_id,
    )
    return _download(exports.report_tables("clinic-outcomes", report))


@role_required(Role.ADMIN)
def operations_csv_view(request):
    form = _period_form(request)
    if not form.is_valid():
        return _invalid(request, form)
    report = operations_report(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return _download(exports.report_tables("operations", report))


def _fhir(patient: Patient) -> HttpResponse:
    record_chart_view(obj=patient)
    response = HttpResponse(patient_bundle_json(patient), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="health-record-{patient.mrn}.json"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.ADMIN, Role.CLINICIAN)
def patient_fhir_view(request, pk):
    return _fhir(get_patient_for_user(request.user, pk))


@role_required(Role.PATIENT)
def my_fhir_view(request):
    return _fhir(get_patient_of_portal_user(request.user))
