"""Operations and authorizations over a period: how full the rooms and clinicians were each week, sessions per route,
reminders and confirmations, and the insurance authorizations that need attention.

Definitions:
- *Booked hours*: dosing sessions starting in the week that were not cancelled (held, booked or missed: a no-show
  still held the chair), from start to end; for a clinician, their integration sessions too. *Open hours*: the
  clinic's opening hours on the week's days inside the period (closure days excepted); for a clinician, their own
  working hours where set, the clinic's otherwise. Weeks start on Monday.
- *Reminders*: messages to patients planned for the period, by channel: sent, and failed (given up after retries).
- *Confirmations*: of the dosing sessions booked to start in the period (not cancelled), those the patient confirmed
  for that start.
- *Authorizations* (approved): ending within the period or the warning window after it; with their units nearly used
  (the warning percentage or more); and with dosing sessions booked after their last day or beyond their units left,
  counted as billing counts them (only sessions billing one of the authorization's codes, in its units: J0013 by the
  milligram, G2082/G2083 by the dose).

Rows are counted by the database or streamed as plain tuples; no session is loaded as an object.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from aftercare.models import IntegrationSession
from billing.coverage import billed_codes, session_units, units_sessions
from billing.models import PriorAuthorization
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.notifications.models import Channel, Reminder
from kap_clinic.rules.billing_codes import covers
from sessions.attendance import CONFIRMED
from sessions.models import ClinicClosure, ClinicHours, ClinicianHours, DosingSession, Room, Route

from .figures import Period, Rate, Report, Steps, Table

BOOKED_STATUSES = (*DosingSession.ACTIVE_STATUSES, DosingSession.Status.NO_SHOW)
INTEGRATION_BOOKED = (
    IntegrationSession.Status.SCHEDULED,
    IntegrationSession.Status.COMPLETED,
    IntegrationSession.Status.NO_SHOW,
)


@dataclass(frozen=True)
class Utilisation:
    week: date  # the Monday
    name: str
    booked_hours: float
    open_hours: float | None

    @property
    def percent(self) -> float | None:
        if not self.open_hours:
            return None
        return round(self.booked_hours * 100 / self.open_hours, 1)

    def row(self) -> list:
        percent = "" if self.percent is None else f"{self.percent:.1f}%"
        open_hours = "" if self.open_hours is None else self.open_hours
        return [self.week, self.name, self.booked_hours, open_hours, percent]


@dataclass
class OperationsReport(Report):
    rooms: list[Utilisation] = field(default_factory=list)
    clinicians: list[Utilisation] = field(default_factory=list)
    # {route: {"held": n, "booked": n, "no_show": n, "cancelled": n}}
    sessions_per_route: dict[str, dict[str, int]] = field(default_factory=dict)
    reminders: dict[str, dict[str, int]] = field(default_factory=dict)  # {channel: {"sent": n, "failed": n}}
    confirmations: Rate = Rate(0, 0)
    expiring: list[dict] = field(default_factory=list)
    nearly_used: list[dict] = field(default_factory=list)
    booked_beyond: list[dict] = field(default_factory=list)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _hours(start, end) -> float:
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)).total_seconds() / 3600


def _open_days(period: Period) -> list[date]:
    closed = set(ClinicClosure.objects.filter(day__gte=period.start, day__lte=period.end).values_list("day", flat=True))
    days, day = [], period.start
    while day <= period.end:
        if day not in closed:
            days.append(day)
        day += timedelta(days=1)
    return days


def _open_hours_per_week(days: list[date], per_weekday: dict[int, float]) -> dict[date, float]:
    weeks: dict[date, float] = defaultdict(float)
    for day in days:
        weeks[_monday(day)] += per_weekday.get(day.weekday(), 0.0)
    return weeks


def _week_of(moment: datetime) -> date:
    return _monday(timezone.localtime(moment).date())


def _utilisation(period: Period) -> tuple[list[Utilisation], list[Utilisation]]:
    days = _open_days(period)
    weeks = sorted({_monday(day) for day in days} | {_monday(period.start)})
    opening = ClinicHours.objects.values_list("weekday", "opens", "closes")
    clinic_open = _open_hours_per_week(days, {weekday: _hours(opens, closes) for weekday, opens, closes in opening})
    in_period = {"starts_at__gte": period.starts_at, "starts_at__lt": period.ends_before}

    room_hours: dict[tuple[date, int], float] = defaultdict(float)
    clinician_hours: dict[tuple[date, int], float] = defaultdict(float)
    dosing = DosingSession.objects.filter(status__in=BOOKED_STATUSES, **in_period).values_list(
        "room_id", "clinician_id", "starts_at", "ends_at"
    )
    for room_id, clinician_id, starts_at, ends_at in dosing.iterator():
        hours = (ends_at - starts_at).total_seconds() / 3600
        room_hours[(_week_of(starts_at), room_id)] += hours
        clinician_hours[(_week_of(starts_at), clinician_id)] += hours
    integration = IntegrationSession.objects.filter(status__in=INTEGRATION_BOOKED, **in_period).values_list(
        "clinician_id", "starts_at", "duration_minutes"
    )
    for clinician_id, starts_at, minutes in integration.iterator():
        clinician_hours[(_week_of(starts_at), clinician_id)] += minutes / 60

    rooms = dict(
        Room.objects.filter(Q(is_active=True) | Q(pk__in={pk for _, pk in room_hours})).values_list("pk", "name")
    )
    room_rows = [
        Utilisation(week, rooms[pk], round(room_hours.get((week, pk), 0.0), 2), round(clinic_open.get(week, 0.0), 2))
        for week in weeks
        for pk in sorted(rooms, key=lambda pk: rooms[pk])
    ]

    own_hours: dict[int, dict[int, float]] = defaultdict(dict)
    for clinician_id, weekday, starts, ends in ClinicianHours.objects.values_list(
        "clinician_id", "weekday", "starts", "ends"
    ):
        own_hours[clinician_id][weekday] = _hours(starts, ends)
    clinician_ids = {pk for _, pk in clinician_hours} | set(
        User.objects.filter(role="clinician", is_active=True).values_list("pk", flat=True)
    )
    names = {
        pk: (f"{first} {last}".strip() or username)
        for pk, first, last, username in User.objects.filter(pk__in=clinician_ids).values_list(
            "pk", "first_name", "last_name", "username"
        )
    }
    clinician_rows = []
    for pk in sorted(names, key=lambda pk: names[pk]):
        open_hours = _open_hours_per_week(days, own_hours[pk]) if pk in own_hours else clinic_open
        clinician_rows += [
            Utilisation(
                week, names[pk], round(clinician_hours.get((week, pk), 0.0), 2), round(open_hours.get(week, 0.0), 2)
            )
            for week in weeks
        ]
    return room_rows, clinician_rows


def _sessions_per_route(period: Period) -> dict[str, dict[str, int]]:
    Status = DosingSession.Status
    rows = (
        DosingSession.objects.filter(starts_at__gte=period.starts_at, starts_at__lt=period.ends_before)
        .values("protocol__route")
        .annotate(
            held=Count("pk", filter=Q(status__in=DosingSession.TREATED_STATUSES)),
            booked=Count("pk", filter=Q(status=Status.SCHEDULED)),
            no_show=Count("pk", filter=Q(status=Status.NO_SHOW)),
            cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
        )
        .values_list("protocol__route", "held", "booked", "no_show", "cancelled")
    )
    found = {route: {"held": h, "booked": b, "no_show": n, "cancelled": c} for route, h, b, n, c in rows}
    empty = {"held": 0, "booked": 0, "no_show": 0, "cancelled": 0}
    return {route: found.get(route, dict(empty)) for route in Route.values}


def _reminders(period: Period) -> dict[str, dict[str, int]]:
    rows = (
        Reminder.objects.filter(
            alert__isnull=True,
            staff_user__isnull=True,
            scheduled_for__gte=period.starts_at,
            scheduled_for__lt=period.ends_before,
        )
        .values("channel")
        .annotate(
            sent=Count("pk", filter=Q(status=Reminder.Status.SENT)),
            failed=Count("pk", filter=Q(status=Reminder.Status.FAILED)),
        )
        .values_list("channel", "sent", "failed")
    )
    found = {channel: {"sent": sent, "failed": failed} for channel, sent, failed in rows}
    return {channel: found.get(channel, {"sent": 0, "failed": 0}) for channel in Channel.values}


def _confirmations(period: Period) -> Rate:
    booked = DosingSession.objects.filter(
        status__in=BOOKED_STATUSES, starts_at__gte=period.starts_at, starts_at__lt=period.ends_before
    )
    return Rate(booked.filter(CONFIRMED).count(), booked.count())


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()), timezone.get_current_timezone())


def _authorizations(period: Period) -> tuple[list[dict], list[dict], list[dict]]:
    warn_days = settings.AUTHORIZATION_WARN_DAYS
    percent = settings.AUTHORIZATION_WARN_UNITS_PERCENT
    approved = PriorAuthorization.objects.filter(status=PriorAuthorization.Status.APPROVED)
    fields = ("pk", "payer__name", "reference", "patient_id", "starts_on", "ends_on")
    fields += ("units_authorized", "units_used", "codes")

    def row(values) -> dict:
        return dict(zip(fields, values, strict=True))

    expiring = [
        row(values)
        for values in approved.filter(ends_on__gte=period.start, ends_on__lte=period.end + timedelta(days=warn_days))
        .order_by("ends_on", "pk")
        .values_list(*fields)
    ]
    nearly_used = [
        row(values)
        for values in approved.filter(units_authorized__gt=0, units_used__gte=F("units_authorized") * percent / 100.0)
        .order_by("ends_on", "pk")
        .values_list(*fields)
    ]
    beyond = _booked_beyond(approved.exclude(ends_on__isnull=True).order_by("ends_on", "pk"), fields)
    return expiring, nearly_used, beyond


def _booked_beyond(authorizations: QuerySet[PriorAuthorization], fields: tuple[str, ...]) -> list[dict]:
    """The approved authorizations with sessions booked after their last day, or with more units booked within their
    dates than they have left: sessions and units counted as billing counts them (`billing.coverage`: a session
    counts under an authorization when it bills one of its codes, in that code's units: J0013 in milligrams of the
    dose planned, G2082 or G2083 by that dose). Three queries however many authorizations: the authorizations, the
    sessions booked for their patients, and those sessions' top-up doses."""
    listed = [dict(zip(fields, values, strict=True)) for values in authorizations.values_list(*fields)]
    if not listed:
        return []
    booked: dict[int, list[DosingSession]] = defaultdict(list)
    sessions = DosingSession.objects.filter(
        patient_id__in=authorizations.values("patient_id"), status=DosingSession.Status.SCHEDULED
    ).order_by("starts_at", "pk")
    for session in units_sessions(sessions):
        booked[session.patient_id].append(session)
    beyond = []
    for authorization in listed:
        codes = authorization["codes"]
        mine = [s for s in booked[authorization["patient_id"]] if covers(codes, billed_codes(s))]
        end_next = _day_start(authorization["ends_on"] + timedelta(days=1))
        after_end = sum(1 for s in mine if s.starts_at >= end_next)
        over_units = 0
        if authorization["units_authorized"] is not None and authorization["starts_on"] is not None:
            start = _day_start(authorization["starts_on"])
            within = sum(session_units(codes, s) for s in mine if start <= s.starts_at < end_next)
            left = max(authorization["units_authorized"] - authorization["units_used"], 0)
            over_units = max(within - left, 0)
        if after_end or over_units:
            beyond.append({**authorization, "after_end": after_end, "over_units": over_units})
    return beyond


