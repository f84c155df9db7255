"""Booking services: planning a series, no double booking, rescheduling, session status and boosters.

These run on SQLite and PostgreSQL alike: the service's own checks refuse a double booking before PostgreSQL's
exclusion constraints would (those are tested on their own in test_booking_races.py). The clock is frozen on
Tue 1 Dec 2026 so the worked dates below stay true; the clinic keeps the seeded hours, Mon-Fri 08:00-18:00.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from patients.models import Patient
from patients.status import Status
from sessions.models import ClinicClosure, DosingSession, Enrollment, Protocol, Room, TreatmentPlan
from sessions.scheduling.boosters import booster_book
from sessions.scheduling.changes import session_cancel, session_check_in, session_no_show, session_reschedule
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import _save_booking, plan_create

pytestmark = pytest.mark.django_db

CLINIC_TZ = ZoneInfo("America/New_York")
MON_7_DEC = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def clinic_clock(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=CLINIC_TZ), tick=False)


@pytest.fixture
def room(db):
    return Room.objects.create(name="Room A")


@pytest.fixture
def room_b(db):
    return Room.objects.create(name="Room B")


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware datetime at this clinic wall-clock time."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def enroll(patient: Patient, clinician) -> Enrollment:
    return enrollment_create(
        patient=patient, by=clinician, override_justification="Screened on paper before the portal went live."
    )


def protocol(route: str = "iv") -> Protocol:
    return Protocol.objects.get(route=route)


def plan_series(patient, clinician, room, *, route="iv", first_day=MON_7_DEC, start_time=time(9), dose=None):
    chosen = protocol(route)
    return plan_create(
        patient=patient,
        protocol=chosen,
        first_day=first_day,
        start_time=start_time,
        room=room,
        clinician=clinician,
        planned_dose=chosen.default_dose if dose is None else dose,
        by=clinician,
    )


def book_one(patient, clinician, room, starts_at: datetime, *, plan: TreatmentPlan | None = None) -> DosingSession:
    """One session booked through the service's own check, outside any series."""
    iv = protocol("iv")
    if plan is None:
        plan = TreatmentPlan.objects.create(
            patient=patient,
            enrollment=patient.enrollments.get(status=Enrollment.Status.ACTIVE),
            protocol=iv,
            planned_dose=iv.default_dose,
            first_day=timezone.localdate(starts_at),
            created_by=clinician,
        )
    sequence = (plan.sessions.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
    session = DosingSession(
        plan=plan,
        patient=patient,
        protocol=iv,
        sequence=sequence,
        phase="induction",
        room=room,
        clinician=clinician,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=iv.session_minutes),
    )
    return _save_booking(session)


def series(plan: TreatmentPlan) -> list[DosingSession]:
    return list(plan.sessions.order_by("sequence"))


def starts(plan: TreatmentPlan) -> list[datetime]:
    return [local(s.starts_at) for s in series(plan)]


def induction_attended(plan: TreatmentPlan) -> TreatmentPlan:
    """Test setup: every induction session still booked marked attended, so the induction series is over."""
    plan.sessions.filter(phase="induction", status=DosingSession.Status.SCHEDULED).update(
        status=DosingSession.Status.COMPLETED
    )
    return plan


# --- plan_create ------------------------------------------------------------------------------------------------


def test_plan_create_refuses_a_patient_without_an_active_enrollment(patient, clinician, room):
    with pytest.raises(ValidationError, match="Enroll the patient before planning treatment"):
        plan_series(patient, clinician, room)

    assert not TreatmentPlan.objects.exists()
    assert not DosingSession.objects.exists()


def test_plan_create_refuses_once_the_enrollment_has_ended(patient, clinician, room):
    enrollment = enroll(patient, clinician)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.ENDED)

    with pytest.raises(ValidationError, match="Enroll the patient"):
        plan_series(patient, clinician, room)


@pytest.mark.parametrize("dose", ["0.05", "1.001", "40"])
def test_plan_create_refuses_a_dose_outside_the_protocol_range(patient, clinician, room, dose):
    enroll(patient, clinician)

    with pytest.raises(ValidationError) as caught:
        plan_series(patient, clinician, room, dose=Decimal(dose))

    assert caught.value.messages == ["The planned dose must be within the protocol's range, 0.100–1.000 mg/kg."]
    assert not TreatmentPlan.objects.exists()


