"""Spravato label rules in the booking and the dose step: dose per session, label weeks, maintenance frequency, and
the minimum interval as real elapsed time across daylight-saving changes."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kap_clinic.rules.spravato import series_dose_problems
from sessions.models import ClinicClosure, ClinicHours, DoseAdministration, DosingSession, Protocol, Room
from sessions.record.discharge import discharge_record
from sessions.scheduling.boosters import booster_book
from sessions.scheduling.changes import session_cancel, session_reschedule
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import _save_booking, plan_create

from .record_helpers import ALL_MET, REASON, book_session, check, dose, monitored

pytestmark = pytest.mark.django_db

CLINIC_TZ = ZoneInfo("America/New_York")
D = Decimal


def spravato() -> Protocol:
    return Protocol.objects.get(route="intranasal")


def plan(patient, clinician, *, first_day, enroll=True, **kwargs):
    if enroll:
        enrollment_create(patient=patient, by=clinician, override_justification="Label tests: gate overridden here.")
    return plan_create(
        patient=patient,
        protocol=kwargs.pop("protocol", None) or spravato(),
        first_day=first_day,
        start_time=kwargs.pop("start_time", None),
        room=Room.objects.get_or_create(name="Chair 1")[0],
        clinician=clinician,
        by=clinician,
        **{"planned_dose": D("56"), **kwargs},
    )


@pytest.fixture(autouse=True)
def clinic_clock(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2026, 12, 1, 7, 0, tzinfo=CLINIC_TZ), tick=False)


# ---- Dose per session (issue item 9) ------------------------------------------------------------


def test_series_dose_rules_worked_examples():
    """Spravato label (docs/clinical-references.md#spravato, #clinical-review; spravatohcp.com dosing): day 1 is 56 mg;
    then 56 or 84 mg in whole 28 mg devices; 84 mg only after an initial 56 mg dose."""
    assert series_dose_problems([D("56"), D("84"), D("84"), D("56")]) == []
    assert series_dose_problems([D("84"), D("84")]) == [
        "Session 1: the first session of a series is 56 mg, not 84 mg.",
        "Session 2: 84 mg comes only after a 56 mg session.",
    ]
    assert series_dose_problems([D("56"), D("70"), D("28")]) == [
        "Session 2: 70 mg is not a whole number of 28 mg devices.",
        "Session 3: 28 mg is not a label dose (56 or 84 mg).",
    ]


def test_a_spravato_plan_carries_a_dose_per_session(patient, clinician):
    """Spravato label (docs/clinical-references.md#spravato): 56 mg on day 1, then 56 or 84 mg; the plan stores each
    session's dose."""
    booked = plan(patient, clinician, first_day=date(2026, 12, 7), first_dose=D("56"), planned_dose=D("84"))

    doses = list(booked.sessions.order_by("sequence").values_list("planned_dose", flat=True))
    assert doses[0] == D("56") and set(doses[1:]) == {D("84")}
    assert booked.dose_override_reason == "" and booked.dose_override_by is None


def test_a_spravato_plan_starting_at_84_mg_needs_a_written_override(patient, clinician):
    """Spravato label (docs/clinical-references.md#spravato, #clinical-review): the first session is 56 mg; 84 mg only
    after a 56 mg session."""
    with pytest.raises(ValidationError) as refused:
        plan(patient, clinician, first_day=date(2026, 12, 7), planned_dose=D("84"))
    assert "outside the Spravato label's dose rules" in refused.value.messages[0]
    assert "Session 1: the first session of a series is 56 mg, not 84 mg." in refused.value.messages
    assert not DosingSession.objects.exists()

    reason = "Acute suicidal ideation: the MDSI indication starts at 84 mg twice weekly."
    booked = plan(
        patient, clinician, first_day=date(2026, 12, 7), planned_dose=D("84"), enroll=False, dose_override_reason=reason
    )
    assert booked.dose_override_reason == reason and booked.dose_override_by == clinician
    assert set(booked.sessions.values_list("planned_dose", flat=True)) == {D("84")}


def test_other_routes_keep_one_dose_for_every_session(patient, clinician):
    booked = plan(
        patient,
        clinician,
        first_day=date(2026, 12, 7),
        protocol=Protocol.objects.get(route="iv"),
        planned_dose=D("0.5"),
    )
    assert set(booked.sessions.values_list("planned_dose", flat=True)) == {D("0.5")}


def test_the_plan_form_books_56_first_and_84_after(client_for, patient, clinician):
    """Spravato label (docs/clinical-references.md#spravato): the planning page takes the first session's dose apart
    from the rest."""
    enrollment_create(patient=patient, by=clinician, override_justification="Label tests: gate overridden here.")
    room = Room.objects.create(name="Chair 9")
    data = {
        "protocol": spravato().pk,
        "first_day": "2026-12-07",
        "start_time": "",
        "room": room.pk,
        "clinician": clinician.pk,
        "planned_dose": "84",
        "first_dose": "56",
        "dose_override_reason": "",
        "action": "confirm",
    }
    response = client_for(clinician).post(f"/treatment/plan/new/{patient.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    doses = list(DosingSession.objects.order_by("sequence").values_list("planned_dose", flat=True))
    assert doses[:3] == [D("56"), D("84"), D("84")]


def test_the_dose_step_refuses_84_mg_as_the_first_spravato_dose(patient, clinician, time_machine):
    """Spravato label (docs/clinical-references.md#clinical-review; spravatohcp.com): 84 mg only after an initial 56 mg
    dose; otherwise a clinician's written override."""
    session = book_session(patient, clinician, route="intranasal")
    time_machine.move_to(session.starts_at + timedelta(minutes=5), tick=False)
    check(session, clinician)

    with pytest.raises(ValidationError, match="the first session of a series is 56 mg, not 84 mg"):
        dose(session, clinician, "84")
    with pytest.raises(ValidationError, match="not a whole number of 28 mg devices"):
        dose(session, clinician, "70")

    given = dose(session, clinician, "84", override_reason=REASON)
    assert given.range_override_by == clinician and given.range_override_reason == REASON


def test_84_mg_is_given_without_override_after_a_56_mg_session(patient, clinician, time_machine):
    """Spravato label (docs/clinical-references.md#clinical-review): after a 56 mg dose, 84 mg is a label dose."""
    first = book_session(patient, clinician, route="intranasal", first_dose=D("56"), planned_dose=D("84"))
    time_machine.move_to(first.starts_at + timedelta(minutes=5), tick=False)
    check(first, clinician)
    dose(first, clinician, "56")
    first.refresh_from_db()
    monitored(first, clinician, time_machine)  # 2 hours from the last device, BP at 40 min, MOAA/S 5
    discharge_record(session=first, by=clinician, criteria=ALL_MET)

    second = first.plan.sessions.get(sequence=2)
    assert second.planned_dose == D("84")
    time_machine.move_to(second.starts_at + timedelta(minutes=5), tick=False)
    check(second, clinician)
    given = dose(second, clinician, "84")
    assert given.range_override_by is None
    assert DoseAdministration.objects.count() == 2


# ---- Label weeks and maintenance (issue item 11) ------------------------------------------------


def test_a_closed_week_never_packs_three_doses_into_week_4(patient, clinician):
    """Spravato label (docs/clinical-references.md#spravato): at most 2 doses per label week in weeks 1-4 and 1 in weeks
    5-8, also when the clinic closes (before, a closed week put three doses in week 4)."""
    for day in (18, 21):  # Fri 18 and Mon 21 Dec closed; weekends closed anyway
        ClinicClosure.objects.create(day=date(2026, 12, day), reason="Holiday")
    booked = plan(patient, clinician, first_day=date(2026, 12, 1))
    starts = [timezone.localtime(s.starts_at).date() for s in booked.sessions.order_by("starts_at")]
    anchor = starts[0]
    per_week = {}
    for day in starts:
        per_week[(day - anchor).days // 7] = per_week.get((day - anchor).days // 7, 0) + 1
    assert all(per_week.get(week, 0) <= 2 for week in range(4))
    assert all(per_week.get(week, 0) <= 1 for week in range(4, 8))


def test_moving_a_dose_into_a_full_label_week_is_refused(patient, clinician):
    """Spravato label (docs/clinical-references.md#spravato): a missed dose is not made up by crowding the next week."""
    booked = plan(patient, clinician, first_day=date(2026, 12, 1))
    sessions = list(booked.sessions.order_by("starts_at"))
    # Session 6 (week 3, Fri 18 Dec) moved to Mon 21 Dec still sits in week 3 (Tue 15 - Mon 21): allowed.
    week_3_second = sessions[5]
    assert timezone.localtime(week_3_second.starts_at).date() == date(2026, 12, 18)
    # Session 4 (week 2, Fri 11 Dec) moved to Tue 15 Dec would make week 3 hold three doses.
    with pytest.raises(ValidationError, match="Week 3 of the series .* would hold 3 doses"):
        session_reschedule(session=sessions[3], new_start=timezone.make_aware(datetime(2026, 12, 15, 8)), by=clinician)
    assert [s.starts_at for s in booked.sessions.order_by("starts_at")] == [s.starts_at for s in sessions]


def test_maintenance_from_week_9_is_weekly_or_every_two_weeks(patient, clinician, time_machine):
    """Spravato label (docs/clinical-references.md#spravato): from week 9, once weekly or every 2 weeks."""
    booked = plan(patient, clinician, first_day=date(2026, 12, 1))
    # Test setup: the induction weeks attended; maintenance goes on from the booked weeks 5-8.
    booked.sessions.filter(phase="induction").update(status="completed")
    with pytest.raises(ValidationError, match="once a week or every 2 weeks"):
        booster_book(plan=booked, by=clinician, interval_days=3)
    maintenance = booster_book(plan=booked, by=clinician, interval_days=14)
    last = booked.sessions.exclude(pk=maintenance.pk).order_by("-starts_at").first()
    assert timezone.localdate(maintenance.starts_at) >= timezone.localdate(last.starts_at) + timedelta(days=14)


def test_a_missed_dose_is_not_rebooked_or_caught_up(patient, clinician):
    """Spravato label (docs/clinical-references.md#spravato, missed sessions): continue the current schedule; nothing
    moves earlier."""
    booked = plan(patient, clinician, first_day=date(2026, 12, 1))
    before = {s.pk: s.starts_at for s in booked.sessions.all()}
    missed = booked.sessions.get(sequence=3)
    session_cancel(session=missed, by=clinician, reason="Patient unwell, missed this dose.", cancelled_by="patient")
    after = {s.pk: s.starts_at for s in booked.sessions.exclude(pk=missed.pk)}
    assert all(after[pk] == before[pk] for pk in after)
    assert booked.sessions.count() == len(before)


# ---- Real elapsed time (issue item 12) ----------------------------------------------------------


def test_an_iv_series_over_the_spring_change_keeps_48_real_hours(patient, clinician, time_machine):
    """docs/clinical-references.md#dose-interval (48 h minimum between doses), in real time: Sat 10:00 to Mon 10:00 over
    the spring change is only 47 hours; the booking moves Monday's dose an hour later instead."""
    time_machine.move_to(datetime(2027, 3, 1, 7, 0, tzinfo=CLINIC_TZ), tick=False)
    ClinicHours.objects.all().delete()
    for weekday in range(7):
        ClinicHours.objects.create(weekday=weekday, opens=time(8), closes=time(18))
    iv = Protocol.objects.get(route="iv")
    iv.preferred_weekdays = [5, 0, 2]  # Sat, Mon, Wed
    iv.save()
    booked = plan(
        patient, clinician, first_day=date(2027, 3, 13), protocol=iv, planned_dose=D("0.5"), start_time=time(10)
    )
    starts = [s.starts_at for s in booked.sessions.order_by("starts_at")]
    assert timezone.localtime(starts[0]).replace(tzinfo=None) == datetime(2027, 3, 13, 10)
    assert timezone.localtime(starts[1]).replace(tzinfo=None) == datetime(2027, 3, 15, 11)
    assert all(b - a >= timedelta(hours=48) for a, b in zip(starts, starts[1:], strict=False))


def test_a_dose_47_real_hours_after_another_is_refused_over_the_spring_change(patient, clinician, time_machine):
    """docs/clinical-references.md#dose-interval: doses at least 48 h apart, in real time. Before, the dose window was
    added to a start in the clinic's zone, which Python does on the wall clock: Sat 10:00 + 48 h became Mon 10:00, 47
    real hours later, and a second IV dose was booked then."""
    time_machine.move_to(datetime(2027, 3, 1, 7, 0, tzinfo=CLINIC_TZ), tick=False)
    iv = Protocol.objects.get(route="iv")
    booked = plan(patient, clinician, first_day=date(2027, 3, 3), protocol=iv, planned_dose=D("0.5"))
    booked.sessions.update(status="cancelled", cancelled_by="clinic")
    room = Room.objects.get(name="Chair 1")

    def book(local: datetime) -> DosingSession:
        starts_at = local.replace(tzinfo=CLINIC_TZ)  # as a form or a helper hands it over: aware, in the clinic's zone
        session = DosingSession(
            plan=booked,
            patient=patient,
            protocol=iv,
            sequence=100 + local.day,
            phase="induction",
            room=room,
            clinician=clinician,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
        )
        return _save_booking(session)

    saturday = book(datetime(2027, 3, 13, 10))
    assert saturday.dose_window_ends_at - saturday.starts_at == timedelta(hours=48)
    assert saturday.dose_window_ends_at.astimezone(CLINIC_TZ).replace(tzinfo=None) == datetime(2027, 3, 15, 11)
    with pytest.raises(ValidationError, match="less than 48 hours from another dose"):
        book(datetime(2027, 3, 15, 10))  # 47 real hours later
    assert book(datetime(2027, 3, 15, 11)).starts_at.astimezone(UTC) - saturday.starts_at.astimezone(UTC) == (
        timedelta(hours=48)
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's")
def test_the_database_measures_the_minimum_interval_in_real_time(patient, clinician, time_machine):
    """docs/clinical-references.md#dose-interval: the exclusion constraint (migration 0003) compares timestamptz ranges,
    i.e. real time: a dose inside another's 48-hour window, by real hours, is refused by PostgreSQL itself."""
    time_machine.move_to(datetime(2027, 3, 1, 7, 0, tzinfo=CLINIC_TZ), tick=False)
    booked = plan(
        patient, clinician, first_day=date(2027, 3, 3), protocol=Protocol.objects.get(route="iv"), planned_dose=D("0.5")
    )
    first = booked.sessions.order_by("starts_at").first()
    DosingSession.objects.filter(plan=booked).exclude(pk=first.pk).update(status="cancelled", cancelled_by="clinic")
    saturday = datetime(2027, 3, 13, 15, tzinfo=UTC)  # 10:00 in New York
    DosingSession.objects.filter(pk=first.pk).update(
        starts_at=saturday, ends_at=saturday + timedelta(hours=2), dose_window_ends_at=saturday + timedelta(hours=48)
    )
    monday = datetime(2027, 3, 15, 14, tzinfo=UTC)  # Mon 10:00 in New York (daylight time): 47 real hours later
    with pytest.raises(IntegrityError), transaction.atomic():
        DosingSession.objects.create(
            plan=booked,
            patient=patient,
            protocol=first.protocol,
            sequence=99,
            phase="induction",
            room=first.room,
            clinician=clinician,
            starts_at=monday,
            ends_at=monday + timedelta(hours=2),
            dose_window_ends_at=monday + timedelta(hours=48),
        )
