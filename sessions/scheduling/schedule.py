"""The day and week schedule's rows, worked out once per row in Python rather than by the template.

A busy week lists hundreds of bookings; each row's times, names, labels and links are plain strings here, so the
template only prints them (no date filters, includes or URL look-ups per row), and each booking is read with only the
fields the schedule shows.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate
from django.urls import reverse
from django.utils import timezone

from sessions.models import DosingSession, Protocol

# What a schedule row reads of a booking and the records beside it.
SCHEDULE_FIELDS = (
    "starts_at",
    "ends_at",
    "status",
    "patient_id",
    "plan_id",
    "room__name",
    "patient__mrn",
    "patient__family_name",
    "patient__given_name",
    "clinician__first_name",
    "clinician__last_name",
    "protocol__route",
    "confirmation__confirmed_start",
    "confirmation__driver_name",
)

# The week view shows at most this many bookings a day, with a link to the day's whole schedule for the rest.
WEEK_DAY_LIMIT = 20

ROUTES = dict(Protocol._meta.get_field("route").choices)
STATUSES = dict(DosingSession.Status.choices)


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """One booking as the schedule prints it. `attendance` is "confirmed", "not_confirmed" or "" (not scheduled).

    Anything else asked of a row is the booking's own (`row.plan_id`, `row.sequence`)."""

    session: DosingSession
    day: date
    times: str
    room: str
    plan_url: str
    mrn: str
    patient_name: str
    clinician: str
    route: str
    status: str
    attendance: str
    driver: str

    def __getattr__(self, name):
        if name == "session":  # not set yet (a copy being made): nothing to hand on to
            raise AttributeError(name)
        return getattr(self.session, name)


def attendance_of(session: DosingSession) -> tuple[str, str]:
    """("confirmed", the driver's name), ("not_confirmed", "") for a scheduled booking; ("", "") otherwise."""
    if session.status != DosingSession.Status.SCHEDULED:
        return "", ""
    confirmation = getattr(session, "confirmation", None)
    if confirmation is not None and confirmation.confirmed_start == session.starts_at:
        return "confirmed", confirmation.driver_name
    return "not_confirmed", ""


DAY_TOTAL = "schedule_day_total"


def first_of_each_day(sessions: QuerySet[DosingSession], limit: int) -> QuerySet[DosingSession]:
    """The first `limit` bookings of each (local) day of `sessions`, in the schedule's order, each carrying how many
    bookings its whole day has (`schedule_day_total`): one query, however full the week is."""
    day = TruncDate("starts_at", tzinfo=timezone.get_current_timezone())
    order = [F("starts_at").asc(), F("room__name").asc(), F("pk").asc()]
    return sessions.annotate(
        schedule_day_rank=Window(RowNumber(), partition_by=[day], order_by=order),
        **{DAY_TOTAL: Window(Count("pk"), partition_by=[day])},
    ).filter(schedule_day_rank__lte=limit)


def more_per_day(bookings: list[DosingSession], rows: list[ScheduleRow]) -> dict[date, int]:
    """How many bookings of each day were left out (bookings from `first_of_each_day`)."""
    shown: dict[date, int] = {}
    total: dict[date, int] = {}
    for booking, row in zip(bookings, rows, strict=True):
        shown[row.day] = shown.get(row.day, 0) + 1
        total[row.day] = getattr(booking, DAY_TOTAL)
    return {day: total[day] - shown[day] for day in shown if total[day] > shown[day]}


def schedule_rows(sessions: QuerySet[DosingSession]) -> tuple[list[DosingSession], list[ScheduleRow]]:
    """The bookings (for recording who was shown) and their rows, in the bookings' order."""
    bookings = list(sessions.only(*SCHEDULE_FIELDS))
    plan_url = reverse("sessions:plan_detail", kwargs={"pk": 0}).replace("/0/", "/{}/")
    rows = []
    for s in bookings:
        start, end = timezone.localtime(s.starts_at), timezone.localtime(s.ends_at)
        attendance, driver = attendance_of(s)
        clinician = s.clinician
        rows.append(
            ScheduleRow(
                session=s,
                day=start.date(),
                times=f"{start:%H:%M}–{end:%H:%M}",
                room=s.room.name if s.room_id else "",
                plan_url=plan_url.format(s.plan_id) if s.plan_id else "",
                mrn=s.patient.mrn,
                patient_name=f"{s.patient.family_name}, {s.patient.given_name}",
                clinician=f"{clinician.first_name} {clinician.last_name}".strip(),
                route=ROUTES.get(s.protocol.route, s.protocol.route),
                status=STATUSES.get(s.status, s.status),
                attendance=attendance,
                driver=driver,
            )
        )
    return bookings, rows