@pytest.mark.parametrize("dose", ["0.1", "1.0"])
def test_plan_create_accepts_the_ends_of_the_dose_range(patient, clinician, room, dose):
    enroll(patient, clinician)

    plan = plan_series(patient, clinician, room, dose=Decimal(dose))

    assert plan.planned_dose == Decimal(dose)


def test_iv_plan_books_six_sessions_mon_wed_fri_from_a_monday(patient, clinician, room):
    enroll(patient, clinician)

    plan = plan_series(patient, clinician, room)

    rows = series(plan)
    assert [local(s.starts_at) for s in rows] == [datetime(2026, 12, day, 9, 0) for day in (7, 9, 11, 14, 16, 18)]
    assert [s.sequence for s in rows] == [1, 2, 3, 4, 5, 6]
    iv = protocol("iv")
    for row in rows:
        assert row.plan == plan
        assert row.protocol == iv
        assert row.patient == patient
        assert (row.room, row.clinician) == (room, clinician)
        assert row.phase == "induction"
        assert row.kind == DosingSession.Kind.SERIES
        assert row.status == DosingSession.Status.SCHEDULED
        assert row.ends_at - row.starts_at == timedelta(minutes=120)
        assert row.dose_window_ends_at - row.starts_at == timedelta(hours=48)
        assert row.planner_notes == []
    assert (plan.protocol, plan.first_day, plan.planned_dose) == (iv, MON_7_DEC, Decimal("0.5"))


def test_iv_plan_without_a_start_time_books_at_opening_time(patient, clinician, room):
    enroll(patient, clinician)

    plan = plan_series(patient, clinician, room, start_time=None)

    assert {moment.time() for moment in starts(plan)} == {time(8, 0)}


def test_a_closure_moves_the_session_and_the_notes_say_why(patient, clinician, room):
    ClinicClosure.objects.create(day=date(2026, 12, 18), reason="Staff training")
    enroll(patient, clinician)

    plan = plan_series(patient, clinician, room)

    rows = series(plan)
    assert [local(s.starts_at) for s in rows][-1] == datetime(2026, 12, 21, 9, 0)
    assert rows[-1].planner_notes == [
        "Moved from Fri 18 Dec: the clinic is closed that day.",
        "Not Sat 19 Dec either: the clinic is closed on Saturdays.",
        "Not Sun 20 Dec either: the clinic is closed on Sundays.",
    ]
    assert all(row.planner_notes == [] for row in rows[:-1])


def test_a_closure_early_in_the_series_pushes_later_sessions_and_each_says_why(patient, clinician, room):
    ClinicClosure.objects.create(day=date(2026, 12, 9))
    enroll(patient, clinician)

    plan = plan_series(patient, clinician, room)

    rows = series(plan)
    assert local(rows[0].starts_at) == datetime(2026, 12, 7, 9, 0)
    assert rows[0].planner_notes == []
    assert rows[1].planner_notes == ["Moved from Wed 9 Dec: the clinic is closed that day."]
    # Mon/Wed/Fri 48 hours apart: a Thursday dose pushes each later one to the next usable day.
    assert [local(s.starts_at) for s in rows] == [datetime(2026, 12, day, 9, 0) for day in (7, 10, 14, 16, 18, 21)]
    assert all(row.planner_notes for row in rows[1:]), [row.planner_notes for row in rows]


def test_spravato_plan_books_twelve_sessions_on_the_label_schedule(patient, clinician, room):
    enroll(patient, clinician)

    plan = plan_series(patient, clinician, room, route="intranasal", start_time=time(10))

    rows = series(plan)
    assert len(rows) == 12
    assert [s.phase for s in rows] == ["induction"] * 8 + ["maintenance"] * 4
    assert plan.planned_dose == Decimal("56")
    # docs/clinical-references.md#spravato: weeks counted from the first dose; twice weekly in weeks 1-4, once weekly in
    # weeks 5-8.
    weeks = [(local(s.starts_at).date() - MON_7_DEC).days // 7 + 1 for s in rows]
    assert weeks == [1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8]
    assert [local(s.starts_at).date() for s in rows] == [
        *(date(2026, 12, day) for day in (7, 10, 14, 17, 21, 24, 28, 31)),
        *(date(2027, 1, day) for day in (4, 11, 18, 25)),
    ]
    assert all(local(s.starts_at).time() == time(10) for s in rows)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=150) for s in rows)
    assert all(later.starts_at - s.starts_at >= timedelta(hours=48) for s, later in zip(rows, rows[1:], strict=False))


