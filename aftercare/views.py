from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view
from kap_clinic.kernel.forms import form_submit, message_validation_error
from kap_clinic.rules import instruments
from patients.selectors import get_patient_for_user, get_patient_of_portal_user

from . import selectors, services
from .forms import (
    CheckInInstrumentForm,
    CheckInSeriesForm,
    IntegrationBookForm,
    IntegrationCancelForm,
    IntegrationCompleteForm,
    IntegrationRescheduleForm,
)
from .models import CheckIn


def _data(request):
    """The POST data, or None for a GET; an empty POST still binds the form (so its errors show)."""
    return request.POST if request.method == "POST" else None


def _to_patient(patient_pk: int):
    return redirect("aftercare:patient", patient_pk=patient_pk)


# ---- Staff: the patient's aftercare page ----------------------------------------------------------


@role_required(*STAFF_ROLES)
def patient_aftercare_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    record_chart_view(obj=patient)
    ctx = selectors.patient_aftercare(patient, with_notes=selectors.integration_notes_visible_to(request.user))
    return render(request, "aftercare/patient_aftercare.html", ctx)


def _form_page(request, form, *, patient, title, submit, status=None, session=None):
    record_chart_view(obj=session or patient)
    ctx = {"form": form, "patient": patient, "title": title, "submit": submit, "session": session}
    return render(request, "aftercare/integration_form.html", ctx, status=status or (400 if form.errors else 200))


def _integration_step(request, form, service, given, *, patient, done, title, submit, session=None, only=None):
    """The shape of every integration-session form: a valid POST goes to the service with `given` (`form_submit`)
    and back to the aftercare page; a refusal from the service stays on the form with everything typed."""
    if request.method == "POST" and form_submit(form, service, only=only, **given).done:
        messages.success(request, done)
        return _to_patient(patient.pk)
    return _form_page(request, form, patient=patient, title=title, submit=submit, session=session)


@role_required(*STAFF_ROLES)
def integration_book_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    form = IntegrationBookForm(_data(request), initial={"clinician": patient.primary_clinician_id})
    return _integration_step(
        request,
        form,
        services.integration_session_book,
        {"patient": patient, "by": request.user},
        only=["clinician", "modality", "starts_at", "duration_minutes"],
        patient=patient,
        done="Integration session booked.",
        title="Book an integration session",
        submit="Book",
    )


@role_required(*STAFF_ROLES)
def integration_reschedule_view(request, pk):
    session = selectors.get_integration_session_for_user(request.user, pk)
    initial = {}
    if request.method != "POST":
        local = timezone.localtime(session.starts_at)
        initial = {"day": local.date(), "start_time": local.time(), "duration_minutes": session.duration_minutes}
    form = IntegrationRescheduleForm(_data(request), initial=initial)
    return _integration_step(
        request,
        form,
        services.integration_session_reschedule,
        {"integration_session": session, "by": request.user},
        only=["starts_at", "duration_minutes"],
        patient=session.patient,
        done="Integration session moved.",
        title="Move the integration session",
        submit="Move",
        session=session,
    )


@role_required(*STAFF_ROLES)
def integration_cancel_view(request, pk):
    session = selectors.get_integration_session_for_user(request.user, pk)
    return _integration_step(
        request,
        IntegrationCancelForm(_data(request)),
        services.integration_session_cancel,
        {"integration_session": session, "by": request.user},
        patient=session.patient,
        done="Integration session cancelled.",
        title="Cancel the integration session",
        submit="Cancel it",
        session=session,
    )


@role_required(Role.CLINICIAN)
def integration_complete_view(request, pk):
    session = selectors.get_integration_session_for_user(request.user, pk)
    return _integration_step(
        request,
        IntegrationCompleteForm(_data(request), initial={"notes": session.notes}),
        services.integration_session_complete,
        {"integration_session": session, "by": request.user},
        patient=session.patient,
        done="Integration session completed.",
        title="Complete the integration session",
        submit="Save and complete",
        session=session,
    )


