from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from kap_clinic.accounts.models import User
from kap_clinic.accounts.roles import STAFF_ROLES, Role
from patients.models import Patient
from patients.selectors import visible_through

from .models import CheckIn, CheckInResponse, IntegrationSession

TREND_CODES = ("phq9", "gad7")
# The longest integration session (IntegrationSession.duration_minutes): one that started this long ago has ended.
LONGEST_INTEGRATION = timedelta(minutes=240)


# An integration session blocks its clinician and patient while scheduled or once held (as the database enforces).
INTEGRATION_ACTIVE = (IntegrationSession.Status.SCHEDULED, IntegrationSession.Status.COMPLETED)


def integration_sessions_overlapping(
    starts: datetime, ends: datetime, *, exclude_pk: int | None = None
) -> list[IntegrationSession]:
    """Active integration sessions that overlap [starts, ends): the busy check of integration and dosing bookings.

    An integration session has no stored end, so overlap is tested in Python over the few sessions that start within
    the longest allowed duration before `starts`.
    """
    nearby = IntegrationSession.objects.filter(
        status__in=INTEGRATION_ACTIVE, starts_at__lt=ends, starts_at__gt=starts - LONGEST_INTEGRATION
    ).exclude(pk=exclude_pk)
    return [other for other in nearby if other.ends_at > starts]


def get_integration_session_for_user(user: User, pk: int) -> IntegrationSession:
    """An integration session of a patient the staff member may see; 404 otherwise (patients open none)."""
    if user.role not in STAFF_ROLES:
        raise Http404("No such integration session.")
    session = (
        IntegrationSession.objects.select_related("patient", "clinician").filter(visible_through(user), pk=pk).first()
    )
    if session is None:
        raise Http404("No such integration session.")
    return session


def get_checkin_for_user(user: User, pk: int) -> CheckIn:
    """A check-in of a patient the user may see (a patient: only their own); 404 otherwise."""
    checkin = CheckIn.objects.select_related("patient").filter(visible_through(user), pk=pk).first()
    if checkin is None:
        raise Http404("No such check-in.")
    return checkin


def checkins_due(patient: Patient, *, now: datetime | None = None) -> QuerySet[CheckIn]:
    """The patient's check-ins open now: opened and not yet closed, soonest due first."""
    now = now or timezone.now()
    return CheckIn.objects.filter(
        patient=patient, status=CheckIn.Status.OPEN, opens_at__lte=now, closes_at__gt=now
    ).order_by("due_at", "pk")


def checkins_recently_done(patient: Patient, *, limit: int = 5) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(patient=patient, status=CheckIn.Status.COMPLETED).order_by("-completed_at")[:limit]


def overdue_checkins_for_clinician(user: User, *, now: datetime | None = None) -> QuerySet[CheckIn]:
    """Open check-ins past their due time for the clinician's own patients, longest overdue first."""
    now = now or timezone.now()
    return (
        CheckIn.objects.filter(patient__primary_clinician=user, status=CheckIn.Status.OPEN, due_at__lt=now)
        .select_related("patient")
        .order_by("due_at", "pk")
    )


def upcoming_integration_sessions(patient: Patient, *, now: datetime | None = None) -> list[IntegrationSession]:
    """The patient's scheduled integration sessions not yet over, in order (for the portal schedule)."""
    now = now or timezone.now()
    rows = (
        IntegrationSession.objects.filter(
            patient=patient, status=IntegrationSession.Status.SCHEDULED, starts_at__gt=now - LONGEST_INTEGRATION
        )
        .select_related("clinician")
        .order_by("starts_at", "pk")
    )
    return [row for row in rows if row.ends_at > now]


def outcome_trend(patient: Patient) -> list[dict]:
    """PHQ-9 and GAD-7 totals over time from screenings, self-reports and check-ins, oldest first."""
    from screening.models import InstrumentResponse

    screened = InstrumentResponse.objects.filter(
        screening__patient=patient, code__in=TREND_CODES, is_complete=True
    ).values_list("updated_at", "code", "total", "reported_by_patient")
    checked = CheckInResponse.objects.filter(
        checkin__patient=patient, code__in=TREND_CODES, checkin__status=CheckIn.Status.COMPLETED
    ).values_list("checkin__completed_at", "code", "total")
    points = [
        {"at": at, "code": code, "total": total, "source": "self-report" if by_patient else "screening"}
        for at, code, total, by_patient in screened
    ]
    points += [{"at": at, "code": code, "total": total, "source": "check-in"} for at, code, total in checked]
    return sorted(points, key=lambda point: point["at"])


def trend_chart_data(points: list[dict]) -> dict:
    """The chart's data: one label per point in time, a series per instrument with gaps (null) elsewhere."""
    labels = [timezone.localtime(point["at"]).strftime("%Y-%m-%d %H:%M") for point in points]
    series = {code: [None] * len(points) for code in TREND_CODES}
    for index, point in enumerate(points):
        series[point["code"]][index] = point["total"]
    return {"labels": labels, "series": series}


def integration_notes_visible_to(user: User) -> bool:
    """Integration (psychotherapy) notes are read by clinicians only: not intake staff, not admins, not the patient."""
    return user.is_active and user.has_role(Role.CLINICIAN)


def patient_aftercare(patient: Patient, *, with_notes: bool = False) -> dict:
    """What the staff aftercare page shows: integration sessions, check-ins with their answers, the outcome trend.

    Integration notes are loaded only `with_notes` (see `integration_notes_visible_to`); otherwise they stay in the
    database.
    """
    from kap_clinic.notifications.models import StaffAlert

    points = outcome_trend(patient)
    integration_sessions = IntegrationSession.objects.filter(patient=patient).select_related("clinician")
    if not with_notes:
        integration_sessions = integration_sessions.defer("notes")
    return {
        "patient": patient,
        # Open flags, read-only here (acknowledging them belongs to the alerts' own pages), beside the way to act
        # on them: a booster on the latest treatment plan.
        "flags": StaffAlert.objects.filter(patient=patient, acknowledged_at__isnull=True).order_by(
            "-urgent", "-created_at"
        )[:10],
        "plan": patient.treatment_plans.select_related("protocol").order_by("-pk").first(),
        "integration_sessions": integration_sessions.order_by("-starts_at", "-pk"),
        "notes_visible": with_notes,
        "checkins": CheckIn.objects.filter(patient=patient)
        .prefetch_related(Prefetch("responses", queryset=CheckInResponse.objects.order_by("pk")))
        .order_by("opens_at", "pk"),
        "trend": points,
        "chart": trend_chart_data(points),
    }