def test_only_a_clinician_may_plan(patient, clinician, front_desk, admin_user, room):
    enroll(patient, clinician)
    iv = protocol("iv")

    for user in (front_desk, admin_user, patient.user):
        with pytest.raises(PermissionDenied):
            plan_create(
                patient=patient,
                protocol=iv,
                first_day=MON_7_DEC,
                start_time=time(9),
                room=room,
                clinician=clinician,
                planned_dose=Decimal("0.5"),
                by=user,
            )
    assert not TreatmentPlan.objects.exists()


def test_plan_create_moves_the_patient_from_enrolled_to_induction(patient, clinician, room):
    enroll(patient, clinician)
    patient.refresh_from_db()
    assert patient.status == Status.ENROLLED

    plan_series(patient, clinician, room)

    patient.refresh_from_db()
    assert patient.status == Status.INDUCTION


def test_plan_create_books_nothing_when_one_slot_is_taken(patient, other_patient, clinician, other_clinician, room):
    enroll(patient, clinician)
    enroll(other_patient, other_clinician)
    book_one(other_patient, other_clinician, room, at(date(2026, 12, 11), 10))
    plans_before = TreatmentPlan.objects.count()

    with pytest.raises(ValidationError) as caught:
        plan_series(patient, clinician, room)

    assert caught.value.messages == ["Room A is already booked at Fri 11 Dec 09:00."]
    assert TreatmentPlan.objects.count() == plans_before
    assert not DosingSession.objects.filter(patient=patient).exists()
    patient.refresh_from_db()
    assert patient.status == Status.ENROLLED


def test_a_second_plan_starts_after_the_first_plans_last_dose_window(patient, clinician, room):
    enroll(patient, clinician)
    first = plan_series(patient, clinician, room)

    second = plan_series(patient, clinician, room, first_day=MON_7_DEC)

    last_of_first = series(first)[-1]
    assert series(second)[0].starts_at >= last_of_first.dose_window_ends_at


def test_a_series_starting_today_never_books_a_session_in_the_past(patient, clinician, room):
    enroll(patient, clinician)  # it is Tue 1 Dec, 10:00

    plan = plan_series(patient, clinician, room, route="intranasal", first_day=date(2026, 12, 1), start_time=time(9))

    first = series(plan)[0]
    assert local(first.starts_at) == datetime(2026, 12, 1, 10, 0)
    assert first.planner_notes == ["Starts at 10:00 rather than 09:00: no session may start before Tue 1 Dec 10:00."]
    assert all(s.starts_at >= timezone.now() for s in series(plan))


# --- No double booking --------------------------------------------------------------------------------------------


@pytest.fixture
def booked(patient, other_patient, clinician, other_clinician, room):
    """The patient's IV series in Room A with `clinician`, Mon 7 Dec 09:00 onwards; other_patient is enrolled."""
    enroll(patient, clinician)
    enroll(other_patient, other_clinician)
    return plan_series(patient, clinician, room)


@pytest.mark.parametrize(
    ("who", "where", "message"),
    [
        ("other_patient/other_clinician", "Room A", "Room A is already booked at Mon 07 Dec 10:00."),
        ("other_patient/clinician", "Room B", "The clinician already has a dosing session at Mon 07 Dec 10:00."),
        ("patient/other_clinician", "Room B", "The patient already has a dosing session at Mon 07 Dec 10:00."),
    ],
)
def test_an_overlapping_booking_is_refused_with_the_reason(booked, request, room_b, who, where, message):
    patient_name, clinician_name = who.split("/")
    person = request.getfixturevalue(patient_name)
    staff = request.getfixturevalue(clinician_name)
    place = Room.objects.get(name=where)
    plan = booked if person == booked.patient else None

    with pytest.raises(ValidationError) as caught:
        book_one(person, staff, place, at(MON_7_DEC, 10), plan=plan)

    assert caught.value.messages == [message]
    assert DosingSession.objects.filter(starts_at=at(MON_7_DEC, 10)).count() == 0


