"""The reports page, each report's download, and the page following a report produced in the background."""

import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.audit.services import record_chart_view
from patients.models import Patient

from . import selectors, services
from .kinds import KINDS, Output, get_kind, kinds_for, openable
from .models import ReportJob

REPORT_ROLES = (Role.ADMIN, Role.CLINICIAN)
RECENT_JOBS = 10  # listed on the reports page, out of the latest RECENT_JOBS_READ the person asked for
RECENT_JOBS_READ = 50


def _record_patient_read(params: dict) -> None:
    """A report naming a patient discloses their record: the read is recorded each time it is handed out."""
    if params.get("patient"):
        patient = Patient.objects.filter(pk=params["patient"]).first()
        if patient is not None:
            record_chart_view(obj=patient)


def _download(output: Output, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(output.read(), content_type=output.content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{output.filename}"'
    return response


def _in_background(request, report, params: dict, *, key: str) -> HttpResponse | None:
    """A report over the clinic's threshold (a cheap count of the rows it reads) is queued as a job and the person
    sent to its progress page; None for one small enough to produce in the request."""
    rows = report.rows_total(params)
    if rows <= settings.REPORT_BACKGROUND_ROWS:
        return None
    job = services.report_job_request(user=request.user, kind=report.slug, params=params, key=key, rows_total=rows)
    return redirect("reports:job", pk=job.pk)


def _page(request, *, bound=None, status=200):
    forms = []
    for kind in kinds_for(request.user):
        if bound is not None and bound.kind_slug == kind.slug:
            form = bound
        else:
            form = kind.form(formats=kind.formats, user=request.user)
        form.kind_slug = kind.slug
        forms.append((kind, form))
    # Only the jobs the person may still open (the check the job's pages make), in a constant number of queries.
    latest = list(ReportJob.objects.filter(requested_by=request.user)[:RECENT_JOBS_READ])
    jobs = openable(request.user, latest)[:RECENT_JOBS]
    for job in jobs:
        job.title = KINDS[job.kind].title if job.kind in KINDS else job.kind
    ctx = {
        "reports": forms,
        "request_id": uuid.uuid4().hex,
        "jobs": jobs,
        "threshold": settings.REPORT_BACKGROUND_ROWS,
    }
    return render(request, "reports/index.html", ctx, status=status)


@role_required(*REPORT_ROLES)
def index_view(request):
    return _page(request)


@role_required(*REPORT_ROLES)
@require_POST
def run_view(request, kind):
    report = get_kind(kind)
    if not request.user.has_role(*report.roles):
        raise PermissionDenied
    form = report.form(request.POST, formats=report.formats, user=request.user)
    form.kind_slug = report.slug
    if not form.is_valid():
        return _page(request, bound=form, status=400)
    params = form.params()
    report.check(request.user, params)
    key = request.POST.get("request_id", "")[:40] or uuid.uuid4().hex
    if (queued := _in_background(request, report, params, key=f"{kind}:{key}")) is not None:
        return queued
    output = report.render(params, params["format"])
    _record_patient_read(params)
    return _download(output)


@role_required(*REPORT_ROLES)
def patient_summary_view(request, pk):
    report = KINDS["patient_summary"]
    params = {"patient": pk, "format": "pdf"}
    report.check(request.user, params)
    # A long course goes to the background as from the reports page; a second click while it is being produced
    # follows the same job.
    pending = services.report_job_pending(user=request.user, kind=report.slug, params=params)
    if pending is not None:
        return redirect("reports:job", pk=pending.pk)
    if (queued := _in_background(request, report, params, key=f"summary:{pk}:{uuid.uuid4().hex}")) is not None:
        return queued
    output = report.render(params, "pdf")
    _record_patient_read(params)
    return _download(output, inline=True)


@role_required(*REPORT_ROLES)
def patient_summary_page_view(request, pk):
    """The treatment summary on screen: the same sections and the same chart as its PDF."""
    KINDS["patient_summary"].check(request.user, {"patient": pk})
    patient = Patient.objects.select_related("primary_clinician").get(pk=pk)
    record_chart_view(obj=patient)
    return render(request, "reports/patient_summary.html", selectors.patient_summary(patient))


def _own_job(request, pk) -> ReportJob:
    """The job if the person asked for it and may still have it: another person's job answers as if it did not
    exist, and so does one whose report the person may no longer produce (their role changed, or the patient it
    names is no longer theirs)."""
    job = get_object_or_404(ReportJob, pk=pk, requested_by=request.user)
    if not openable(request.user, [job]):
        raise Http404
    return job


@role_required(*REPORT_ROLES)
def job_view(request, pk):
    job = _own_job(request, pk)
    return render(request, "reports/job.html", {"job": job, "title": get_kind(job.kind).title})


@role_required(*REPORT_ROLES)
def job_progress_view(request, pk):
    return render(request, "reports/_job_progress.html", {"job": _own_job(request, pk)})


@role_required(*REPORT_ROLES)
def job_download_view(request, pk):
    job = _own_job(request, pk)
    path = services.job_file(job)
    if path is None:
        raise Http404
    _record_patient_read(job.parameters)
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.download_name, content_type=job.content_type)
