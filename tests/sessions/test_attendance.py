"""Whether each booked patient has said they will come, as the schedule, the homes' list of today's sessions and the
front desk's list of tomorrow's gaps show it: the same words and badges on every page.

Four patients each have an IV series from Mon 7 Dec 2026 at their own hour (Mon, Wed, Fri); the clinic's clock is
set on the Sunday before or on the Monday itself.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import unescape
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from kap_clinic.kernel.notifications.models import SessionConfirmation
from patients.services import patient_create
from sessions import attendance
from sessions.confirmation import session_cannot_attend, session_confirm
from sessions.models import DosingSession, Protocol, Room
from sessions.scheduling.changes import session_check_in, session_reschedule
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create

pytestmark = pytest.mark.django_db

CLINIC_TZ = ZoneInfo("America/New_York")
MON_7_DEC = date(2026, 12, 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CLINIC_TZ)


@pytest.fixture(autouse=True)
def clinic_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"


def monday_session(family_name: str, hour: int, clinician, room, by) -> DosingSession:
    patient = patient_create(
        created_by=None,
        given_name="Lee",
        family_name=family_name,
        date_of_birth=date(1980, 1, 1),
        primary_clinician=clinician,
    )
    enrollment_create(patient=patient, by=by, override_justification="Screened on paper before go-live.")
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="iv"),
        first_day=MON_7_DEC,
        start_time=time(hour),
        room=room,
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=by,
    )
    return plan.sessions.order_by("starts_at").first()


@pytest.fixture
def bookings(time_machine, clinician, other_clinician):
    """Monday's sessions, booked on Tuesday 1 Dec, each in another state of confirmation by Sunday 6 Dec."""
    time_machine.move_to(at(date(2026, 12, 1), 10), tick=False)
    rooms = {"Room A": (clinician, Room.objects.create(name="Room A"))}
    rooms["Room B"] = (other_clinician, Room.objects.create(name="Room B"))
    s = {name: monday_session(name, hour, *rooms[room], by=clinician) for name, (room, hour) in BOOKED.items()}
    session_confirm(session=s["Driven"], driver_name="Sam Quill")
    session_confirm(session=s["Driverless"], driver_name="")
    session_confirm(session=s["Moved"], driver_name="Sam Quill")
    session_reschedule(session=s["Moved"], new_start=at(MON_7_DEC, 14), by=clinician)
    session_confirm(session=s["Arrived"], driver_name="Sam Quill")
    session_cannot_attend(session=s["Away"])
    session_cannot_attend(session=s["Changed mind"])
    session_confirm(session=s["Changed mind"], driver_name="Sam Quill")
    time_machine.move_to(at(date(2026, 12, 6), 12), tick=False)
    return s


# Each patient's room and hour on Monday (an IV session lasts two hours): the moved one goes to 14:00 in Room B.
BOOKED = {
    "Unanswered": ("Room A", 8),
    "Driven": ("Room A", 10),
    "Driverless": ("Room A", 12),
    "Arrived": ("Room A", 14),
    "Away": ("Room B", 8),
    "Changed mind": ("Room B", 10),
    "Moved": ("Room B", 12),
}

# What each page shows of the patient's answer: (badges as (colour, words), the driver named).
NOT_CONFIRMED = ([("warning", "Not confirmed")], [])
SHOWN = {
    "Unanswered": NOT_CONFIRMED,
    "Driven": ([("success", "Confirmed")], ["Sam Quill"]),
    "Driverless": ([("success", "Confirmed"), ("warning", "No driver named")], []),
    "Moved": NOT_CONFIRMED,
    "Arrived": ([], []),
    "Away": NOT_CONFIRMED,
    "Changed mind": ([("success", "Confirmed")], ["Sam Quill"]),
}
# What the front desk's list of tomorrow's gaps says of each (nothing: not listed).
MISSING = {
    "Unanswered": "Not confirmed; no driver named",
    "Driven": None,
    "Driverless": "No driver named",
    "Moved": "Not confirmed; no driver named",
    "Arrived": None,
    "Away": "Patient can't attend: call them to rebook",
    "Changed mind": None,  # the later answer stands
}


def attendance_cells(html: str) -> dict[str, tuple[list, list]]:
    """Each row's badges and driver, by the patient's family name, from a table whose third cell is attendance."""
    shown = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        names = [name for name in BOOKED if f"{name}, Lee" in row]
        if len(cells) >= 3 and names:
            badges = re.findall(r'<span class="badge text-bg-(\w+)">([^<]*)</span>', cells[2])
            shown[names[0]] = (badges, re.findall(r"<small>Driver: ([^<]*)</small>", cells[2]))
    return shown


