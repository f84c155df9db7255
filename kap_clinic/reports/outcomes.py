"""Clinic outcomes over a period, optionally for one route or one clinician.

Every figure is counted by the database (aggregates) or from streamed tuples of plain values; no session is loaded as
an object, so the report stays fast and small however many sessions the clinic has held.

Definitions (the same as the patient chart's, kap_clinic.rules.outcomes):
- *Sessions delivered*: dosing sessions starting in the period that were held (checked in, in progress or completed).
- *Patients treated*: those with a delivered session in the period (for a route or clinician: of that route, with that
  clinician). Their episode starts at the first dosing session of their latest plan begun by the end of the period
  (a plan begun later is a later episode); the baseline is the last PHQ-9 at or before it; scores after it, up to the
  end of the period, are compared with the baseline.
- *Response*: the latest score is at least 50% below the baseline; *remission*: the latest score is below 5. Both are
  out of the treated patients with a baseline and at least one score since dosing began.
- *Time to response*: days from the episode's start to the first score meeting response (median over responders).
- *No-shows and cancellations*: out of the dosing sessions booked to start in the period whose day has been settled
  (held, no-show or cancelled).
- *Before and after induction*: the baseline's band, and the band of the latest score after the patient's last held
  induction session (up to the end of the period).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Max, Min, Q, QuerySet

from aftercare.models import CheckIn, CheckInResponse
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import instruments
from kap_clinic.rules import outcomes as rules
from patients.models import Patient
from screening.models import InstrumentResponse
from sessions.models import AdverseEvent, DosingSession, Enrollment, Route

from .figures import Period, Rate, Report, Steps, Table, label

SETTLED_STATUSES = (*DosingSession.TREATED_STATUSES, DosingSession.Status.NO_SHOW, DosingSession.Status.CANCELLED)
DISTRIBUTION_CODES = ("phq9", "gad7")


@dataclass
class ClinicOutcomes(Report):
    route: str | None = None
    clinician_id: int | None = None
    enrollments: int = 0
    sessions_per_route: dict[str, int] = field(default_factory=dict)
    patients_treated: int = 0
    response: Rate = Rate(0, 0)
    remission: Rate = Rate(0, 0)
    median_days_to_response: float | None = None
    relapse_warnings: int = 0
    boosters: int = 0
    adverse_events: dict[str, int] = field(default_factory=dict)
    serious_adverse_events: int = 0
    no_shows: Rate = Rate(0, 0)
    cancellations: Rate = Rate(0, 0)
    # {"phq9": {"before": {band: patients}, "after": {band: patients}}, "gad7": {...}}
    distributions: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)


def _sessions(period: Period, route: str | None, clinician_id: int | None) -> QuerySet[DosingSession]:
    sessions = DosingSession.objects.filter(starts_at__gte=period.starts_at, starts_at__lt=period.ends_before)
    if route:
        sessions = sessions.filter(protocol__route=route)
    if clinician_id:
        sessions = sessions.filter(clinician_id=clinician_id)
    return sessions


def _patients_in_scope(route: str | None, clinician_id: int | None) -> QuerySet[Patient]:
    """Patients a route or clinician filter concerns: treated by that route, seen by (or in the care of) that
    clinician. Unfiltered: every patient."""
    patients = Patient.objects.all()
    if route:
        patients = patients.filter(pk__in=DosingSession.objects.filter(protocol__route=route).values("patient_id"))
    if clinician_id:
        patients = patients.filter(
            Q(primary_clinician_id=clinician_id)
            | Q(pk__in=DosingSession.objects.filter(clinician_id=clinician_id).values("patient_id"))
        )
    return patients


def _points(code: str, patient_ids: QuerySet, until: datetime) -> dict[int, list[tuple[datetime, int]]]:
    """Every complete total of one instrument per patient up to `until`: screenings, self-reports and check-ins."""
    screened = InstrumentResponse.objects.filter(
        screening__patient_id__in=patient_ids, code=code, is_complete=True, total__isnull=False, updated_at__lt=until
    ).values_list("screening__patient_id", "updated_at", "total")
    checked = CheckInResponse.objects.filter(
        checkin__patient_id__in=patient_ids,
        code=code,
        checkin__status=CheckIn.Status.COMPLETED,
        checkin__completed_at__lt=until,
    ).values_list("checkin__patient_id", "checkin__completed_at", "total")
    points: dict[int, list[tuple[datetime, int]]] = {}
    for query in (screened, checked):
        for patient_id, at, total in query.iterator():
            points.setdefault(patient_id, []).append((at, total))
    return points


def _episode_starts(patient_ids: QuerySet, until: datetime) -> dict[int, datetime]:
    """The first dosing session (booked or held) of each patient's latest plan that has one starting before `until`:
    a plan begun after the period is a later episode, not the one the period's scores belong to."""
    rows = (
        DosingSession.objects.active()
        .filter(patient_id__in=patient_ids, starts_at__lt=until)
        .values("patient_id", "plan_id")
        .annotate(first=Min("starts_at"))
        .values_list("patient_id", "plan_id", "first")
    )
    latest: dict[int, tuple[int, datetime]] = {}
    for patient_id, plan_id, first in rows.iterator():
        if patient_id not in latest or plan_id > latest[patient_id][0]:
            latest[patient_id] = (plan_id, first)
    return {patient_id: first for patient_id, (_, first) in latest.items()}