def test_a_booking_that_clashes_on_everything_names_each_clash(booked, clinician, room):
    with pytest.raises(ValidationError) as caught:
        book_one(booked.patient, clinician, room, at(MON_7_DEC, 10), plan=booked)

    assert caught.value.messages == [
        "Room A is already booked at Mon 07 Dec 10:00.",
        "The clinician already has a dosing session at Mon 07 Dec 10:00.",
        "The patient already has a dosing session at Mon 07 Dec 10:00.",
    ]


def test_a_booking_may_start_when_the_previous_one_in_the_room_ends(booked, other_patient, other_clinician, room):
    session = book_one(other_patient, other_clinician, room, at(MON_7_DEC, 11))

    assert session.pk is not None


def test_a_booking_may_not_end_after_the_next_one_in_the_room_starts(booked, other_patient, other_clinician, room):
    with pytest.raises(ValidationError, match="Room A is already booked at Mon 07 Dec 07:01"):
        book_one(other_patient, other_clinician, room, at(MON_7_DEC, 7, 1))


def test_two_doses_closer_than_the_minimum_interval_are_refused(booked, other_clinician, room_b):
    with pytest.raises(ValidationError) as caught:
        book_one(booked.patient, other_clinician, room_b, at(date(2026, 12, 8), 9), plan=booked)

    assert caught.value.messages == [
        "The session at Tue 08 Dec 09:00 is less than 48 hours from another dose of this patient."
    ]


def test_a_dose_exactly_the_minimum_interval_after_the_last_one_is_allowed(booked, other_clinician, room_b):
    last = series(booked)[-1]

    session = book_one(booked.patient, other_clinician, room_b, last.starts_at + timedelta(hours=48), plan=booked)

    assert session.dose_window_ends_at == session.starts_at + timedelta(hours=48)


def test_a_cancelled_session_frees_its_slot(booked, other_patient, other_clinician, clinician, room):
    first = series(booked)[0]
    session_cancel(session=first, by=clinician, reason="Patient has a fever", cancelled_by="patient")

    # The same room and clinician, at the same time, for someone else...
    book_one(other_patient, clinician, room, first.starts_at)
    # ...and the patient's own time and dose window are free too.
    room_c = Room.objects.create(name="Room C")
    rebooked = book_one(booked.patient, other_clinician, room_c, first.starts_at, plan=booked)
    assert rebooked.status == DosingSession.Status.SCHEDULED


def test_a_no_show_frees_its_slot(booked, other_patient, clinician, room, time_machine):
    first = series(booked)[0]
    time_machine.move_to(at(MON_7_DEC, 9, 30), tick=False)
    session_no_show(session=first, by=clinician)

    session = book_one(other_patient, clinician, room, first.starts_at)

    assert session.room == room and session.clinician == clinician


# --- session_reschedule ------------------------------------------------------------------------------------------


def test_moving_session_two_later_moves_later_sessions_only_as_far_as_needed(booked, clinician):
    rows = series(booked)

    changed = session_reschedule(session=rows[1], new_start=at(date(2026, 12, 9), 11), by=clinician)

    assert sorted(s.sequence for s in changed) == [2, 3]
    assert starts(booked) == [
        datetime(2026, 12, 7, 9, 0),  # before the moved session: never touched
        datetime(2026, 12, 9, 11, 0),  # the moved session
        datetime(2026, 12, 11, 11, 0),  # exactly 48 hours after it, no further
        datetime(2026, 12, 14, 9, 0),  # already far enough: stays
        datetime(2026, 12, 16, 9, 0),
        datetime(2026, 12, 18, 9, 0),
    ]
    after = series(booked)
    assert [s.calendar_sequence for s in after] == [0, 1, 1, 0, 0, 0]
    assert all(s.status == DosingSession.Status.SCHEDULED for s in after)
    assert after[1].planner_notes == ["Rescheduled from Wed 9 Dec 09:00."]
    assert after[2].planner_notes == [
        "Moved from Fri 11 Dec 09:00 to 11:00: doses must be at least 48 hours apart and the previous one starts "
        "Wed 9 Dec 11:00."
    ]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=120) for s in after)
    assert all(s.dose_window_ends_at - s.starts_at == timedelta(hours=48) for s in after)


