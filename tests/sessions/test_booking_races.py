"""No double booking when the service's check is bypassed or raced: PostgreSQL's exclusion constraints (migration 0003).

Skipped on SQLite, which has no exclusion constraints (failed instead when KAP_REQUIRE_SERVICES=1, as in CI, which
runs on PostgreSQL). The race tests book from two threads, each on its own database connection, with committed data
(`transaction=True`), and force the interleaving the constraints exist for: the second booking starts before the
first commits. Bookings of one clinician or one patient also queue on those rows' locks (taken by dosing and
integration bookings alike), so there the second is refused by the check once the first commits.
"""

import threading
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kap_clinic.kernel.reference_data import seed_reference_data
from sessions.models import DosingSession, Enrollment, Protocol, Room, TreatmentPlan
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import _save_booking, plan_create
from tests.conftest import skip_or_fail
from tests.races import WAIT_SECONDS, OnItsOwnConnection, wait_until_blocked_on_a_lock

RACE_LOST = "That time was just taken by another booking. Choose another time."


@pytest.fixture(autouse=True)
def postgresql(db):
    if connection.vendor != "postgresql":
        skip_or_fail(f"The booking exclusion constraints exist only on PostgreSQL, not {connection.vendor}")


def next_monday(weeks_ahead: int = 2) -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 * weeks_ahead - today.weekday())


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def iv() -> Protocol:
    return Protocol.objects.get(route="iv")


def enrolled_plan(patient, clinician) -> TreatmentPlan:
    """An enrolled patient's plan with no sessions yet, for rows booked by hand."""
    enrollment = enrollment_create(
        patient=patient, by=clinician, override_justification="Screened on paper before the portal went live."
    )
    return TreatmentPlan.objects.create(
        patient=patient,
        enrollment=enrollment,
        protocol=iv(),
        planned_dose=Decimal("0.5"),
        first_day=next_monday(),
        created_by=clinician,
    )


def session(plan, *, room, clinician, starts_at, sequence=1, minutes=120, window=timedelta(hours=48), status=None):
    return DosingSession(
        plan=plan,
        patient=plan.patient,
        protocol=plan.protocol,
        sequence=sequence,
        phase="induction",
        room=room,
        clinician=clinician,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        dose_window_ends_at=starts_at + window,
        status=status or DosingSession.Status.SCHEDULED,
        cancelled_by="clinic" if status == DosingSession.Status.CANCELLED else None,
    )


@pytest.fixture
def rooms(db):
    return Room.objects.create(name="Room A"), Room.objects.create(name="Room B")


@pytest.fixture
def plans(patient, other_patient, clinician, other_clinician):
    return enrolled_plan(patient, clinician), enrolled_plan(other_patient, other_clinician)


# --- Rows inserted with the ORM, past the service's check --------------------------------------------------------


def insert_refused(row: DosingSession) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        row.save()
    return str(caught.value)


def test_the_database_refuses_two_sessions_in_one_room_at_once(plans, rooms, clinician, other_clinician):
    mine, theirs = plans
    room, _ = rooms
    monday = next_monday()
    session(mine, room=room, clinician=clinician, starts_at=at(monday, 9)).save()

    error = insert_refused(session(theirs, room=room, clinician=other_clinician, starts_at=at(monday, 10, 59)))

    assert "session_room_no_overlap" in error


def test_the_database_refuses_one_clinician_in_two_rooms_at_once(plans, rooms, clinician):
    mine, theirs = plans
    room_a, room_b = rooms
    monday = next_monday()
    session(mine, room=room_a, clinician=clinician, starts_at=at(monday, 9)).save()

    error = insert_refused(session(theirs, room=room_b, clinician=clinician, starts_at=at(monday, 8)))

    assert "session_clinician_no_overlap" in error


def test_the_database_refuses_one_patient_in_two_sessions_at_once(plans, rooms, clinician, other_clinician):
    mine, _ = plans
    room_a, room_b = rooms
    monday = next_monday()
    # Dose windows of a minute, so that only the time overlap (not the minimum interval) is in question.
    tiny = timedelta(minutes=1)
    session(mine, room=room_a, clinician=clinician, starts_at=at(monday, 9), window=tiny).save()

    error = insert_refused(
        session(mine, room=room_b, clinician=other_clinician, starts_at=at(monday, 10), sequence=2, window=tiny)
    )

    assert "session_patient_no_overlap" in error