def _is_response(change: rules.Change) -> bool:
    return (
        change.baseline > 0 and (change.baseline - change.total) * 100 >= rules.RESPONSE_DROP_PERCENT * change.baseline
    )


def _band(code: str, total: int) -> str:
    return next(band.name for band in instruments.get(code).bands if band.contains(total))


def _distribution_counts(
    code: str, cohort: QuerySet, starts: dict[int, datetime], induction_ends: dict[int, datetime], until: datetime
) -> dict[str, dict[str, int]]:
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for patient_id, points in _points(code, cohort, until).items():
        points.sort()
        started = starts.get(patient_id)
        if started is not None:
            baseline = [total for at, total in points if at <= started]
            if baseline:
                before[_band(code, baseline[-1])] += 1
        ended = induction_ends.get(patient_id)
        if ended is not None:
            later = [total for at, total in points if at > ended]
            if later:
                after[_band(code, later[-1])] += 1
    names = instruments.get(code).band_names()
    return {"before": {name: before[name] for name in names}, "after": {name: after[name] for name in names}}


def outcomes_rows_estimate(*, start: date, end: date, route: str | None = None, clinician_id: int | None = None) -> int:
    """How big the report is, cheaply (one count): the dosing sessions in the period it reads, for the route or
    clinician asked for. Each of them brings the patient's scores and events, so the report's work grows with it."""
    return _sessions(Period(start, end), route, clinician_id).count()