def test_calendar_sequence_counts_every_move_of_a_row(booked, clinician):
    second = series(booked)[1]

    session_reschedule(session=second, new_start=at(date(2026, 12, 9), 11), by=clinician)
    session_reschedule(session=second, new_start=at(date(2026, 12, 9), 12), by=clinician)

    assert [s.calendar_sequence for s in series(booked)] == [0, 2, 2, 0, 0, 0]
    assert starts(booked)[2] == datetime(2026, 12, 11, 12, 0)


def test_moving_a_session_a_day_later_pushes_the_rest_of_the_series(booked, clinician):
    rows = series(booked)

    session_reschedule(session=rows[1], new_start=at(date(2026, 12, 10), 9), by=clinician)

    after = series(booked)
    assert local(after[0].starts_at) == datetime(2026, 12, 7, 9, 0)
    assert after[0].calendar_sequence == 0
    assert local(after[1].starts_at) == datetime(2026, 12, 10, 9, 0)
    for before, row in zip(after, after[1:], strict=False):
        assert row.starts_at - before.starts_at >= timedelta(hours=48)
        assert local(row.starts_at).weekday() < 5
        assert row.starts_at >= next(r.starts_at for r in rows if r.pk == row.pk)  # never earlier


def test_moving_a_session_past_later_ones_moves_each_of_them_after_it(booked, clinician):
    rows = series(booked)

    changed = session_reschedule(session=rows[1], new_start=at(date(2026, 12, 18), 9), by=clinician)

    assert sorted(s.sequence for s in changed) == [2, 3, 4, 5, 6]
    assert starts(booked) == [
        datetime(2026, 12, 7, 9, 0),
        datetime(2026, 12, 18, 9, 0),  # onto session 6's old slot
        datetime(2026, 12, 21, 8, 0),
        datetime(2026, 12, 23, 8, 0),
        datetime(2026, 12, 25, 8, 0),
        datetime(2026, 12, 28, 8, 0),
    ]
    assert [s.calendar_sequence for s in series(booked)] == [0, 1, 1, 1, 1, 1]


def test_a_session_cannot_be_moved_to_a_time_that_has_passed(booked, clinician):
    first = series(booked)[0]  # it is Tue 1 Dec, 10:00

    with pytest.raises(ValidationError) as caught:
        session_reschedule(session=first, new_start=at(date(2026, 12, 1), 9), by=clinician)

    assert caught.value.messages == ["Can't move session 1 to Tue 1 Dec 09:00: that time has already passed."]
    first.refresh_from_db()
    assert local(first.starts_at) == datetime(2026, 12, 7, 9, 0)


def test_a_move_is_audited_as_a_move_not_as_a_cancellation(booked, clinician):
    second = series(booked)[1]

    session_reschedule(session=second, new_start=at(date(2026, 12, 9), 11), by=clinician)

    entry = LogEntry.objects.get_for_object(second).filter(action=LogEntry.Action.UPDATE).get()
    assert "status" not in entry.changes_dict
    assert entry.changes_dict["starts_at"] == ["2026-12-09 14:00:00", "2026-12-09 16:00:00"]


@pytest.mark.parametrize(
    ("new_start", "reason"),
    [
        (datetime(2026, 12, 10, 9, 0), "Can't move session 2 to Thu 10 Dec 09:00: the clinic is closed that day."),
        (datetime(2026, 12, 12, 9, 0), "Can't move session 2 to Sat 12 Dec 09:00: the clinic is closed on Saturdays."),
        (
            datetime(2026, 12, 8, 10, 0),
            "Can't move session 2 to Tue 8 Dec 10:00: it is only 25 hours after the previous session "
            "(Mon 7 Dec 09:00); doses must be at least 48 hours apart.",
        ),
        (
            datetime(2026, 12, 9, 17, 0),
            "Can't move session 2 to Wed 9 Dec 17:00: it would end at 19:00 and the clinic closes at 18:00.",
        ),
    ],
)
def test_a_move_to_an_unusable_time_is_refused_with_the_reason(booked, clinician, new_start, reason):
    ClinicClosure.objects.create(day=date(2026, 12, 10), reason="Flooded")
    before = [(s.starts_at, s.calendar_sequence) for s in series(booked)]

    with pytest.raises(ValidationError) as caught:
        session_reschedule(session=series(booked)[1], new_start=timezone.make_aware(new_start), by=clinician)

    assert caught.value.messages == [reason]
    assert [(s.starts_at, s.calendar_sequence) for s in series(booked)] == before


