from datetime import datetime, timedelta

from django.db.models import F, Min, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import instruments, outcomes
from patients.models import Patient
from patients.selectors import visible_through
from screening.models import InstrumentResponse
from sessions.calendar import FeedItem
from sessions.models import DosingSession
from sessions.scheduling.booking import Busy

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


INTEGRATION_SESSION = "integration session"


def integration_sessions_busy(*, starts_at, ends_at, clinician_id, patient_id, room_id) -> list[Busy]:
    """Active integration sessions overlapping the range that share the clinician or the patient: the booking core's
    busy-time source for integration sessions (registered in `AftercareConfig.ready()`; they use no bookable room)."""
    return [
        Busy(INTEGRATION_SESSION, other.pk, other.clinician_id, other.patient_id)
        for other in integration_sessions_overlapping(starts_at, ends_at)
        if other.clinician_id == clinician_id or other.patient_id == patient_id
    ]


# In the patient's calendar feed: booked, held or cancelled (a no-show is left out, as for dosing sessions).
INTEGRATION_IN_FEED = (*INTEGRATION_ACTIVE, IntegrationSession.Status.CANCELLED)


def integration_feed_items(patient: Patient, since: datetime) -> list[FeedItem]:
    """The patient's integration sessions for their calendar feed, which words them like every appointment."""
    visits = IntegrationSession.objects.filter(patient=patient, status__in=INTEGRATION_IN_FEED, starts_at__gte=since)
    return [
        FeedItem(
            uid=str(visit.calendar_uid),
            sequence=visit.calendar_sequence,
            created=visit.created_at,
            changed=visit.updated_at,
            starts_at=visit.starts_at,
            ends_at=visit.ends_at,
            cancelled=visit.status == IntegrationSession.Status.CANCELLED,
        )
        for visit in visits
    ]


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


def episode_starts(patient_ids, *, begun_by: datetime | None = None) -> dict[int, datetime]:
    """Each patient's episode start: the first dosing session (booked or held) of their latest treatment plan that has
    one; with `begun_by`, of their latest plan whose first session started by then (a series booked ahead has not
    begun, and the one before it still runs). One query however many patients."""
    sessions = DosingSession.objects.active().filter(patient_id__in=patient_ids)
    if begun_by is not None:
        sessions = sessions.filter(starts_at__lte=begun_by)
    rows = sessions.values("patient_id", "plan_id").annotate(first=Min("starts_at"))
    latest: dict[int, tuple[int, datetime]] = {}
    for row in rows:
        if row["patient_id"] not in latest or row["plan_id"] > latest[row["patient_id"]][0]:
            latest[row["patient_id"]] = (row["plan_id"], row["first"])
    return {patient_id: first for patient_id, (_, first) in latest.items()}


def episode_start() -> Subquery:
    """A patient's episode start (as `episode_starts` reads it) as a subquery on a list of patients: the rows read it in
    the list's own query."""
    first = (
        DosingSession.objects.active()
        .filter(patient_id=OuterRef("pk"))
        .order_by(F("plan_id").desc(nulls_last=True), "starts_at")
        .values("starts_at")[:1]
    )
    return Subquery(first)


def phq9_points(patient_ids, *, exclude_checkin_id: int | None = None) -> dict[int, list[tuple[datetime, int]]]:
    """Every complete PHQ-9 total per patient, from screenings, self-reports and check-ins. One query."""
    screened = (
        InstrumentResponse.objects.filter(screening__patient_id__in=patient_ids, code="phq9", is_complete=True)
        .order_by()
        .values_list("screening__patient_id", "updated_at", "total")
    )
    checked = (
        CheckInResponse.objects.filter(
            checkin__patient_id__in=patient_ids, code="phq9", checkin__status=CheckIn.Status.COMPLETED
        )
        .exclude(checkin_id=exclude_checkin_id)
        .order_by()
        .values_list("checkin__patient_id", "checkin__completed_at", "total")
    )
    points: dict[int, list[tuple[datetime, int]]] = {}
    for patient_id, at, total in screened.union(checked, all=True):
        points.setdefault(patient_id, []).append((at, total))
    return points


def outcome_episodes(patient_ids, *, starts: dict[int, datetime | None] | None = None) -> dict[int, outcomes.Episode]:
    """Baseline, response and remission per patient (kap_clinic.rules.outcomes), in two queries for the whole list, or
    one when the episodes' `starts` are already read (see `episode_start`)."""
    patient_ids = list(patient_ids)
    starts = episode_starts(patient_ids) if starts is None else starts
    points = phq9_points(patient_ids)
    return {pk: outcomes.episode(points.get(pk, []), starts.get(pk)) for pk in patient_ids}


def trend_chart_data(points: list[dict], episode: outcomes.Episode | None = None) -> dict:
    """The chart's data: one label per point in time, a series per instrument with gaps (null) elsewhere, and the
    episode's PHQ-9 baseline with the response (50% below it) and remission (below 5) lines."""
    labels = [timezone.localtime(point["at"]).strftime("%Y-%m-%d %H:%M") for point in points]
    series = {code: [None] * len(points) for code in TREND_CODES}
    for index, point in enumerate(points):
        series[point["code"]][index] = point["total"]
    baseline = episode.baseline if episode is not None else None
    return {
        "labels": labels,
        "series": series,
        "baseline": baseline,
        "response_at": None if baseline is None else baseline * (100 - outcomes.RESPONSE_DROP_PERCENT) / 100,
        "remission_below": outcomes.REMISSION_BELOW,
    }


def _mark_changes(points: list[dict], episode: outcomes.Episode) -> None:
    """Each PHQ-9 point learns whether it is the baseline, or its change from the baseline (after dosing began)."""
    changes = dict(episode.changes)
    for point in points:
        if point["code"] != "phq9":
            continue
        if point["at"] == episode.baseline_at:
            point["is_baseline"] = True
        elif point["at"] in changes:
            point["change"] = changes[point["at"]]


def integration_notes_visible_to(user: User) -> bool:
    """Integration (psychotherapy) notes are read by clinicians only: not intake staff, not admins, not the patient."""
    return user.is_active and user.has_role(Role.CLINICIAN)


def patient_aftercare(patient: Patient, *, with_notes: bool = False) -> dict:
    """What the staff aftercare page shows: integration sessions, check-ins with their answers, the outcome trend.

    Integration notes are loaded only `with_notes` (see `integration_notes_visible_to`); otherwise they stay in the
    database.
    """
    points = outcome_trend(patient)
    integration_sessions = IntegrationSession.objects.filter(patient=patient).select_related("clinician")
    if not with_notes:
        integration_sessions = integration_sessions.defer("notes")
    episode = outcome_episodes([patient.pk])[patient.pk]
    _mark_changes(points, episode)
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
        "episode": episode,
        "chart": trend_chart_data(points, episode),
    }


def checkin_alert_answers(source_ref: str, code: str) -> list[tuple[str, str]] | None:
    """The check-in answers behind a suicide-risk alert ("checkin-12"), as (question, answer) rows."""
    _, _, pk = source_ref.partition("-")
    response = CheckInResponse.objects.filter(checkin_id=int(pk) if pk.isdigit() else None, code=code).first()
    return instruments.answer_rows(response.code, response.answers) if response else None