def test_the_database_refuses_two_doses_within_the_minimum_interval(plans, rooms, clinician, other_clinician):
    mine, _ = plans
    room_a, room_b = rooms
    monday = next_monday()
    session(mine, room=room_a, clinician=clinician, starts_at=at(monday, 9)).save()

    error = insert_refused(
        session(mine, room=room_b, clinician=other_clinician, starts_at=at(monday + timedelta(days=1), 9), sequence=2)
    )

    assert "session_patient_min_interval" in error


def test_the_database_accepts_bookings_that_only_touch(plans, rooms, clinician):
    mine, theirs = plans
    room, _ = rooms
    monday = next_monday()
    session(mine, room=room, clinician=clinician, starts_at=at(monday, 9)).save()

    # Same room and clinician from the minute the first ends; the patient's next dose exactly 48 hours on.
    session(theirs, room=room, clinician=clinician, starts_at=at(monday, 11)).save()
    session(mine, room=room, clinician=clinician, starts_at=at(monday + timedelta(days=2), 9), sequence=2).save()

    assert DosingSession.objects.count() == 3


@pytest.mark.parametrize("status", [DosingSession.Status.CANCELLED, DosingSession.Status.NO_SHOW])
def test_a_cancelled_or_missed_session_holds_nothing_in_the_database(plans, rooms, clinician, other_clinician, status):
    mine, theirs = plans
    room_a, room_b = rooms
    monday = next_monday()
    session(mine, room=room_a, clinician=clinician, starts_at=at(monday, 9), status=status).save()

    # Its room and clinician go to someone else, and its patient is dosed elsewhere, all at the same time.
    session(theirs, room=room_a, clinician=clinician, starts_at=at(monday, 9)).save()
    session(mine, room=room_b, clinician=other_clinician, starts_at=at(monday, 9), sequence=2).save()

    assert DosingSession.objects.filter(starts_at=at(monday, 9)).count() == 3


@pytest.mark.parametrize("active", [DosingSession.Status.SCHEDULED, DosingSession.Status.CHECKED_IN])
def test_reactivating_a_session_whose_slot_was_taken_is_refused(plans, rooms, clinician, other_clinician, active):
    mine, theirs = plans
    room, _ = rooms
    monday = next_monday()
    cancelled = session(mine, room=room, clinician=clinician, starts_at=at(monday, 9), status="cancelled")
    cancelled.save()
    session(theirs, room=room, clinician=other_clinician, starts_at=at(monday, 9)).save()

    with pytest.raises(IntegrityError, match="session_room_no_overlap"), transaction.atomic():
        DosingSession.objects.filter(pk=cancelled.pk).update(status=active, cancelled_by=None)


# --- Two bookings at once, each on its own connection ------------------------------------------------------------