def test_a_move_into_a_room_another_patient_holds_is_refused_and_nothing_moves(
    booked, other_patient, other_clinician, clinician, room
):
    book_one(other_patient, other_clinician, room, at(date(2026, 12, 9), 13))
    before = [(s.starts_at, s.status, s.calendar_sequence) for s in series(booked)]

    with pytest.raises(ValidationError, match="Room A is already booked at Wed 09 Dec 12:00"):
        session_reschedule(session=series(booked)[1], new_start=at(date(2026, 12, 9), 12), by=clinician)

    assert [(s.starts_at, s.status, s.calendar_sequence) for s in series(booked)] == before


@pytest.mark.parametrize("status", ["checked_in", "completed", "cancelled", "no_show"])
def test_only_a_scheduled_session_can_be_moved(booked, clinician, status):
    second = series(booked)[1]
    DosingSession.objects.filter(pk=second.pk).update(
        status=status, cancelled_by="clinic" if status == "cancelled" else None
    )

    with pytest.raises(ValidationError, match="Only a scheduled session can be moved"):
        session_reschedule(session=second, new_start=at(date(2026, 12, 9), 11), by=clinician)


def test_a_cancelled_later_session_stays_where_it_was(booked, clinician):
    rows = series(booked)
    session_cancel(session=rows[2], by=clinician, reason="Travelling", cancelled_by="patient")

    changed = session_reschedule(session=rows[1], new_start=at(date(2026, 12, 11), 9), by=clinician)

    assert [s.sequence for s in changed] == [2]
    third = DosingSession.objects.get(pk=rows[2].pk)
    assert third.status == DosingSession.Status.CANCELLED
    assert third.starts_at == rows[2].starts_at
    assert third.calendar_sequence == 1  # the cancellation, not the move


def test_a_patient_may_not_reschedule(booked):
    with pytest.raises(PermissionDenied):
        session_reschedule(session=series(booked)[1], new_start=at(date(2026, 12, 9), 11), by=booked.patient.user)


# --- Status changes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_requires_a_reason(booked, clinician, reason):
    first = series(booked)[0]

    with pytest.raises(ValidationError, match="Give a reason for the cancellation"):
        session_cancel(session=first, by=clinician, reason=reason, cancelled_by="clinic")

    first.refresh_from_db()
    assert first.status == DosingSession.Status.SCHEDULED


def test_cancel_keeps_the_reason_and_bumps_the_calendar_sequence(booked, front_desk):
    first = series(booked)[0]

    session_cancel(session=first, by=front_desk, reason="  Patient has a fever  ", cancelled_by="patient")

    first.refresh_from_db()
    assert first.status == DosingSession.Status.CANCELLED
    assert first.status_reason == "Patient has a fever"
    assert first.calendar_sequence == 1


def test_a_cancelled_session_cannot_be_cancelled_again(booked, clinician):
    first = series(booked)[0]
    session_cancel(session=first, by=clinician, reason="Fever", cancelled_by="clinic")

    with pytest.raises(ValidationError, match="A cancelled session cannot be changed that way"):
        session_cancel(session=first, by=clinician, reason="Fever again", cancelled_by="clinic")


def test_check_in_marks_a_scheduled_session_once(booked, front_desk, time_machine):
    first = series(booked)[0]
    time_machine.move_to(at(MON_7_DEC, 8, 50), tick=False)  # the session's day

    session_check_in(session=first, by=front_desk)

    first.refresh_from_db()
    assert first.status == DosingSession.Status.CHECKED_IN
    assert first.calendar_sequence == 1
    with pytest.raises(ValidationError, match="A checked in session cannot be changed that way"):
        session_check_in(session=first, by=front_desk)