@role_required(*STAFF_ROLES)
@require_POST
def integration_no_show_view(request, pk):
    session = selectors.get_integration_session_for_user(request.user, pk)
    try:
        services.integration_session_no_show(integration_session=session, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Marked as a no-show.")
    return _to_patient(session.patient_id)


@role_required(*STAFF_ROLES)
def checkin_series_create_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    form = CheckInSeriesForm(_data(request), initial={"induction_ended_on": services.induction_end_default(patient)})
    if request.method == "POST":
        sent = form_submit(form, services.checkin_series_create, patient=patient, by=request.user)
        if sent.done:
            messages.success(request, f"{len(sent.result)} check-ins planned.")
            return _to_patient(patient.pk)
    return _form_page(request, form, patient=patient, title="Plan check-ins after induction", submit="Plan check-ins")


@role_required(*STAFF_ROLES)
@require_POST
def checkin_cancel_view(request, pk):
    checkin = selectors.get_checkin_for_user(request.user, pk)
    try:
        services.checkin_cancel(checkin=checkin, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Check-in cancelled.")
    return _to_patient(checkin.patient_id)


@role_required(*STAFF_ROLES)
@require_POST
def checkin_series_cancel_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    cancelled = services.checkin_series_cancel(patient=patient, by=request.user)
    messages.success(request, f"{len(cancelled)} open check-ins cancelled.")
    return _to_patient(patient.pk)


@role_required(*STAFF_ROLES)
def checkin_detail_view(request, pk):
    checkin = selectors.get_checkin_for_user(request.user, pk)
    record_chart_view(obj=checkin)
    responses = [
        {"response": response, "instrument": instruments.get(response.code)} for response in checkin.responses.all()
    ]
    for row in responses:
        row["items"] = list(zip(row["instrument"].items, row["response"].answers, strict=False))
    ctx = {"checkin": checkin, "patient": checkin.patient, "responses": responses}
    return render(request, "aftercare/checkin_detail.html", ctx)


# ---- Patient portal -------------------------------------------------------------------------------


@role_required(Role.PATIENT)
def portal_checkins_view(request):
    patient = get_patient_of_portal_user(request.user)
    record_chart_view(obj=patient)  # the patient reading their own record is recorded too
    ctx = {
        "due": selectors.checkins_due(patient),
        "done": selectors.checkins_recently_done(patient),
        "now": timezone.now(),
    }
    return render(request, "aftercare/portal/checkin_list.html", ctx)


@role_required(Role.PATIENT)
def portal_checkin_fill_view(request, pk):
    checkin = selectors.get_checkin_for_user(request.user, pk)  # the patient's own check-ins only; 404 otherwise
    record_chart_view(obj=checkin)
    now = timezone.now()
    if checkin.status != CheckIn.Status.OPEN or not checkin.opens_at <= now < checkin.closes_at:
        # Answered, missed, cancelled, closed or not open yet: nothing to fill, and a POST changes nothing.
        ctx = {"checkin": checkin, "not_yet": checkin.status == CheckIn.Status.OPEN and now < checkin.opens_at}
        return render(
            request, "aftercare/portal/checkin_closed.html", ctx, status=409 if request.method == "POST" else 200
        )
    data = _data(request)
    forms = [CheckInInstrumentForm(instruments.get(code), data, prefix=code) for code in checkin.instruments]
    errors = []
    if request.method == "POST":
        valid = all([form.is_valid() for form in forms])
        answers = {form.prefix: form.answers() for form in forms}
        if valid:
            try:
                services.checkin_submit(checkin=checkin, answers=answers, by=request.user)
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, "Thank you. Your answers were sent to your care team.")
                return redirect("aftercare:portal_checkins")
        # Not sent: a thought of self-harm among the answers still reaches the care team now.
        services.checkin_unsent_answers_check(checkin=checkin, answers=answers, by=request.user)
    has_errors = bool(errors or any(form.errors for form in forms))
    ctx = {"checkin": checkin, "forms": forms, "errors": errors, "has_errors": has_errors}
    return render(request, "aftercare/portal/checkin_fill.html", ctx, status=400 if has_errors else 200)
