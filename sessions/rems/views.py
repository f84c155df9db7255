"""Views of the Spravato REMS Patient Monitoring Form."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view, record_reads
from kap_clinic.kernel.forms import form_submit, message_validation_error
from kap_clinic.kernel.http import safe_next
from kap_clinic.kernel.paging import page_of

from ..models import RemsMonitoringForm
from . import delivery, reading
from .forms import RemsEditForm, SubmissionForm
from .pdf import rems_form_pdf

REMS_FORMS_PER_PAGE = 50

# ---- REMS Patient Monitoring Form ---------------------------------------------------------------


def _rems_form_of(session) -> RemsMonitoringForm | None:
    return RemsMonitoringForm.objects.filter(session=session).select_related("signed_by", "submitted_by").first()


@role_required(*STAFF_ROLES)
def rems_detail_view(request, pk):
    session = reading.get_rems_session_for_user(request.user, pk)
    form = _rems_form_of(session)
    record_chart_view(obj=form or session)
    ctx = {"session": session, "patient": session.patient, "form": form, "submission_form": SubmissionForm()}
    if form is not None:
        ctx.update(
            events=form.events.all(),
            missing=delivery.rems_form_missing_fields(form),
            problems=delivery.rems_form_problems(form),
            warnings=delivery.rems_form_warnings(form),
        )
    return render(request, "sessions/rems/rems_detail.html", ctx)


@role_required(Role.CLINICIAN)
def rems_edit_view(request, pk):
    session = reading.get_rems_session_for_user(request.user, pk)
    existing = _rems_form_of(session)
    if existing is not None and existing.is_signed:
        messages.info(request, "This REMS form is signed and can no longer be changed.")
        return redirect("sessions:rems_detail", pk=session.pk)
    instance = existing or RemsMonitoringForm(session=session, **delivery.rems_prefill(session))
    if existing is not None and request.method != "POST":
        delivery.fill_blank_blood_pressures(instance)
    form = RemsEditForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST":
        sent = form_submit(form, delivery.rems_form_fill, only=["data", "events"], session=session, by=request.user)
        if sent.done:
            messages.success(request, "REMS form saved.")
            return redirect("sessions:rems_detail", pk=session.pk)
    record_chart_view(obj=existing or session)
    ctx = {"session": session, "patient": session.patient, "form": form, "is_new": existing is None}
    return render(request, "sessions/rems/rems_form.html", ctx, status=400 if form.errors else 200)


@role_required(Role.CLINICIAN)
@require_POST
def rems_sign_view(request, pk):
    session = reading.get_rems_session_for_user(request.user, pk)
    form = _rems_form_of(session)
    if form is None:
        messages.error(request, "Fill in the REMS form before signing it.")
        return redirect("sessions:rems_detail", pk=session.pk)
    try:
        delivery.rems_form_sign(form=form, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "REMS form signed. Submit it to the REMS within 7 days of the treatment.")
    return redirect("sessions:rems_detail", pk=session.pk)


@role_required(*STAFF_ROLES)
@require_POST
def rems_submit_view(request, pk):
    session = reading.get_rems_session_for_user(request.user, pk)
    form = _rems_form_of(session)
    submission = SubmissionForm(request.POST)
    if form is None or not submission.is_valid():
        messages.error(request, "Nothing to record: the REMS form has not been filled in.")
        return redirect("sessions:rems_detail", pk=session.pk)
    try:
        delivery.rems_form_mark_submitted(form=form, by=request.user, reference=submission.cleaned_data["reference"])
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Submission to the REMS recorded.")
    return redirect(safe_next(request, reverse("sessions:rems_detail", kwargs={"pk": session.pk})))


@role_required(*STAFF_ROLES)
def rems_pdf_view(request, pk):
    session = reading.get_rems_session_for_user(request.user, pk)
    form = _rems_form_of(session)
    if form is None:
        raise Http404("No REMS form for this session yet.")
    record_chart_view(obj=form)
    response = HttpResponse(rems_form_pdf(form), content_type="application/pdf")
    # The file name carries the session number, never the patient's name.
    response["Content-Disposition"] = f'attachment; filename="rems-monitoring-form-session-{session.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(*STAFF_ROLES)
def rems_pending_view(request):
    today = timezone.localdate()
    page = page_of(request, reading.rems_forms_pending(request.user), REMS_FORMS_PER_PAGE)
    rows = reading.rems_due_rows(page.object_list, today=today)
    record_reads(rows=[row.session for row in rows])
    ctx = {"rows": rows, "page": page, "overdue": reading.rems_forms_overdue_count(request.user, today=today)}
    return render(request, "sessions/rems/rems_pending.html", ctx)