def clinic_outcomes(
    *,
    start: date,
    end: date,
    route: str | None = None,
    clinician_id: int | None = None,
    progress: Callable[[int], None] | None = None,
):
    """The report; `progress`, when given, is told the rows done (out of `outcomes_rows_estimate`) after each of its
    four stages: activity, adverse events and attendance, response and remission, the bands before and after."""
    period = Period(start, end)
    sessions = _sessions(period, route, clinician_id)
    steps = Steps(progress, 4, sessions.count)
    scope = _patients_in_scope(route, clinician_id)
    report = ClinicOutcomes(title="Clinic outcomes", period=period, route=route, clinician_id=clinician_id)

    report.enrollments = Enrollment.objects.filter(
        enrolled_at__gte=period.starts_at, enrolled_at__lt=period.ends_before, patient__in=scope
    ).count()
    delivered = sessions.filter(status__in=DosingSession.TREATED_STATUSES)
    per_route = dict(
        delivered.values_list("protocol__route").annotate(n=Count("pk")).values_list("protocol__route", "n")
    )
    report.sessions_per_route = {
        code: per_route.get(code, 0) for code in Route.values if code in per_route or not route
    }
    report.boosters = delivered.filter(kind=DosingSession.Kind.BOOSTER).count()
    report.relapse_warnings = StaffAlert.objects.filter(
        kind=StaffAlert.Kind.RELAPSE,
        created_at__gte=period.starts_at,
        created_at__lt=period.ends_before,
        patient__in=scope,
    ).count()
    steps.done()

    events = AdverseEvent.objects.filter(session__in=sessions)
    by_severity = dict(events.values_list("severity").annotate(n=Count("pk")).values_list("severity", "n"))
    report.adverse_events = {code: by_severity.get(code, 0) for code in AdverseEvent.Severity.values}
    report.serious_adverse_events = events.filter(is_serious=True).count()

    attendance = sessions.filter(status__in=SETTLED_STATUSES).aggregate(
        settled=Count("pk"),
        no_shows=Count("pk", filter=Q(status=DosingSession.Status.NO_SHOW)),
        cancelled=Count("pk", filter=Q(status=DosingSession.Status.CANCELLED)),
    )
    report.no_shows = Rate(attendance["no_shows"], attendance["settled"])
    report.cancellations = Rate(attendance["cancelled"], attendance["settled"])
    steps.done()

    cohort = delivered.values("patient_id").distinct()
    report.patients_treated = cohort.count()
    starts = _episode_starts(cohort, period.ends_before)
    evaluable = responders = remitters = 0
    days_to_response = []
    for patient_id, points in _points("phq9", cohort, period.ends_before).items():
        episode = rules.episode(points, starts.get(patient_id))
        if episode.latest is None:
            continue
        evaluable += 1
        responders += _is_response(episode.latest)
        remitters += episode.latest.status == rules.Status.REMISSION
        first = next((at for at, change in episode.changes if _is_response(change)), None)
        if first is not None and _is_response(episode.latest):
            days_to_response.append((first - episode.started_at).total_seconds() / 86400)
    report.response = Rate(responders, evaluable)
    report.remission = Rate(remitters, evaluable)
    report.median_days_to_response = round(statistics.median(days_to_response), 1) if days_to_response else None
    steps.done()

    induction_ends = dict(
        DosingSession.objects.treated()
        .filter(patient_id__in=cohort, phase="induction", starts_at__lt=period.ends_before)
        .values("patient_id")
        .annotate(last=Max("ends_at"))
        .values_list("patient_id", "last")
    )
    report.distributions = {
        code: _distribution_counts(code, cohort, starts, induction_ends, period.ends_before)
        for code in DISTRIBUTION_CODES
    }
    report.tables = _tables(report)
    steps.done()
    return report


def _tables(report: ClinicOutcomes) -> list[Table]:
    route_labels = dict(Route.choices)
    activity = Table(
        title="Enrollments and sessions",
        headers=["Measure", "Count"],
        rows=[
            ["New enrollments", report.enrollments],
            ["Patients treated", report.patients_treated],
            *[[f"Sessions delivered: {route_labels[code]}", n] for code, n in report.sessions_per_route.items()],
            ["Booster sessions delivered", report.boosters],
            ["Relapse warnings", report.relapse_warnings],
        ],
    )
    median = report.median_days_to_response
    response = Table(
        title="Response and remission (PHQ-9)",
        headers=["Measure", "Patients", "Of", "Rate"],
        rows=[
            report.response.row("Response (50% or more below baseline)"),
            report.remission.row("Remission (PHQ-9 below 5)"),
        ],
        note=(
            "Of the patients treated in the period with a PHQ-9 baseline before their first dose and a score since; "
            "the latest score up to the end of the period counts."
        ),
    )
    time_to_response = Table(
        title="Time to response",
        headers=["Measure", "Days", "Responders"],
        rows=[["Median days from the first dose to response", "" if median is None else median, report.response.count]],
        note="Over the patients whose latest score meets response, to the first score that met it.",
    )
    events = Table(
        title="Adverse events by severity",
        headers=["Severity", "Events"],
        rows=[
            *[[label(code), n] for code, n in report.adverse_events.items()],
            ["Serious", report.serious_adverse_events],
        ],
    )
    attendance = Table(
        title="No-shows and cancellations",
        headers=["Measure", "Sessions", "Of", "Rate"],
        rows=[report.no_shows.row("No-shows"), report.cancellations.row("Cancellations")],
        note="Of the dosing sessions booked to start in the period that were held, missed or cancelled.",
    )
    tables = [activity, response, time_to_response, events, attendance]
    for code, split in report.distributions.items():
        tables.append(
            Table(
                title=f"{instruments.display_name(code)} before and after induction",
                headers=["Band", "Before (baseline)", "After induction"],
                rows=[[label(band), split["before"][band], split["after"][band]] for band in split["before"]],
                note="Patients by the band of their baseline and of their latest score after the induction series.",
            )
        )
    return tables