def operations_rows_estimate(*, start: date, end: date) -> int:
    """How big the report is, cheaply (two counts): the dosing sessions in the period (utilisation, routes,
    confirmations) and the approved authorizations (each checked against the sessions booked)."""
    period = Period(start, end)
    sessions = DosingSession.objects.filter(starts_at__gte=period.starts_at, starts_at__lt=period.ends_before)
    return sessions.count() + PriorAuthorization.objects.filter(status=PriorAuthorization.Status.APPROVED).count()


def operations_report(*, start: date, end: date, progress: Callable[[int], None] | None = None) -> OperationsReport:
    """The report; `progress`, when given, is told the rows done (out of `operations_rows_estimate`) after each of
    its three stages: utilisation, the period's sessions, reminders and confirmations, the authorizations."""
    period = Period(start, end)
    steps = Steps(progress, 3, lambda: operations_rows_estimate(start=start, end=end))
    report = OperationsReport(title="Operations and authorizations", period=period)
    report.rooms, report.clinicians = _utilisation(period)
    steps.done()
    report.sessions_per_route = _sessions_per_route(period)
    report.reminders = _reminders(period)
    report.confirmations = _confirmations(period)
    steps.done()
    report.expiring, report.nearly_used, report.booked_beyond = _authorizations(period)
    report.tables = _tables(report)
    steps.done()
    return report