def test_a_patient_cannot_change_a_session_status(booked):
    first = series(booked)[0]
    for change in (session_check_in, session_no_show):
        with pytest.raises(PermissionDenied):
            change(session=first, by=booked.patient.user)
    with pytest.raises(PermissionDenied):
        session_cancel(session=first, by=booked.patient.user, reason="Can't make it", cancelled_by="patient")


def test_no_show_is_refused_before_the_session_starts(booked, clinician, time_machine):
    first = series(booked)[0]
    time_machine.move_to(at(MON_7_DEC, 8, 59), tick=False)

    with pytest.raises(ValidationError, match="cannot be marked as a no-show before it starts"):
        session_no_show(session=first, by=clinician)

    first.refresh_from_db()
    assert first.status == DosingSession.Status.SCHEDULED


def test_no_show_is_allowed_once_the_session_has_started(booked, clinician, time_machine):
    first = series(booked)[0]
    time_machine.move_to(at(MON_7_DEC, 9, 1), tick=False)

    session_no_show(session=first, by=clinician)

    first.refresh_from_db()
    assert first.status == DosingSession.Status.NO_SHOW
    assert first.status_reason == "No-show"


# --- booster_book ---------------------------------------------------------------------------------------------------


def test_booster_is_booked_once_at_the_protocols_interval_after_the_last_dose(booked, clinician, room):
    induction_attended(booked)
    last = series(booked)[-1]  # Fri 18 Dec 09:00

    booster = booster_book(plan=booked, by=clinician)

    assert DosingSession.objects.filter(plan=booked).count() == 7
    assert booster.kind == DosingSession.Kind.BOOSTER
    assert (booster.sequence, booster.phase) == (7, "booster")
    assert (booster.room, booster.clinician, booster.protocol) == (room, clinician, booked.protocol)
    # Seeded IV protocol: booster_interval_days = 28 (docs/clinical-references.md#cadence, boosters every 3-6 weeks).
    assert local(booster.starts_at).date() == local(last.starts_at).date() + timedelta(days=28)
    assert local(booster.starts_at) == datetime(2027, 1, 15, 8, 0)
    assert booster.ends_at - booster.starts_at == timedelta(minutes=120)


def test_booster_skips_a_closure_and_says_why(booked, clinician):
    induction_attended(booked)
    ClinicClosure.objects.create(day=date(2027, 1, 15))

    booster = booster_book(plan=booked, by=clinician)

    assert local(booster.starts_at) == datetime(2027, 1, 18, 8, 0)
    assert booster.planner_notes[0] == "Moved from Fri 15 Jan: the clinic is closed that day."


def test_booster_counts_from_the_last_dose_not_a_cancelled_one(booked, clinician):
    rows = series(booked)
    session_cancel(session=rows[-1], by=clinician, reason="Travelling", cancelled_by="patient")
    induction_attended(booked)

    booster = booster_book(plan=booked, by=clinician)

    assert local(booster.starts_at).date() == date(2026, 12, 16) + timedelta(days=28)
    assert booster.sequence == 7


def test_an_overdue_booster_is_booked_from_tomorrow_not_in_the_past(booked, clinician, time_machine):
    induction_attended(booked)
    time_machine.move_to(at(date(2027, 6, 1), 10), tick=False)  # months after the last dose, Fri 18 Dec

    booster = booster_book(plan=booked, by=clinician)

    assert local(booster.starts_at) == datetime(2027, 6, 2, 8, 0)
    assert booster.planner_notes == ["Moved from Fri 15 Jan: that day has passed; booked from the next usable day."]


def test_booster_needs_a_dose_to_count_from(booked, clinician):
    DosingSession.objects.filter(plan=booked).update(status=DosingSession.Status.CANCELLED, cancelled_by="clinic")

    with pytest.raises(ValidationError, match="no dose to time a booster from"):
        booster_book(plan=booked, by=clinician)


def test_a_booster_is_refused_while_the_induction_is_under_way(booked, clinician):
    with pytest.raises(ValidationError) as refused:
        booster_book(plan=booked, by=clinician)

    assert refused.value.messages == [
        "No booster during induction: 6 induction sessions are still ahead. "
        "Book a booster once the induction series is over."
    ]
    rows = series(booked)
    DosingSession.objects.filter(pk__in=[s.pk for s in rows[:-1]]).update(status=DosingSession.Status.COMPLETED)
    with pytest.raises(ValidationError, match="1 induction session is still ahead"):
        booster_book(plan=booked, by=clinician)
    assert not DosingSession.objects.filter(plan=booked, kind=DosingSession.Kind.BOOSTER).exists()

    DosingSession.objects.filter(pk=rows[-1].pk).update(status=DosingSession.Status.COMPLETED)
    assert booster_book(plan=booked, by=clinician).kind == DosingSession.Kind.BOOSTER