@pytest.fixture
def seeded(transactional_db):
    """The protocols and clinic hours every clinic starts with: an earlier transactional test's flush removed them."""
    seed_reference_data()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("second", "constraint", "lost"),
    [
        # Rooms rely on the exclusion constraint alone: the second booking passes the check and its insert is refused.
        pytest.param(
            {"plan": 1, "room": 0, "clinician": 1, "offset": timedelta(minutes=30)}, "room", RACE_LOST, id="same-room"
        ),
        # Bookings of one clinician or one patient also queue on their row locks (shared with integration sessions):
        # the second waits, then its check sees the first booking and says why.
        pytest.param(
            {"plan": 1, "room": 1, "clinician": 0, "offset": timedelta(minutes=30)},
            "clinician",
            "The clinician already has a dosing session at {when}.",
            id="same-clinician",
        ),
        pytest.param(
            {"plan": 0, "room": 1, "clinician": 1, "offset": timedelta(hours=24)},
            "dose window",
            "The session at {when} is less than 48 hours from another dose of this patient.",
            id="same-patient",
        ),
    ],
)
def test_of_two_bookings_passing_the_check_at_once_exactly_one_wins(
    seeded, plans, rooms, clinician, other_clinician, second, constraint, lost
):
    staff = (clinician, other_clinician)
    start = at(next_monday(), 9)
    first_row = session(plans[0], room=rooms[0], clinician=clinician, starts_at=start)
    second_row = session(
        plans[second["plan"]],
        room=rooms[second["room"]],
        clinician=staff[second["clinician"]],
        starts_at=start + second["offset"],
        sequence=2,
    )
    first_booked, let_first_commit = threading.Event(), threading.Event()

    def book_first():
        with transaction.atomic():
            _save_booking(first_row)
            first_booked.set()
            # Hold the transaction open until the second booking has passed its check and is stuck inserting.
            assert let_first_commit.wait(WAIT_SECONDS)

    def book_second():
        assert first_booked.wait(WAIT_SECONDS)
        with transaction.atomic():
            return _save_booking(second_row)  # its check can't see the first booking: not committed yet

    first, later = OnItsOwnConnection(book_first), OnItsOwnConnection(book_second)
    first.start()
    later.start()
    try:
        later.started_work.wait(WAIT_SECONDS)
        assert first_booked.wait(WAIT_SECONDS), f"the first booking failed: {first.error!r}"
        wait_until_blocked_on_a_lock(
            later.backend_pid,
            failure="The second booking never waited on the first: the exclusion constraint did not hold it",
        )
    finally:
        let_first_commit.set()
        first.finish()
        later.finish()

    assert first.error is None, f"{constraint}: the first booking should have won, got {first.error!r}"
    assert isinstance(later.error, ValidationError), f"{constraint}: expected a ValidationError, got {later.error!r}"
    when = timezone.localtime(second_row.starts_at).strftime("%a %d %b %H:%M")
    assert later.error.messages == [lost.format(when=when)]
    assert list(DosingSession.objects.values_list("pk", flat=True)) == [first_row.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shared", ["room", "clinician"])
def test_two_clinicians_planning_at_once_never_share_a_slot(
    seeded, patient, other_patient, clinician, other_clinician, rooms, shared
):
    for person, staff in ((patient, clinician), (other_patient, other_clinician)):
        enrollment_create(
            patient=person, by=staff, override_justification="Screened on paper before the portal went live."
        )
    protocol = iv()
    first_day = next_monday()
    # Both series are planned by `clinician`; they share either the room or the treating clinician.
    setups = [
        {"patient": patient, "room": rooms[0], "clinician": clinician},
        {
            "patient": other_patient,
            "room": rooms[0] if shared == "room" else rooms[1],
            "clinician": clinician if shared == "clinician" else other_clinician,
        },
    ]
    go = threading.Barrier(2, timeout=WAIT_SECONDS)

    def planner(setup):
        def work():
            go.wait()
            return plan_create(
                protocol=protocol,
                first_day=first_day,
                start_time=time(9),
                planned_dose=Decimal("0.5"),
                by=clinician,
                **setup,
            )

        return work

    bookers = [OnItsOwnConnection(planner(setup)) for setup in setups]
    for booker in bookers:
        booker.start()
    for booker in bookers:
        booker.finish()

    winners = [b for b in bookers if b.error is None]
    losers = [b for b in bookers if b.error is not None]
    assert len(winners) == 1 and len(losers) == 1, [b.error for b in bookers]
    assert isinstance(losers[0].error, ValidationError), repr(losers[0].error)
    assert all("already" in message or message == RACE_LOST for message in losers[0].error.messages), losers[
        0
    ].error.messages
    plan = winners[0].result
    assert TreatmentPlan.objects.get() == plan
    assert DosingSession.objects.filter(plan=plan).count() == 6
    assert DosingSession.objects.count() == 6
    loser_patient = next(s["patient"] for s, b in zip(setups, bookers, strict=True) if b in losers)
    assert Enrollment.objects.get(patient=loser_patient).plans.count() == 0
    loser_patient.refresh_from_db()
    assert loser_patient.status == "enrolled"
