from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.audit.services import record_chart_view, record_reads_of
from kap_clinic.kernel.forms import form_submit, message_validation_error
from kap_clinic.kernel.http import safe_next
from kap_clinic.kernel.paging import Bounded, page_of
from kap_clinic.kernel.validation import query_date
from patients.selectors import get_patient_for_user
from screening.gate import enrollment_gate

from ..models import DosingSession, Room
from ..selectors import get_plan_for_user, get_session_for_user, sessions_between
from . import checks
from .boosters import booster_book, booster_preview
from .changes import session_cancel, session_check_in, session_check_in_undo, session_no_show, session_reschedule
from .dose import session_dose_preview, session_planned_dose_set
from .enrollment import enrollment_create
from .forms import BoosterForm, EnrollmentForm, PlanForm, RescheduleForm, SessionCancelForm, SessionDoseForm
from .planning import aware, plan_create, plan_preview, plan_preview_clashes
from .schedule import (
    DAY_PAGE_SIZE,
    WEEK_DAY_LIMIT,
    DayBookings,
    bookings_per_day,
    filter_choices,
    first_of_each_day,
    read_rows,
    schedule_rows,
    schedule_values,
)

PLAN_SESSIONS_PER_PAGE = 50


@role_required(Role.CLINICIAN)
def enroll_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    form = EnrollmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        # Every refusal shows beside the justification box, the one thing the clinician can change on this page.
        sent = form_submit(
            form, enrollment_create, refusals_under="override_justification", patient=patient, by=request.user
        )
        if sent.done:
            messages.success(request, "Patient enrolled in the treatment program.")
            return redirect("homes:patient_chart", pk=patient.pk)
    record_chart_view(obj=patient)
    ctx = {"patient": patient, "gate": enrollment_gate(patient), "form": form}
    return render(request, "sessions/enroll_form.html", ctx, status=400 if form.errors else 200)


# What the preview of a series takes from the plan form: the rest (room, doses, reasons) is for booking it.
PREVIEW_FIELDS = ("protocol", "first_day", "start_time", "clinician", "induction_sessions")


@role_required(Role.CLINICIAN)
def plan_create_view(request, patient_pk):
    patient = get_patient_for_user(request.user, patient_pk)
    initial = {"first_day": timezone.localdate() + timedelta(days=1), "clinician": request.user}
    form = PlanForm(request.POST if request.method == "POST" else None, initial=initial)
    preview, preview_rows, forecasts = None, [], []
    if request.method == "POST" and request.POST.get("action") == "confirm":
        sent = form_submit(form, plan_create, patient=patient, by=request.user)
        if sent.done:
            messages.success(request, f"{sent.result.sessions.count()} sessions booked.")
            _warn_forecasts(request, patient.pk)
            return redirect("sessions:plan_detail", pk=sent.result.pk)
    elif request.method == "POST":
        sent = form_submit(form, plan_preview, only=PREVIEW_FIELDS, patient=patient)
        if sent.done:
            data, preview = form.cleaned_data, sent.result
            clashes = plan_preview_clashes(
                patient=patient, clinician=data["clinician"], room=data["room"], slots=preview
            )
            preview_rows = [{"slot": slot, "clashes": found} for slot, found in zip(preview, clashes, strict=True)]
            forecasts = checks.booking_forecasts(
                patient_id=patient.pk,
                planned=[
                    checks.PlannedSession(
                        starts_at=aware(slot.start),
                        route=data["protocol"].route,
                        dose=data["planned_dose"],
                        dose_unit=data["protocol"].dose_unit,
                    )
                    for slot in preview
                ],
            )
    record_chart_view(obj=patient)
    ctx = {
        "patient": patient,
        "form": form,
        "preview": preview,
        "preview_rows": preview_rows,
        "preview_clashes": sum(1 for row in preview_rows if row["clashes"]),
        "forecasts": forecasts,
    }
    return render(request, "sessions/plan_form.html", ctx, status=400 if form.errors else 200)