def _authorization_cells(authorization: dict) -> list:
    units = (
        ""
        if authorization["units_authorized"] is None
        else f"{authorization['units_used']} of {authorization['units_authorized']}"
    )
    return [
        authorization["payer__name"],
        authorization["reference"],
        authorization["ends_on"],
        units,
    ]


def _tables(report: OperationsReport) -> list[Table]:
    utilisation_headers = ["Week starting", "Name", "Booked hours", "Open hours", "Utilisation"]
    route_labels = dict(Route.choices)
    channel_labels = dict(Channel.choices)
    authorization_headers = ["Payer", "Authorization number", "Last day", "Units used"]
    return [
        Table("Room utilisation per week", ["Week starting", "Room", *utilisation_headers[2:]],
              [u.row() for u in report.rooms], note="Booked hours of dosing sessions (not cancelled) / opening hours."),
        Table("Clinician utilisation per week", ["Week starting", "Clinician", *utilisation_headers[2:]],
              [u.row() for u in report.clinicians],
              note="Dosing and integration sessions / the clinician's working hours (the clinic's where not set)."),
        Table("Sessions per route", ["Route", "Held", "Booked", "No-shows", "Cancelled"],
              [[route_labels[route], n["held"], n["booked"], n["no_show"], n["cancelled"]]
               for route, n in report.sessions_per_route.items()]),
        Table("Reminders", ["Channel", "Sent", "Failed"],
              [[channel_labels[channel], n["sent"], n["failed"]] for channel, n in report.reminders.items()]),
        Table("Confirmations", ["Measure", "Sessions", "Of", "Rate"],
              [report.confirmations.row("Confirmed by the patient")],
              note="Of the dosing sessions booked to start in the period (not cancelled)."),
        Table("Authorizations ending soon", authorization_headers,
              [_authorization_cells(a) for a in report.expiring],
              note="Approved, with a last day in the period or the warning window after it."),
        Table("Authorizations nearly used up", authorization_headers,
              [_authorization_cells(a) for a in report.nearly_used]),
        Table("Sessions booked beyond an authorization",
              [*authorization_headers, "Sessions booked after the last day", "Units booked beyond those left"],
              [[*_authorization_cells(a), a["after_end"], a["over_units"]] for a in report.booked_beyond],
              note="Sessions that bill one of the authorization's codes, in the payer's units: J0013 in milligrams "
                   "of the dose planned, G2082 up to 56 mg and G2083 over it, one a visit for the others."),
    ]  # fmt: skip
