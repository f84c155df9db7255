"""Whether a booked patient has said they will come, and how the clinic's pages say it: the one place for both.

The rule is read by the database, as expressions over a booking and its confirmation, and every page reads its
result: the schedule and the homes' list of today's sessions (`attendance`, beside each scheduled booking) and the
front desk's list of tomorrow's gaps (`missing`, which picks its rows out in the query so it can be bounded).

- A scheduled booking is confirmed only for the start the patient confirmed: a moved session needs confirming again.
- A confirmed patient names the adult who drives them home; a confirmation naming nobody is shown as such.
- A patient who answered the reminder that they can't come did so for the start they were asked about: the front
  desk calls them to rebook, and a moved session asks again. The later answer stands: confirming withdraws "can't
  come", and "can't come" withdraws a confirmation.

What the pages print of each state (words and badge colours) is here too, so a row carries it worked out and the
templates only print it.
"""

from typing import NamedTuple

from django.db.models import BooleanField, Case, CharField, F, Q, Value, When

from .models import DosingSession

SCHEDULED = Q(status=DosingSession.Status.SCHEDULED)
CONFIRMED = Q(confirmation__confirmed_start=F("starts_at"))
NO_DRIVER = Q(confirmation__driver_name="")
CANNOT_ATTEND = Q(cannot_attend_start=F("starts_at"))


def attendance() -> Case:
    """A booking's attendance as the schedule shows it: "confirmed" (with a driver named), "no_driver" (confirmed,
    naming nobody) or "not_confirmed" for a scheduled booking; "" for any other."""
    return Case(
        When(~SCHEDULED, then=Value("")),
        When(CONFIRMED & NO_DRIVER, then=Value("no_driver")),
        When(CONFIRMED, then=Value("confirmed")),
        default=Value("not_confirmed"),
        output_field=CharField(),
    )


def missing() -> Case:
    """What is missing before a scheduled booking, for the front desk's list of tomorrow: "cannot_attend" (the
    patient said so), "no_driver", "unconfirmed" or "" (nothing: confirmed with a driver). A key of MISSING. The
    patient's later answer withdraws the earlier one (`sessions.confirmation`), so "can't come" and a confirmation
    never stand together."""
    return Case(
        When(CANNOT_ATTEND, then=Value("cannot_attend")),
        When(CONFIRMED & NO_DRIVER, then=Value("no_driver")),
        When(CONFIRMED, then=Value("")),
        default=Value("unconfirmed"),
        output_field=CharField(),
    )


def cannot_attend() -> Case:
    """Whether the patient answered that they can't come to the booking at its present start."""
    return Case(When(CANNOT_ATTEND, then=Value(True)), default=Value(False), output_field=BooleanField())


# ---- What the pages print ------------------------------------------------------------------------

CONFIRMED_WORDS = "Confirmed"
NOT_CONFIRMED_WORDS = "Not confirmed"
NO_DRIVER_WORDS = "No driver named"

# What the front desk reads of a booking of tomorrow, by what is missing (see `missing`).
MISSING = {
    "cannot_attend": "Patient can't attend: call them to rebook",
    "unconfirmed": f"{NOT_CONFIRMED_WORDS}; no driver named",
    "no_driver": NO_DRIVER_WORDS,
}


class AttendanceShown(NamedTuple):
    """What a row prints of its patient's attendance: a badge (`words`, in the colour `badge`), the driver's name
    (`driver`), or a second badge (`no_driver`, in the colour `no_driver_badge`) when a confirmed patient named no
    driver. Empty strings print nothing."""

    words: str
    badge: str
    driver: str
    no_driver: str
    no_driver_badge: str


NOT_SHOWN = AttendanceShown("", "", "", "", "")
NOT_CONFIRMED_SHOWN = AttendanceShown(NOT_CONFIRMED_WORDS, "warning", "", "", "")
NO_DRIVER_SHOWN = AttendanceShown(CONFIRMED_WORDS, "success", "", NO_DRIVER_WORDS, "warning")


def attendance_shown(state: str, driver_name: str | None) -> AttendanceShown:
    """What a row prints of the `attendance` the database worked out, and the driver the patient named."""
    if state == "confirmed":
        return AttendanceShown(CONFIRMED_WORDS, "success", driver_name or "", "", "")
    if state == "no_driver":
        return NO_DRIVER_SHOWN
    if state == "not_confirmed":
        return NOT_CONFIRMED_SHOWN
    return NOT_SHOWN
