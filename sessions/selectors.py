from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.rules import safety
from patients.selectors import visible_through

from . import attendance
from .models import DosingSession, PreDoseCheck, Route, TreatmentPlan


def get_plan_for_user(user: User, pk: int) -> TreatmentPlan:
    if user.role not in STAFF_ROLES:
        raise Http404("No such plan.")
    plan = (
        TreatmentPlan.objects.select_related("patient", "protocol", "created_by")
        .filter(visible_through(user), pk=pk)
        .first()
    )
    if plan is None:
        raise Http404("No such plan.")
    return plan


def get_session_for_user(user: User, pk: int) -> DosingSession:
    """A dosing session of a patient the user may see (a patient: only their own); 404 otherwise."""
    session = (
        DosingSession.objects.select_related("patient", "protocol", "room", "clinician", "plan")
        .filter(visible_through(user), pk=pk)
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    return session


def _day_bounds(day: date, days: int = 1) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=days), time.min), tz)
    return start, end


def week_by_route(day: date) -> dict:
    """The clinic's dosing sessions of the week (Monday to Sunday) holding `day`, counted per route, for the admin's
    clinic health: booked (still to come or under way), completed, and did not take place (cancelled or no-show).

    Every route is listed, with zeros, so a route that stopped being booked shows as such. Counts only: no patient is
    named. One grouped query over the week's sessions (the start-time index)."""
    monday = day - timedelta(days=day.weekday())
    start, end = _day_bounds(monday, 7)
    counted = (
        DosingSession.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .values("protocol__route")
        .annotate(
            upcoming=Count("pk", filter=Q(status__in=DosingSession.UPCOMING_STATUSES)),
            completed=Count("pk", filter=Q(status=DosingSession.Status.COMPLETED)),
            not_held=Count("pk", filter=Q(status__in=DosingSession.CLOSED_STATUSES)),
        )
        .order_by()
    )
    by_route = {row.pop("protocol__route"): row for row in counted}
    empty = {"upcoming": 0, "completed": 0, "not_held": 0}
    rows = [{"route": label, **by_route.get(value, empty)} for value, label in Route.choices]
    total = {key: sum(row[key] for row in rows) for key in empty}
    return {"monday": monday, "sunday": monday + timedelta(days=6), "rows": rows, "total": total}


def sessions_between(user: User, day: date, days: int = 1, *, room=None, clinician=None) -> QuerySet[DosingSession]:
    """Booked sessions of the patients the user may see over `days` days from `day`, for the day and week views."""
    start, end = _day_bounds(day, days)
    qs = DosingSession.objects.filter(visible_through(user), starts_at__gte=start, starts_at__lt=end)
    if room is not None:
        qs = qs.filter(room=room)
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    # The patient's confirmation (attendance, driver home) shows beside each booking on the front desk's views.
    return qs.select_related("patient", "room", "clinician", "protocol", "confirmation").order_by(
        "starts_at", "room__name"
    )


def todays_sessions(user: User) -> QuerySet[DosingSession]:
    qs = sessions_between(user, timezone.localdate())
    if user.role == Role.CLINICIAN:
        qs = qs.filter(clinician=user)
    return qs.exclude(status=DosingSession.Status.CANCELLED)


# What the list of tomorrow's unconfirmed sessions reads of each booking (not the whole booking and its neighbours).
UNCONFIRMED_FIELDS = ("starts_at", "status", "patient_id", "patient__given_name", "patient__family_name")


def unconfirmed_tomorrow(user: User) -> QuerySet[DosingSession]:
    """Tomorrow's booked sessions whose patient has not confirmed, or has not named a driver home, in time order,
    each carrying what is missing (`missing`, a key of `sessions.attendance.MISSING`): picked out by the database, so
    a list of them can be bounded like any other."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    return (
        sessions_between(user, tomorrow)
        .filter(status=DosingSession.Status.SCHEDULED)
        .select_related(None)
        .select_related("patient")
        .only(*UNCONFIRMED_FIELDS)
        .annotate(missing=attendance.missing())
        .exclude(missing="")
    )


def rescreen_alert_answers(source_ref: str, code: str) -> list[tuple[str, str]] | None:
    """The dosing-day re-screen answers behind a suicide-risk alert ("session-34"), as (question, answer) rows."""
    _, _, pk = source_ref.partition("-")
    check = PreDoseCheck.objects.filter(session_id=int(pk) if pk.isdigit() else None).first()
    if check is None or not check.rescreen_code:
        return None
    return safety.rescreen_answer_rows(check.rescreen_code, check.rescreen_answers)[1]