def test_the_schedule_and_the_homes_today_show_the_same_words_and_badges(
    bookings, time_machine, client_for, front_desk
):
    time_machine.move_to(at(MON_7_DEC, 7), tick=False)
    session_check_in(session=bookings["Arrived"], by=front_desk)
    client = client_for(front_desk)

    schedule = client.get(reverse("sessions:schedule"), {"day": "2026-12-07"}).content.decode()
    week = client.get(reverse("sessions:schedule"), {"day": "2026-12-07", "span": "week"}).content.decode()
    home = client.get(reverse("homes:home")).content.decode()
    today = home.split('data-testid="today"', 1)[1].split("</table>", 1)[0]

    assert attendance_cells(schedule) == SHOWN
    assert attendance_cells(today) == SHOWN
    # The week shows Monday's rows as the day does (and the moved session's confirmation is gone on it too).
    monday = week.split("Monday 7 Dec", 1)[1].split("Tuesday 8 Dec", 1)[0]
    assert attendance_cells(monday) == SHOWN


def test_tomorrows_list_names_what_is_missing_for_each_booking(bookings, client_for, front_desk):
    home = client_for(front_desk).get(reverse("homes:home")).content.decode()
    listed = home.split('data-testid="unconfirmed-tomorrow"', 1)[1].split("</table>", 1)[0]

    rows = {name: unescape(missing) for name, missing in re.findall(r"Lee ([^<]+)</a></td><td>([^<]*)</td>", listed)}
    assert rows == {name: missing for name, missing in MISSING.items() if missing}


def expected(status: str, confirmed: bool, driver: str, away: bool) -> tuple[str, str, bool]:
    """The rule as the clinic states it: (what the schedule shows, what tomorrow's list says is missing, whether the
    patient can't come), for a confirmation and an answer given for the booking's present start or not."""
    if status != DosingSession.Status.SCHEDULED:
        shown = ""
    elif not confirmed:
        shown = "not_confirmed"
    else:
        shown = "confirmed" if driver else "no_driver"
    if away:
        missing = "cannot_attend"
    elif not confirmed:
        missing = "unconfirmed"
    else:
        missing = "" if driver else "no_driver"
    return shown, missing, away


@pytest.mark.parametrize("status", DosingSession.Status.values)
def test_the_rule_over_every_combination_of_answers(status, bookings):
    """The database's reading of each booking (see `sessions.attendance`), for every status, confirmation (none, for
    the present start, for a start since moved; naming a driver or not) and answer that they can't come (none, for
    the present start, for a start since moved)."""
    session = bookings["Unanswered"]
    start, earlier = session.starts_at, session.starts_at - timedelta(days=1)
    DosingSession.objects.filter(pk=session.pk).update(
        status=status, cancelled_by="clinic" if status == DosingSession.Status.CANCELLED else None
    )
    for confirmed_start, driver, cannot_attend_start in product(
        (None, start, earlier), ("Sam", ""), (None, start, earlier)
    ):
        SessionConfirmation.objects.filter(session=session).delete()
        if confirmed_start is not None:
            SessionConfirmation.objects.create(session=session, confirmed_start=confirmed_start, driver_name=driver)
        DosingSession.objects.filter(pk=session.pk).update(cannot_attend_start=cannot_attend_start)
        found = (
            DosingSession.objects.filter(pk=session.pk)
            .annotate(shown=attendance.attendance(), missing=attendance.missing(), away=attendance.cannot_attend())
            .values_list("shown", "missing", "away")
            .get()
        )

        confirmed, away = confirmed_start == start, cannot_attend_start == start
        assert found == expected(status, confirmed, driver, away), (confirmed_start, driver, cannot_attend_start)
        assert attendance.attendance_shown(found[0], driver if confirmed_start else None) == SHOWN_AS[found[0]]


# What a row prints of each state (with the driver "Sam" when one is named).
SHOWN_AS = {
    "": attendance.AttendanceShown("", "", "", "", ""),
    "not_confirmed": attendance.AttendanceShown("Not confirmed", "warning", "", "", ""),
    "confirmed": attendance.AttendanceShown("Confirmed", "success", "Sam", "", ""),
    "no_driver": attendance.AttendanceShown("Confirmed", "success", "", "No driver named", "warning"),
}