@role_required(*STAFF_ROLES)
def plan_detail_view(request, pk):
    plan = get_plan_for_user(request.user, pk)
    record_chart_view(obj=plan)
    sessions = plan.sessions.select_related("room", "clinician").order_by("starts_at", "pk")
    page = Paginator(sessions, PLAN_SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    ctx = {
        "plan": plan,
        "patient": plan.patient,
        "sessions": page.object_list,
        "page": page,
        "cancel_choices": SessionCancelForm.base_fields["cancelled_by"].choices,
        "today_iso": timezone.localdate().isoformat(),  # check-in (and its undoing) only on the session's day
    }
    return render(request, "sessions/plan_detail.html", ctx)


@role_required(*STAFF_ROLES)
def session_reschedule_view(request, pk):
    session = get_session_for_user(request.user, pk)
    initial = {"new_start": timezone.localtime(session.starts_at).replace(tzinfo=None)}
    form = RescheduleForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        sent = form_submit(form, session_reschedule, session=session, by=request.user)
        if sent.done:
            messages.success(request, _moved_message(session, sent.result))
            _warn_forecasts(request, session.patient_id)
            return redirect("sessions:plan_detail", pk=session.plan_id)
    record_chart_view(obj=session)
    forecasts = checks.booking_forecasts(patient_id=session.patient_id, planned=[])
    ctx = {"session": session, "patient": session.patient, "form": form, "forecasts": forecasts}
    return render(request, "sessions/session_reschedule.html", ctx, status=400 if form.errors else 200)


def _warn_forecasts(request, patient_id: int) -> None:
    """Say at once what the booking checks find in the patient's bookings as they now stand."""
    for forecast in checks.booking_forecasts(patient_id=patient_id, planned=[]):
        for problem in forecast.problems:
            messages.warning(request, f"{forecast.title}: {problem}")


def _when(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def _moved_message(session, changed) -> str:
    """The move and every knock-on move it caused, so the clinic can tell the patient each new time."""
    moved = next((s for s in changed if s.pk == session.pk), None)
    knock_on = [s for s in changed if s.pk != session.pk]
    parts = []
    if moved is not None:
        parts.append(f"Moved session {moved.sequence} to {_when(moved.starts_at)}.")
    if knock_on:
        listed = ", ".join(f"session {s.sequence} to {_when(s.starts_at)}" for s in knock_on)
        parts.append(f"Later sessions moved to keep the interval: {listed}.")
    return " ".join(parts) or "Nothing needed to move."


def _status_action(request, pk, action):
    session = get_session_for_user(request.user, pk)
    try:
        if action == "check_in":
            session_check_in(session=session, by=request.user)
        elif action == "check_in_undo":
            session_check_in_undo(session=session, by=request.user)
        else:
            session_no_show(session=session, by=request.user)
    except ValidationError as exc:
        message_validation_error(request, exc)
    else:
        messages.success(request, "Check-in undone." if action == "check_in_undo" else "Session updated.")
    return redirect(safe_next(request, reverse("sessions:plan_detail", kwargs={"pk": session.plan_id})))


@role_required(*STAFF_ROLES)
@require_POST
def session_cancel_view(request, pk):
    """Cancel from the plan page's row; when something is missing, the session's own cancel form shows again with
    what was typed and chosen."""
    session = get_session_for_user(request.user, pk)
    form = SessionCancelForm(request.POST)
    if form_submit(form, session_cancel, session=session, by=request.user).done:
        messages.success(request, "Session updated.")
        return redirect(safe_next(request, reverse("sessions:plan_detail", kwargs={"pk": session.plan_id})))
    record_chart_view(obj=session)
    ctx = {"session": session, "patient": session.patient, "form": form, "next": safe_next(request, "")}
    return render(request, "sessions/session_cancel.html", ctx, status=400)


@role_required(*STAFF_ROLES)
@require_POST
def session_check_in_view(request, pk):
    return _status_action(request, pk, "check_in")


@role_required(*STAFF_ROLES)
@require_POST
def session_check_in_undo_view(request, pk):
    return _status_action(request, pk, "check_in_undo")


@role_required(*STAFF_ROLES)
@require_POST
def session_no_show_view(request, pk):
    return _status_action(request, pk, "no_show")


@role_required(Role.CLINICIAN)
def booster_book_view(request, pk):
    """The booster that would be booked, with the authorization's forecast beside it; booking it posts here."""
    plan = get_plan_for_user(request.user, pk)
    form = BoosterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        sent = form_submit(form, booster_book, plan=plan, by=request.user)
        if sent.done:
            when = timezone.localtime(sent.result.starts_at).strftime("%a %d %b %H:%M")
            messages.success(request, f"Booster booked for {when}.")
            _warn_forecasts(request, plan.patient_id)
            return redirect("sessions:plan_detail", pk=plan.pk)
    booster, forecasts, refused = None, [], []
    try:  # not a form's refusal: why no booster can be booked now, shown where the booster would be
        booster, forecasts = booster_preview(plan=plan)
    except ValidationError as exc:
        refused = [m for m in exc.messages if m not in form.non_field_errors()]
    record_chart_view(obj=plan)
    ctx = {
        "plan": plan,
        "patient": plan.patient,
        "form": form,
        "booster": booster,
        "forecasts": forecasts,
        "refused": refused,
    }
    return render(request, "sessions/booster_form.html", ctx, status=400 if form.errors else 200)


@role_required(Role.CLINICIAN)
@require_POST
def session_dose_view(request, pk):
    """Change a session's planned dose (from the plan page). "Check first" shows this page with what the booking
    checks say of the dose typed, saving nothing; a refused change shows it again the same way, with what was typed."""
    session = get_session_for_user(request.user, pk)
    form = SessionDoseForm(request.POST)
    checking = request.POST.get("action") == "check"
    if not checking and form_submit(form, session_planned_dose_set, session=session, by=request.user).done:
        messages.success(request, f"Session {session.sequence}'s planned dose changed.")
        _warn_forecasts(request, session.patient_id)
        return redirect("sessions:plan_detail", pk=session.plan_id)
    checked = form.is_valid() and checking
    dose = form.cleaned_data.get("dose")
    forecasts = session_dose_preview(session=session, dose=dose) if dose is not None else []
    record_chart_view(obj=session)
    ctx = {"session": session, "patient": session.patient, "form": form, "forecasts": forecasts, "checked": checked}
    return render(request, "sessions/session_dose.html", ctx, status=200 if checked else 400)


def _parse_day(request) -> date:
    """The schedule's day from the address; today, with a message saying so, when it is not a plausible date."""
    day, problem = query_date(request.GET.get("day"))
    if problem:
        messages.warning(request, f"{problem} Showing today instead.")
    return day or timezone.localdate()


def _parse_pk(text: str | None) -> int:
    """A filter's id from the query string; 0 (no filter) when it is missing or not a number."""
    try:
        return int(text or 0)
    except ValueError:
        return 0


@role_required(*STAFF_ROLES)
def schedule_view(request):
    """Day or week view of the bookings, per room or per clinician."""
    day = _parse_day(request)
    span = 7 if request.GET.get("span") == "week" else 1
    if span == 7:
        day -= timedelta(days=day.weekday())
    room_pk, clinician_pk = _parse_pk(request.GET.get("room")), _parse_pk(request.GET.get("clinician"))
    room = Room.objects.filter(pk=room_pk).first() if room_pk else None
    clinician = User.objects.filter(pk=clinician_pk, role=Role.CLINICIAN).first() if clinician_pk else None
    booked = sessions_between(request.user, day, span, room=room, clinician=clinician)
    if span == 7:  # the first bookings of each day, and a link to the day for the rest
        page, rows = None, schedule_rows(schedule_values(first_of_each_day(booked, WEEK_DAY_LIMIT)))
    else:  # the day a page at a time
        page = page_of(request, DayBookings(booked), DAY_PAGE_SIZE)
        rows = page.object_list = schedule_rows(page.object_list)
    record_reads_of(model=DosingSession, rows=read_rows(rows))
    days = [day + timedelta(days=i) for i in range(span)]
    by_day = {d: Bounded() for d in days}
    for row in rows:
        by_day.setdefault(row.day, Bounded()).append(row)
    filters = "".join(f"&{name}={obj.pk}" for name, obj in (("room", room), ("clinician", clinician)) if obj)
    for d, total in (bookings_per_day(booked) if span == 7 else {}).items():
        if d in by_day and total > len(by_day[d]):
            by_day[d].more, by_day[d].more_url = total - len(by_day[d]), f"?day={d:%Y-%m-%d}&span=day{filters}"
    rooms, clinicians = filter_choices(room, clinician)
    ctx = {
        "day": day,
        "span": span,
        "by_day": [(d, by_day[d]) for d in days],
        "rooms": rooms,
        "clinicians": clinicians,
        "room": room,
        "clinician": clinician,
        "filters": filters,
        "page": page,
        "previous": day - timedelta(days=span),
        "next": day + timedelta(days=span),
    }
    return render(request, "sessions/schedule.html", ctx)
