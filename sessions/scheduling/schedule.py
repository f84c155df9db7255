"""The day and week schedule's rows, worked out once per row in Python rather than by the template.

A day is shown a page at a time and a week as the first bookings of each day, so a page costs the same in a small
clinic as in a large one. Each row's times, names, labels and links are plain strings worked out here from plain
values (no booking, patient, room, clinician, protocol and confirmation objects built per row), so the template only
prints them, each once.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value, Window
from django.db.models.functions import Concat, RowNumber, TruncDate
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.paging import COUNT_CAP, capped_count
from kap_clinic.kernel.urltags import row_address
from sessions.attendance import attendance, attendance_shown
from sessions.models import DosingSession, Protocol, Room

# What a schedule row reads, as plain values, in this order.
ROW_VALUES = (
    "pk",
    "patient_id",
    "plan_id",
    "sequence",
    "starts_at",
    "ends_at",
    "status",
    "room__name",
    "patient__mrn",
    "patient__family_name",
    "patient__given_name",
    "schedule_clinician",
    "schedule_route",
    "schedule_attendance",
    "confirmation__driver_name",
)

# The day view shows this many bookings a page, in time order, with page links (that keep the filters) for the rest.
DAY_PAGE_SIZE = 40
# The week view shows at most this many bookings a day, with a link to that day's schedule for the rest.
WEEK_DAY_LIMIT = 10

ROUTES = dict(Protocol._meta.get_field("route").choices)
STATUSES = dict(DosingSession.Status.choices)


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """One booking as the schedule prints it.

    `attendance` is the words of its attendance badge ("" for a booking no longer scheduled) and `badge` its colour;
    `driver` the name of the patient's driver home, or `no_driver` the words of the badge (in the colour
    `no_driver_badge`) saying a confirmed patient named nobody (see `sessions.attendance`)."""

    pk: int
    patient_id: int
    plan_id: int | None
    sequence: int
    day: date
    times: str
    room: str
    plan_url: str
    mrn: str
    patient_name: str
    who: str
    status: str
    attendance: str
    badge: str
    driver: str
    no_driver: str
    no_driver_badge: str


def _local_day():
    return TruncDate("starts_at", tzinfo=timezone.get_current_timezone())


def first_of_each_day(sessions: QuerySet[DosingSession], limit: int) -> QuerySet[DosingSession]:
    """The first `limit` bookings of each (local) day of `sessions`, in the schedule's order.

    The bookings are ranked in a subquery that reads the bookings and their rooms only; the patients, clinicians and
    confirmations are joined to the few rows kept, not to the whole week."""
    order = [F("starts_at").asc(), F("room__name").asc(), F("pk").asc()]
    ranked = (
        sessions.select_related(None)
        .order_by()
        .annotate(schedule_day_rank=Window(RowNumber(), partition_by=[_local_day()], order_by=order))
        .filter(schedule_day_rank__lte=limit)
        .values("pk")
    )
    return DosingSession.objects.filter(pk__in=ranked).order_by("starts_at", "room__name", "pk")


def bookings_per_day(sessions: QuerySet[DosingSession]) -> dict[date, int]:
    """How many bookings each (local) day of `sessions` has: one small count, read from the bookings alone."""
    counted = sessions.select_related(None).order_by().annotate(day=_local_day()).values("day").annotate(n=Count("pk"))
    return {row["day"]: row["n"] for row in counted}


def schedule_values(sessions: QuerySet[DosingSession]) -> QuerySet:
    """What the rows of `sessions` show, as plain values (for `schedule_rows`).

    The clinician's name and the protocol's route are read by a lookup per row rather than by joins: every table
    joined makes PostgreSQL weigh more join orders, and planning six joined tables cost more than running them."""
    clinician = User.objects.filter(pk=OuterRef("clinician_id"))
    return (
        sessions.select_related(None)
        .annotate(
            schedule_clinician=Subquery(
                clinician.annotate(name=Concat("first_name", Value(" "), "last_name")).values("name")
            ),
            schedule_route=Subquery(Protocol.objects.filter(pk=OuterRef("protocol_id")).order_by().values("route")),
            schedule_attendance=attendance(),
        )
        .values_list(*ROW_VALUES)
    )


def filter_choices(room: Room | None, clinician: User | None) -> tuple[list[tuple], list[tuple]]:
    """The schedule's room and clinician choices as (id, label, whether chosen): the active rooms by name and the
    active clinicians by family name."""
    rooms = [
        (pk, name, room is not None and pk == room.pk)
        for pk, name in Room.objects.filter(is_active=True).order_by("name").values_list("pk", "name")
    ]
    clinicians = [
        (pk, f"{first_name} {last_name}".strip() or username, clinician is not None and pk == clinician.pk)
        for pk, first_name, last_name, username in User.objects.filter(role=Role.CLINICIAN, is_active=True)
        .order_by("last_name")
        .values_list("pk", "first_name", "last_name", "username")
    ]
    return rooms, clinicians


class DayBookings(Sequence):
    """A day's bookings for paging: counted from the bookings alone (no joins), read a page at a time as plain values
    (see `schedule_values`)."""

    def __init__(self, sessions: QuerySet[DosingSession]):
        self.sessions = sessions

    def count(self) -> int:
        return capped_count(self.sessions.select_related(None), COUNT_CAP)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[tuple]:
        return list(schedule_values(self.sessions.order_by("starts_at", "room__name", "pk"))[index])


def schedule_rows(values: Iterable[tuple]) -> list[ScheduleRow]:
    """The rows of the bookings' values (from `schedule_values`), in their order."""
    plan_url = row_address("sessions:plan_detail")
    zone = timezone.get_current_timezone()
    rows = []
    for (
        pk,
        patient_id,
        plan_id,
        sequence,
        starts_at,
        ends_at,
        status,
        room,
        mrn,
        family_name,
        given_name,
        clinician,
        route,
        state,
        driver_name,
    ) in values:
        start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
        shown = attendance_shown(state, driver_name)
        clinician = (clinician or "").strip()
        route = ROUTES.get(route, route)
        rows.append(
            ScheduleRow(
                pk=pk,
                patient_id=patient_id,
                plan_id=plan_id,
                sequence=sequence,
                day=start.date(),
                times=f"{start:%H:%M}–{end:%H:%M}",
                room=room or "",
                plan_url=plan_url(plan_id) if plan_id else "",
                mrn=mrn,
                patient_name=f"{family_name}, {given_name}",
                who=f"{clinician} · {route}" if clinician else route,
                status=STATUSES.get(status, status),
                attendance=shown.words,
                badge=shown.badge,
                driver=shown.driver,
                no_driver=shown.no_driver,
                no_driver_badge=shown.no_driver_badge,
            )
        )
    return rows


def read_rows(rows: list[ScheduleRow]) -> list[tuple[int, int, str]]:
    """The bookings the rows show, for recording the read: (id, patient id, the booking's name in the log)."""
    return [(row.pk, row.patient_id, DosingSession.name_of(row.pk)) for row in rows]