def test_only_a_clinician_may_book_a_booster(booked, front_desk):
    with pytest.raises(PermissionDenied):
        booster_book(plan=booked, by=front_desk)


# --- Daylight saving ---------------------------------------------------------------------------------------------


def test_a_series_across_the_dst_change_keeps_its_local_start_time(patient, clinician, room, time_machine):
    time_machine.move_to(datetime(2026, 10, 20, 10, 0, tzinfo=CLINIC_TZ), tick=False)
    enroll(patient, clinician)

    # US daylight saving ends on Sun 1 Nov 2026: 09:00 is 13:00 UTC before it and 14:00 UTC after.
    plan = plan_series(patient, clinician, room, first_day=date(2026, 10, 26), start_time=time(9))

    rows = series(plan)
    assert [local(s.starts_at) for s in rows] == [
        datetime(2026, 10, 26, 9, 0),
        datetime(2026, 10, 28, 9, 0),
        datetime(2026, 10, 30, 9, 0),
        datetime(2026, 11, 2, 9, 0),
        datetime(2026, 11, 4, 9, 0),
        datetime(2026, 11, 6, 9, 0),
    ]
    utc_hours = [s.starts_at.astimezone(ZoneInfo("UTC")).hour for s in rows]
    assert utc_hours == [13, 13, 13, 14, 14, 14]
    assert all(local(s.ends_at).time() == time(11) for s in rows)
    # The Fri -> Mon gap spans the extra hour: 73 elapsed hours, still well above the minimum interval.
    assert rows[3].starts_at - rows[2].starts_at == timedelta(hours=73)


def test_a_reschedule_across_the_dst_change_keeps_wall_clock_times(patient, clinician, room, time_machine):
    time_machine.move_to(datetime(2026, 10, 20, 10, 0, tzinfo=CLINIC_TZ), tick=False)
    enroll(patient, clinician)
    plan = plan_series(patient, clinician, room, first_day=date(2026, 10, 26), start_time=time(9))
    third = series(plan)[2]

    session_reschedule(session=third, new_start=at(date(2026, 10, 30), 11), by=clinician)

    assert [local(s.starts_at) for s in series(plan)][2:4] == [
        datetime(2026, 10, 30, 11, 0),
        datetime(2026, 11, 2, 9, 0),
    ]


def test_a_booster_interval_of_0_days_is_refused_not_replaced(booked, clinician):
    """Issue item 18: an interval of 0 was silently replaced by the protocol's or 28 days; now it is refused."""
    induction_attended(booked)
    with pytest.raises(ValidationError, match="booster interval of 0 days is not allowed"):
        booster_book(plan=booked, by=clinician, interval_days=0)
    Protocol.objects.filter(pk=booked.protocol_id).update(booster_interval_days=0)
    booked.protocol.refresh_from_db()
    with pytest.raises(ValidationError, match="Correct the protocol's booster interval"):
        booster_book(plan=booked, by=clinician)
    assert not DosingSession.objects.filter(plan=booked, kind=DosingSession.Kind.BOOSTER).exists()


def test_a_protocol_booster_interval_of_0_is_refused_in_the_admin_form(booked):
    protocol = booked.protocol
    protocol.booster_interval_days = 0
    with pytest.raises(ValidationError) as refused:
        protocol.full_clean()
    assert "booster_interval_days" in refused.value.message_dict


def test_a_protocol_without_a_booster_interval_books_28_days_and_says_so(booked, clinician):
    induction_attended(booked)
    Protocol.objects.filter(pk=booked.protocol_id).update(booster_interval_days=None)
    booked.protocol.refresh_from_db()

    booster = booster_book(plan=booked, by=clinician)

    assert booster.planner_notes[0] == "The protocol sets no booster interval: booked 28 days after the last dose."
