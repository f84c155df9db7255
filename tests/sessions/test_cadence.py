from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kap_clinic.rules.cadence import (
    DEFAULT_RULES,
    Availability,
    CadenceRule,
    ClinicCalendar,
    Phase,
    PlannedSlot,
    Route,
    SchedulingError,
    booster_slot,
    check_series,
    elapsed,
    induction_bounds,
    label_schedule,
    plan_series,
    reschedule,
    week_cap_problems,
    with_induction_sessions,
)

NINE_TO_FIVE = (time(9), time(17))
WEEKDAYS = ClinicCalendar({day: NINE_TO_FIVE for day in range(5)})  # Mon-Fri, closed at weekends
MON_TO_SAT = ClinicCalendar({day: NINE_TO_FIVE for day in range(6)})
EVERY_DAY = ClinicCalendar({day: NINE_TO_FIVE for day in range(7)})

IV = DEFAULT_RULES[Route.IV]
SPRAVATO = label_schedule("trd")

# Dates used in the worked examples (December 2026).
TUE_1_DEC = date(2026, 12, 1)
WED_2_DEC = date(2026, 12, 2)
THU_3_DEC = date(2026, 12, 3)
SAT_5_DEC = date(2026, 12, 5)
MON_7_DEC = date(2026, 12, 7)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def days_of(slots: list[PlannedSlot]) -> list[date]:
    return [slot.start.date() for slot in slots]


def dec(*days: int) -> list[date]:
    return [date(2026, 12, day) for day in days]


def moved(slots: list[PlannedSlot]) -> list[int]:
    return [slot.sequence for slot in slots if slot.reasons]


# --- Worked examples: IV ----------------------------------------------------------------------------------------


def test_iv_from_a_monday_is_mon_wed_fri_for_two_weeks():
    slots = plan_series(IV, MON_7_DEC, WEEKDAYS)
    assert days_of(slots) == dec(7, 9, 11, 14, 16, 18)
    assert [slot.sequence for slot in slots] == [1, 2, 3, 4, 5, 6]
    assert {slot.phase for slot in slots} == {"induction"}
    assert all(slot.start.time() == time(9) and slot.end - slot.start == timedelta(minutes=120) for slot in slots)
    assert moved(slots) == []
    assert check_series(slots, IV, WEEKDAYS) == []


def test_iv_from_a_wednesday_keeps_mon_wed_fri_and_counts_weeks_from_the_first_dose():
    slots = plan_series(IV, WED_2_DEC, WEEKDAYS)
    assert days_of(slots) == dec(2, 4, 7, 9, 11, 14)
    assert moved(slots) == []


def test_iv_asked_for_a_tuesday_starts_on_the_next_preferred_weekday():
    slots = plan_series(IV, TUE_1_DEC, WEEKDAYS)
    assert days_of(slots) == dec(2, 4, 7, 9, 11, 14)
    assert moved(slots) == []


def test_iv_closure_moves_only_that_slot_when_the_next_day_is_open():
    calendar = ClinicCalendar(MON_TO_SAT.open_hours, closures=frozenset({date(2026, 12, 11)}))
    slots = plan_series(IV, MON_7_DEC, calendar)
    assert days_of(slots) == dec(7, 9, 12, 14, 16, 18)
    assert slots[2].reasons == ("Moved from Fri 11 Dec: the clinic is closed that day.",)
    assert moved(slots) == [3]  # Sat 12 -> Mon 14 is still 48 hours, so slot 4 keeps its day


def test_iv_closure_in_a_weekday_clinic_pushes_later_slots_only_as_far_as_needed():
    calendar = ClinicCalendar(WEEKDAYS.open_hours, closures=frozenset({date(2026, 12, 9)}))
    slots = plan_series(IV, MON_7_DEC, calendar)
    assert days_of(slots) == dec(7, 10, 14, 16, 18, 21)
    assert slots[1].reasons == ("Moved from Wed 9 Dec: the clinic is closed that day.",)
    assert slots[2].reasons == (
        "Moved from Fri 11 Dec: doses must be at least 48 hours apart and the previous one starts Thu 10 Dec 09:00.",
        "Not Sat 12 Dec either: the clinic is closed on Saturdays.",
        "Not Sun 13 Dec either: the clinic is closed on Sundays.",
    )
    assert slots[3].reasons == (
        "Moved from Mon 14 Dec: doses must be at least 48 hours apart and the previous one starts Mon 14 Dec 09:00.",
    )
    assert check_series(slots, IV, calendar) == []


def test_iv_first_day_closed_moves_the_first_dose_and_the_weeks_follow_it():
    calendar = ClinicCalendar(WEEKDAYS.open_hours, closures=frozenset({MON_7_DEC}))
    slots = plan_series(IV, MON_7_DEC, calendar)
    # Week 1 now starts on Tue 8 Dec; its preferred days are Wed, Fri and Mon, the first of which the Tuesday
    # dose takes.
    assert days_of(slots) == dec(8, 11, 14, 16, 18, 21)
    assert slots[0].reasons == ("Moved from Mon 7 Dec: the clinic is closed that day.",)
    assert moved(slots) == [1]


# --- Worked examples: Spravato ----------------------------------------------------------------------------------


def test_spravato_label_schedule_from_a_tuesday():
    slots = plan_series(SPRAVATO, TUE_1_DEC, WEEKDAYS)
    assert len(slots) == 12
    induction = [slot for slot in slots if slot.phase == "induction"]
    maintenance = [slot for slot in slots if slot.phase == "maintenance"]
    assert [slot.sequence for slot in induction] == list(range(1, 9))
    assert [slot.sequence for slot in maintenance] == list(range(9, 13))
    week = [(slot.start.date() - TUE_1_DEC).days // 7 + 1 for slot in slots]
    assert week == [1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8]
    assert days_of(induction) == dec(1, 4, 8, 11, 15, 18, 22, 25)
    assert days_of(maintenance) == [date(2026, 12, 29), date(2027, 1, 5), date(2027, 1, 12), date(2027, 1, 19)]
    assert all(b.start - a.start >= timedelta(hours=48) for a, b in zip(slots, slots[1:], strict=False))
    assert all(slot.end - slot.start == timedelta(minutes=150) for slot in slots)
    assert moved(slots) == []


def test_spravato_in_a_weekend_closed_clinic_moves_sunday_doses_to_monday():
    slots = plan_series(SPRAVATO, THU_3_DEC, WEEKDAYS)
    assert days_of(slots)[:8] == dec(3, 7, 10, 14, 17, 21, 24, 28)
    assert days_of(slots)[8:] == [date(2026, 12, 31), date(2027, 1, 7), date(2027, 1, 14), date(2027, 1, 21)]
    assert moved(slots) == [2, 4, 6, 8]
    assert slots[1].reasons == ("Moved from Sun 6 Dec: the clinic is closed on Sundays.",)
    assert check_series(slots, SPRAVATO, WEEKDAYS) == []


def test_spravato_starting_on_a_closed_saturday_counts_weeks_from_the_monday_dose():
    slots = plan_series(SPRAVATO, SAT_5_DEC, WEEKDAYS)
    assert slots[0].reasons == (
        "Moved from Sat 5 Dec: the clinic is closed on Saturdays.",
        "Not Sun 6 Dec either: the clinic is closed on Sundays.",
    )
    assert days_of(slots)[:4] == dec(7, 10, 14, 17)
    assert moved(slots) == [1]


def test_spravato_for_a_patient_free_only_on_tuesdays_and_thursdays():
    tue_thu = Availability(weekdays=frozenset({1, 3}))
    slots = plan_series(SPRAVATO, TUE_1_DEC, WEEKDAYS, tue_thu)
    assert len(slots) == 12
    assert {slot.start.weekday() for slot in slots} <= {1, 3}
    # Label weeks keep their count: nothing later in week 1 works, so the dose moves earlier in that week.
    assert slots[1].reasons[0] == (
        "Moved from Fri 4 Dec to Thu 3 Dec, earlier in the same week: no later day that week works "
        "(the patient is available only on Tuesdays and Thursdays)."
    )
    assert check_series(slots, SPRAVATO, WEEKDAYS, tue_thu) == []
    # Never earlier than the target, so twice weekly on Tue/Thu is best asked for with preferred weekdays.
    tue_thu_rule = CadenceRule(
        route=Route.INTRANASAL, phases=SPRAVATO.phases, session_minutes=150, preferred_weekdays=(1, 3)
    )
    slots = plan_series(tue_thu_rule, TUE_1_DEC, WEEKDAYS, tue_thu)
    assert days_of(slots)[:8] == dec(1, 3, 8, 10, 15, 17, 22, 24)
    assert moved(slots) == []


def test_spravato_day_too_short_for_the_session_moves_to_the_next_day():
    hours = {day: NINE_TO_FIVE for day in range(6)} | {4: (time(9), time(11))}  # Friday 9-11 only
    calendar = ClinicCalendar(hours)
    slots = plan_series(SPRAVATO, TUE_1_DEC, calendar)
    assert slots[1].start == at(SAT_5_DEC)
    assert slots[1].reasons == (
        "Moved from Fri 4 Dec: a 150-minute session doesn't fit: the clinic is open 09:00-11:00 that day.",
    )
    assert check_series(slots, SPRAVATO, calendar) == []


def test_a_late_start_time_becomes_the_latest_start_that_still_fits_a_short_day():
    hours = {day: NINE_TO_FIVE for day in range(5)} | {4: (time(9), time(15))}  # Friday closes at 15:00
    slots = plan_series(SPRAVATO, TUE_1_DEC, ClinicCalendar(hours), start_time=time(14))
    assert slots[0].start == at(TUE_1_DEC, 14)
    assert slots[1].start == at(date(2026, 12, 4), 12, 30)
    assert slots[1].reasons == (
        "Starts at 12:30 rather than 14:00: a 150-minute session would end at 16:30; the clinic closes at 15:00.",
    )


def test_default_start_is_opening_time_but_never_before_the_patient_can_come():
    slots = plan_series(SPRAVATO, TUE_1_DEC, WEEKDAYS, Availability(earliest=time(10, 30)))
    assert all(slot.start.time() == time(10, 30) for slot in slots)
    assert moved(slots) == []


def test_patient_who_must_leave_early_cannot_use_a_day_that_opens_late():
    hours = {day: NINE_TO_FIVE for day in range(5)} | {4: (time(12), time(17))}  # Friday opens at noon
    availability = Availability(latest=time(14))
    slots = plan_series(SPRAVATO, TUE_1_DEC, ClinicCalendar(hours), availability)
    assert slots[1].start == at(date(2026, 12, 7))
    assert slots[1].reasons[0] == (
        "Moved from Fri 4 Dec: a 150-minute session doesn't fit: the clinic is open 12:00-17:00 that day "
        "and the patient must be done by 14:00."
    )


def test_suicidal_ideation_label_is_twice_weekly_for_four_weeks():
    rule = label_schedule("suicidal_ideation")
    assert rule.route == Route.INTRANASAL
    assert rule.phases == (Phase("induction", None, per_week=2, weeks=4),)
    slots = plan_series(rule, TUE_1_DEC, WEEKDAYS)
    assert days_of(slots) == dec(1, 4, 8, 11, 15, 18, 22, 25)


def test_unknown_label_indication_is_refused():
    with pytest.raises(ValueError, match="Unknown Spravato indication"):
        label_schedule("ptsd")


# --- Worked examples: other routes ------------------------------------------------------------------------------


def test_im_is_three_weekly_four_hour_sessions():
    rule = DEFAULT_RULES[Route.IM]
    slots = plan_series(rule, WED_2_DEC, WEEKDAYS, start_time=time(10))
    assert days_of(slots) == dec(2, 9, 16)
    assert all(slot.start.time() == time(10) and slot.end.time() == time(14) for slot in slots)


def test_sublingual_is_six_sessions_twice_weekly():
    slots = plan_series(DEFAULT_RULES[Route.SUBLINGUAL], MON_7_DEC, WEEKDAYS)
    assert days_of(slots) == dec(7, 10, 14, 17, 21, 24)


def test_oral_is_four_weekly_sessions():
    slots = plan_series(DEFAULT_RULES[Route.ORAL], MON_7_DEC, WEEKDAYS)
    assert days_of(slots) == [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21), date(2026, 12, 28)]


def test_default_rules_cover_every_route_with_a_48_hour_minimum():
    assert set(DEFAULT_RULES) == set(Route)
    assert all(rule.route == route and rule.min_interval_hours == 48 for route, rule in DEFAULT_RULES.items())
    assert {route: rule.session_count for route, rule in DEFAULT_RULES.items()} == {
        Route.IV: 6,
        Route.IM: 3,
        Route.INTRANASAL: 12,
        Route.SUBLINGUAL: 6,
        Route.ORAL: 4,
    }
    assert {route: rule.session_minutes for route, rule in DEFAULT_RULES.items()} == {
        Route.IV: 120,
        Route.IM: 240,
        Route.INTRANASAL: 150,
        Route.SUBLINGUAL: 150,
        Route.ORAL: 150,
    }
    assert DEFAULT_RULES[Route.IV].preferred_weekdays == (0, 2, 4)
    assert DEFAULT_RULES[Route.INTRANASAL] == SPRAVATO


# --- Phases, `after`, errors ------------------------------------------------------------------------------------


def test_every_other_week_phase_skips_alternate_weeks():
    rule = CadenceRule(route=Route.SUBLINGUAL, phases=(Phase("maintenance", None, weeks=6, every_weeks=2),))
    slots = plan_series(rule, MON_7_DEC, WEEKDAYS)
    assert days_of(slots) == [date(2026, 12, 7), date(2026, 12, 21), date(2027, 1, 4)]


def test_sessions_phase_runs_until_its_count_and_the_next_phase_starts_the_week_after():
    rule = CadenceRule(
        route=Route.IV,
        phases=(Phase("induction", 4, per_week=3), Phase("maintenance", 2, per_week=1)),
        preferred_weekdays=(0, 2, 4),
    )
    slots = plan_series(rule, MON_7_DEC, WEEKDAYS)
    assert days_of(slots) == dec(7, 9, 11, 14, 21, 28)
    assert [slot.phase for slot in slots] == ["induction"] * 4 + ["maintenance"] * 2


def test_a_week_4_that_slips_loses_a_dose_rather_than_crowding_week_5():
    """Spravato label (docs/clinical-references.md#spravato): twice weekly in weeks 1-4, once weekly in weeks 5-8; a
    missed dose is not made up, the schedule carries on. Before, the second week-4 dose slipped into week 5 beside week
    5's own."""
    # Patient away for most of week 4 (Tue 22 - Mon 28 Dec): only one week-4 dose fits.
    away = Availability(unavailable=frozenset(dec(22, 23, 24, 25, 28)))
    slots = plan_series(SPRAVATO, TUE_1_DEC, EVERY_DAY, away)
    assert days_of(slots)[6:8] == [date(2026, 12, 26), date(2026, 12, 29)]
    assert slots[6].reasons == (
        "Moved from Tue 22 Dec: the patient is unavailable that day.",
        "Not Wed 23 Dec either: the patient is unavailable that day.",
        "Not Thu 24 Dec either: the patient is unavailable that day.",
        "Not Fri 25 Dec either: the patient is unavailable that day.",
    )
    assert slots[7].reasons[0].startswith("Week 4 (Tue 22 Dec to Mon 28 Dec) has 1 session instead of 2: ")
    assert slots[7].reasons[0].endswith("A missed session is not made up in a later week; the schedule carries on.")
    # Week 5 began on Tue 29 Dec and holds one dose; weeks 6-8 are on their Tuesdays.
    assert [slot.phase for slot in slots[7:]] == ["maintenance"] * 4
    assert days_of(slots)[7:] == [date(2026, 12, 29), date(2027, 1, 5), date(2027, 1, 12), date(2027, 1, 19)]
    assert check_series(slots, SPRAVATO, EVERY_DAY, away) == []
    assert week_cap_problems([slot.start for slot in slots], SPRAVATO, TUE_1_DEC) == []


def test_a_closed_week_never_packs_three_doses_into_week_4():
    """Spravato label (docs/clinical-references.md#spravato): at most 2 doses in any label week of weeks 1-4. A clinic
    closed from Fri 18 Dec to Mon 21 Dec pushes week 3's second dose out of week 3; it is skipped, not added to week
    4."""
    closed = ClinicCalendar({day: NINE_TO_FIVE for day in range(7)}, closures=frozenset(dec(18, 19, 20, 21)))
    slots = plan_series(SPRAVATO, TUE_1_DEC, closed)
    week_4 = [day for day in days_of(slots) if date(2026, 12, 22) <= day <= date(2026, 12, 28)]
    assert week_4 == dec(22, 25)
    week_3 = [day for day in days_of(slots) if date(2026, 12, 15) <= day <= date(2026, 12, 21)]
    assert week_3 == dec(15, 17)  # moved earlier inside week 3 rather than out of it
    assert week_cap_problems([slot.start for slot in slots], SPRAVATO, TUE_1_DEC) == []


def test_week_cap_problems_name_a_crowded_label_week():
    """Spravato label (docs/clinical-references.md#spravato): twice weekly in weeks 1-4, once weekly in weeks 5-8."""
    starts = [at(day) for day in dec(1, 4, 8, 11, 15, 18, 22, 24, 26, 29, 31)]
    assert week_cap_problems(starts, SPRAVATO, TUE_1_DEC) == [
        "Week 4 of the series (from Tue 22 Dec) would hold 3 doses; the induction phase allows 2 a week. "
        "A missed dose is not made up: cancel it instead.",
        "Week 5 of the series (from Tue 29 Dec) would hold 2 doses; the maintenance phase allows 1 a week. "
        "A missed dose is not made up: cancel it instead.",
    ]


# --- Real elapsed time across daylight-saving changes ----------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")
OPEN_DAILY_NY = ClinicCalendar({day: (time(8), time(18)) for day in range(7)}, tz=NEW_YORK)
SAT_13_MAR_2027 = date(2027, 3, 13)  # clocks go forward at 02:00 on Sun 14 Mar 2027


def test_minimum_interval_is_real_elapsed_time_over_the_spring_change():
    """docs/clinical-references.md#dose-interval: doses at least 48 h apart. Sat 10:00 to Mon 10:00 across the spring
    change is 47 real hours; before, the planner counted wall-clock hours and booked it."""
    sat_mon_wed = CadenceRule(route=Route.IV, phases=(Phase("induction", 3, per_week=3),), preferred_weekdays=(5, 0, 2))
    slots = plan_series(sat_mon_wed, SAT_13_MAR_2027, OPEN_DAILY_NY, start_time=time(10))
    assert slots[0].start == datetime(2027, 3, 13, 10)
    assert slots[1].start == datetime(2027, 3, 15, 11)  # 48 real hours later
    assert slots[1].reasons == (
        "Starts at 11:00 rather than 10:00: doses must be at least 48 hours apart and the previous one starts "
        "Sat 13 Mar 10:00.",
    )
    for before, slot in zip(slots, slots[1:], strict=False):
        assert elapsed(before.start, slot.start, NEW_YORK) >= timedelta(hours=48)
    assert check_series(slots, IV, OPEN_DAILY_NY) == []


def test_checks_count_real_hours_over_daylight_saving_changes():
    """docs/clinical-references.md#dose-interval (48 h minimum), in real time: 47 real hours in spring is too close, 49
    in autumn is enough."""
    spring = [
        PlannedSlot(1, "induction", datetime(2027, 3, 13, 10), datetime(2027, 3, 13, 12), ()),
        PlannedSlot(2, "induction", datetime(2027, 3, 15, 10), datetime(2027, 3, 15, 12), ()),
    ]
    assert check_series(spring, IV, OPEN_DAILY_NY) == [
        "Session 2 (Mon 15 Mar 10:00) is only 47 hours after session 1; doses must be at least 48 hours apart."
    ]
    with pytest.raises(ValueError, match="only 47 hours after the previous session"):
        reschedule(spring[:1] + [spring[1]], 1, datetime(2027, 3, 15, 10), IV, OPEN_DAILY_NY)
    autumn = [
        PlannedSlot(1, "induction", datetime(2027, 11, 6, 10), datetime(2027, 11, 6, 12), ()),
        PlannedSlot(2, "induction", datetime(2027, 11, 8, 9, 30), datetime(2027, 11, 8, 11, 30), ()),
    ]
    assert elapsed(autumn[0].start, autumn[1].start, NEW_YORK) == timedelta(hours=48, minutes=30)
    assert check_series(autumn, IV, OPEN_DAILY_NY) == []


def test_after_holds_the_series_back_and_says_why():
    after = at(date(2026, 12, 8), 11)
    slots = plan_series(SPRAVATO, MON_7_DEC, WEEKDAYS, after=after)
    assert slots[0].start == after
    assert slots[0].reasons == (
        "Moved from Mon 7 Dec: no session may start before Tue 8 Dec 11:00.",
        "Starts at 11:00 rather than 09:00: no session may start before Tue 8 Dec 11:00.",
    )
    assert all(slot.start >= after for slot in slots)


def test_minimum_interval_can_push_a_dose_later_in_the_same_day():
    hours = {0: (time(13), time(19)), 2: (time(8), time(16)), 4: (time(8), time(16))}
    slots = plan_series(IV, MON_7_DEC, ClinicCalendar(hours))
    assert slots[0].start == at(MON_7_DEC, 13)
    assert slots[1].start == at(date(2026, 12, 9), 13)
    assert slots[1].reasons == (
        "Starts at 13:00 rather than 08:00: doses must be at least 48 hours apart and the previous one starts "
        "Mon 7 Dec 13:00.",
    )


def test_no_usable_day_raises_scheduling_error():
    with pytest.raises(SchedulingError, match="No usable slot for session 1"):
        plan_series(IV, MON_7_DEC, WEEKDAYS, Availability(weekdays=frozenset({5, 6})))
    too_short = ClinicCalendar({day: (time(9), time(10)) for day in range(7)})
    with pytest.raises(SchedulingError, match="doesn't fit"):
        plan_series(IV, MON_7_DEC, too_short, max_days=30)


def test_aware_datetimes_and_bad_definitions_are_refused():
    from datetime import UTC

    with pytest.raises(ValueError, match="naive local"):
        plan_series(IV, MON_7_DEC, WEEKDAYS, after=datetime(2026, 12, 7, tzinfo=UTC))
    with pytest.raises(ValueError, match="date, not a datetime"):
        plan_series(IV, at(MON_7_DEC), WEEKDAYS)
    with pytest.raises(ValueError, match="1, 2 or 3"):
        Phase("induction", 6, per_week=4)
    with pytest.raises(ValueError, match="sessions or a number of weeks"):
        Phase("induction", None)
    with pytest.raises(ValueError, match="preferred weekdays"):
        CadenceRule(route=Route.IV, phases=(Phase("induction", 6, per_week=3),), preferred_weekdays=(0, 2))
    with pytest.raises(ValueError, match="open before it closes"):
        ClinicCalendar({0: (time(17), time(9))})


# --- reschedule, booster_slot, check_series ---------------------------------------------------------------------


def test_reschedule_moves_one_slot_and_pushes_only_the_next_that_gets_too_close():
    slots = plan_series(IV, MON_7_DEC, WEEKDAYS)  # Mon 7, Wed 9, Fri 11, Mon 14, Wed 16, Fri 18
    result = reschedule(slots, 1, at(date(2026, 12, 10), 14), IV, WEEKDAYS)
    assert result[:1] == slots[:1]
    assert result[1].start == at(date(2026, 12, 10), 14)
    assert result[1].reasons == ("Rescheduled from Wed 9 Dec 09:00.",)
    assert result[2].start == at(date(2026, 12, 14), 9)  # Fri 11 is too close; Sat and Sun are closed
    assert result[2].reasons[0] == (
        "Moved from Fri 11 Dec 09:00: doses must be at least 48 hours apart and the previous one starts "
        "Thu 10 Dec 14:00."
    )
    assert result[3].start == at(date(2026, 12, 16), 9)
    assert result[4:] == [
        PlannedSlot(5, "induction", at(date(2026, 12, 18)), at(date(2026, 12, 18), 11), result[4].reasons),
        PlannedSlot(6, "induction", at(date(2026, 12, 21)), at(date(2026, 12, 21), 11), result[5].reasons),
    ]
    assert [slot.sequence for slot in result] == [1, 2, 3, 4, 5, 6]
    assert check_series(result, IV, WEEKDAYS) == []


def test_reschedule_later_the_same_day_keeps_the_following_slot_when_it_still_fits():
    slots = plan_series(SPRAVATO, TUE_1_DEC, WEEKDAYS)
    result = reschedule(slots, 0, at(TUE_1_DEC, 11), SPRAVATO, WEEKDAYS)
    assert result[1:] == slots[1:]


def test_reschedule_moves_a_following_slot_later_in_its_day_when_that_is_enough():
    slots = plan_series(SPRAVATO, TUE_1_DEC, WEEKDAYS)  # Tue 1, Fri 4, Tue 8 ...
    result = reschedule(slots, 1, at(date(2026, 12, 4), 14), SPRAVATO, WEEKDAYS)
    assert result[2].start == at(date(2026, 12, 8), 9)  # Fri 14:00 -> Tue 09:00 is 91 hours: unchanged
    result = reschedule(slots, 2, at(date(2026, 12, 9), 14), SPRAVATO, WEEKDAYS)
    assert result[3].start == at(date(2026, 12, 11), 14)
    assert result[3].reasons == (
        "Moved from Fri 11 Dec 09:00 to 14:00: doses must be at least 48 hours apart and the previous one starts "
        "Wed 9 Dec 14:00.",
    )


@pytest.mark.parametrize(
    ("new_start", "message"),
    [
        (at(SAT_5_DEC), "the clinic is closed on Saturdays"),
        (at(date(2026, 12, 10), 16), "it would end at 18:00 and the clinic closes at 17:00"),
        (at(date(2026, 12, 8), 8), "the clinic opens at 09:00"),
        (at(date(2026, 12, 8), 10), "only 25 hours after the previous session"),
        (at(MON_7_DEC, 12), "must fall on a later day than the previous session"),
    ],
)
def test_reschedule_refuses_an_unusable_moment_in_plain_words(new_start, message):
    slots = plan_series(IV, MON_7_DEC, WEEKDAYS)
    with pytest.raises(ValueError, match=message):
        reschedule(slots, 1, new_start, IV, WEEKDAYS)


def test_reschedule_refuses_a_slot_that_does_not_exist():
    slots = plan_series(IV, MON_7_DEC, WEEKDAYS)
    with pytest.raises(ValueError, match="no slot 6"):
        reschedule(slots, 6, at(date(2026, 12, 21)), IV, WEEKDAYS)


def test_booster_lands_on_the_first_usable_day_after_the_interval():
    last = at(date(2026, 12, 18), 15)
    slot = booster_slot(last, 28, IV, WEEKDAYS)
    assert slot.start == at(date(2027, 1, 15))  # Fri 18 Dec + 28 days = Fri 15 Jan
    assert (slot.sequence, slot.phase, slot.reasons) == (1, "booster", ())
    closed = ClinicCalendar(WEEKDAYS.open_hours, closures=frozenset({date(2027, 1, 15)}))
    slot = booster_slot(last, 28, IV, closed, start_time=time(10))
    assert slot.start == at(date(2027, 1, 18), 10)
    assert slot.reasons[0] == "Moved from Fri 15 Jan: the clinic is closed that day."


@pytest.mark.parametrize("interval_days", [0, -1])
def test_a_booster_interval_below_one_day_is_refused(interval_days):
    """Issue item 18: 0 days would put the booster on the dosing day; it is refused, not silently replaced."""
    with pytest.raises(ValueError, match="at least 1 day"):
        booster_slot(at(MON_7_DEC, 14), interval_days, IV, WEEKDAYS)


def test_booster_never_comes_sooner_than_the_minimum_interval():
    slot = booster_slot(at(MON_7_DEC, 14), 1, SPRAVATO, WEEKDAYS)
    assert slot.start == at(date(2026, 12, 9), 14)
    assert slot.reasons == (
        "Moved from Tue 8 Dec: doses must be at least 48 hours apart and the previous one starts Mon 7 Dec 14:00.",
        "Starts at 14:00 rather than 09:00: doses must be at least 48 hours apart and the previous one starts "
        "Mon 7 Dec 14:00.",
    )
    # From 15:00 on Wednesday a 150-minute session would run past closing, so Thursday morning.
    slot = booster_slot(at(MON_7_DEC, 15), 1, SPRAVATO, WEEKDAYS)
    assert slot.start == at(date(2026, 12, 10), 9)
    assert slot.reasons[-1] == (
        "Not Wed 9 Dec either: doses must be at least 48 hours apart and the previous one starts Mon 7 Dec 15:00, "
        "and a 150-minute session starting at 15:00 would not finish by 17:00."
    )


def test_check_series_names_each_problem():
    slots = [
        PlannedSlot(1, "induction", at(MON_7_DEC), at(MON_7_DEC, 11), ()),
        PlannedSlot(2, "induction", at(date(2026, 12, 8)), at(date(2026, 12, 8), 11), ()),
        PlannedSlot(3, "induction", at(date(2026, 12, 8), 15), at(date(2026, 12, 8), 17), ()),
        PlannedSlot(4, "induction", at(date(2026, 12, 12)), at(date(2026, 12, 12), 10), ()),
    ]
    assert check_series(slots, IV, WEEKDAYS) == [
        "Session 4 (Sat 12 Dec 09:00) lasts 60 minutes; a session takes 120.",
        "Session 4 (Sat 12 Dec 09:00): the clinic is closed on Saturdays.",
        "Session 2 (Tue 8 Dec 09:00) is only 24 hours after session 1; doses must be at least 48 hours apart.",
        "Session 3 (Tue 8 Dec 15:00) is on the same day as session 2; only one dosing session a day.",
    ]
    assert check_series([slots[1], slots[0]], IV, WEEKDAYS) == [
        "Session 1 (Mon 7 Dec 09:00) is not after session 2 (Tue 8 Dec 09:00)."
    ]


# --- Properties -------------------------------------------------------------------------------------------------

LONGEST_SESSION = 240


def quarter_hour(n: int) -> time:
    return time(n // 4, 15 * (n % 4))


def window(day: date, calendar: ClinicCalendar, availability: Availability) -> tuple[datetime, datetime] | None:
    """Independent statement of when a session may run on `day`; None when the day is unusable."""
    if day in calendar.closures or day in availability.unavailable or day.weekday() not in calendar.open_hours:
        return None
    if availability.weekdays is not None and day.weekday() not in availability.weekdays:
        return None
    opens, closes = calendar.open_hours[day.weekday()]
    low = max(opens, availability.earliest or opens)
    high = min(closes, availability.latest or closes)
    return datetime.combine(day, low), datetime.combine(day, high)


@st.composite
def scenarios(draw):
    """A start date, a clinic calendar (three or more open days, closures) and a patient's availability."""
    first_day = draw(st.dates(date(2025, 1, 1), date(2028, 12, 31)))
    open_days = draw(st.sets(st.integers(0, 6), min_size=3))
    hours = {}
    for day in sorted(open_days):
        opens = draw(st.integers(6 * 4, 11 * 4))
        closes = min(opens + draw(st.integers(4, 12 * 4)), 23 * 4 + 3)
        hours[day] = (quarter_hour(opens), quarter_hour(closes))
    closures = draw(st.frozensets(st.integers(0, 150), max_size=15))
    calendar = ClinicCalendar(hours, frozenset(first_day + timedelta(days=n) for n in closures))

    weekdays = draw(st.none() | st.frozensets(st.integers(0, 6), min_size=2))
    earliest = draw(st.none() | st.integers(7 * 4, 12 * 4).map(quarter_hour))
    latest = draw(st.none() | st.integers(13 * 4, 22 * 4).map(quarter_hour))
    unavailable = draw(st.frozensets(st.integers(0, 150), max_size=15))
    availability = Availability(
        weekdays, earliest, latest, frozenset(first_day + timedelta(days=n) for n in unavailable)
    )

    # At least two weekdays on which the clinic and the patient meet for long enough, or nothing can be planned.
    def roomy(weekday: int) -> bool:
        some_day = first_day + timedelta(days=(weekday - first_day.weekday()) % 7 + 7 * 30)
        span = window(some_day, ClinicCalendar(hours), Availability(weekdays, earliest, latest))
        return span is not None and span[1] - span[0] >= timedelta(minutes=LONGEST_SESSION)

    assume(sum(roomy(weekday) for weekday in range(7)) >= 2)
    return first_day, calendar, availability


@st.composite
def random_rules(draw):
    phases = []
    for n in range(draw(st.integers(1, 2))):
        per_week = draw(st.integers(1, 3))
        every_weeks = draw(st.sampled_from((1, 1, 2)))
        if draw(st.booleans()):
            phases.append(Phase(f"phase {n + 1}", draw(st.integers(1, 8)), per_week=per_week, every_weeks=every_weeks))
        else:
            weeks = draw(st.integers(1, 4))
            phases.append(Phase(f"phase {n + 1}", None, per_week=per_week, weeks=weeks, every_weeks=every_weeks))
    preferred = draw(st.just(()) | st.lists(st.integers(0, 6), min_size=3, max_size=5, unique=True).map(tuple))
    return CadenceRule(
        route=draw(st.sampled_from(Route)),
        phases=tuple(phases),
        min_interval_hours=draw(st.sampled_from((0, 24, 48, 72))),
        session_minutes=draw(st.sampled_from((60, 120, 150, LONGEST_SESSION))),
        preferred_weekdays=preferred,
    )


RULES = st.sampled_from([*DEFAULT_RULES.values(), label_schedule("suicidal_ideation")]) | random_rules()
START_TIMES = st.none() | st.integers(6 * 4, 20 * 4).map(quarter_hour)
AFTER = st.none() | st.integers(-3 * 24 * 60, 5 * 24 * 60)  # minutes from midnight on the first day

PROPERTY = settings(deadline=None)


def expected_count(phase: Phase) -> int:
    if phase.sessions is not None:
        return phase.sessions
    active_weeks = -(-phase.weeks // phase.every_weeks)
    return active_weeks * phase.per_week


def assert_valid(slots, rule, calendar, availability, after=None):
    duration = timedelta(minutes=rule.session_minutes)
    for slot in slots:
        span = window(slot.start.date(), calendar, availability)
        assert span is not None, slot
        assert span[0] <= slot.start and slot.end <= span[1], slot
        assert slot.end - slot.start == duration
        assert after is None or slot.start >= after
    for before, slot in zip(slots, slots[1:], strict=False):
        assert slot.start > before.start
        assert slot.start.date() > before.start.date()
        assert slot.start - before.start >= timedelta(hours=rule.min_interval_hours)
    assert check_series(slots, rule, calendar, availability) == []


@PROPERTY
@given(scenarios(), RULES, START_TIMES, AFTER)
def test_planned_series_is_always_valid_and_complete(scenario, rule, start_time, after_minutes):
    first_day, calendar, availability = scenario
    after = None if after_minutes is None else datetime.combine(first_day, time()) + timedelta(minutes=after_minutes)
    slots = plan_series(rule, first_day, calendar, availability, start_time=start_time, after=after)

    # Phases defined by sessions are complete; label weeks may lose a dose that no day of its week could hold.
    for phase in rule.phases:
        placed = sum(1 for slot in slots if slot.phase == phase.name)
        if phase.weeks is None:
            assert placed == expected_count(phase)
        else:
            assert placed <= expected_count(phase)
    missed = sum(1 for slot in slots for reason in slot.reasons if "is not made up" in reason)
    assert len(slots) + missed == rule.session_count
    assert [slot.sequence for slot in slots] == list(range(1, len(slots) + 1))
    order = [p.name for p in rule.phases]
    assert [order.index(slot.phase) for slot in slots] == sorted(order.index(slot.phase) for slot in slots)
    assert slots[0].start.date() >= first_day
    assert_valid(slots, rule, calendar, availability, after)
    # No week counted from the first dose holds more sessions than the phase placing into it allows.
    anchor = slots[0].start.date()
    per_week = {phase.name: phase.per_week for phase in rule.phases}
    for slot in slots:
        week = (slot.start.date() - anchor).days // 7
        so_far = [s for s in slots[: slot.sequence] if (s.start.date() - anchor).days // 7 == week]
        assert len(so_far) <= per_week[slot.phase], slot


def target_start(day: date, start_time, calendar, availability) -> datetime | None:
    if start_time is not None:
        return datetime.combine(day, start_time)
    span = window(day, calendar, availability)
    return None if span is None else span[0]


@PROPERTY
@given(scenarios(), st.sampled_from(["trd", "suicidal_ideation"]), START_TIMES)
def test_reasons_are_given_exactly_for_slots_that_moved(scenario, indication, start_time):
    first_day, calendar, availability = scenario
    rule = label_schedule(indication)
    slots = plan_series(rule, first_day, calendar, availability, start_time=start_time)

    first_dose = slots[0].start.date()  # the label counts weeks from here
    induction = [first_dose + timedelta(days=7 * week + offset) for week in range(4) for offset in (0, 3)]
    targets = [first_day, *induction[1:]]
    if indication == "trd":
        targets += [first_dose + timedelta(days=7 * week) for week in range(4, 8)]
    assert week_cap_problems([slot.start for slot in slots], rule, first_dose) == []
    if any("same week" in reason or "not made up" in reason for slot in slots for reason in slot.reasons):
        # A dose moved earlier inside its label week, or a week lost one: each is said in plain words.
        missed = sum(1 for slot in slots for reason in slot.reasons if "is not made up" in reason)
        assert len(slots) + missed == len(targets)
        return
    assert len(targets) == len(slots)
    for slot, target in zip(slots, targets, strict=True):
        was_moved = slot.start != target_start(target, start_time, calendar, availability)
        assert bool(slot.reasons) == was_moved, (slot, target)
        if slot.start.date() != target:
            assert slot.reasons[0].startswith(f"Moved from {target:%a} {target.day} {target:%b}: ")
        assert slot.start.date() >= target  # never earlier than aimed


@PROPERTY
@given(scenarios(), RULES, st.data())
def test_rescheduling_later_keeps_earlier_slots_and_every_interval(scenario, rule, data):
    first_day, calendar, availability = scenario
    slots = plan_series(rule, first_day, calendar, availability)
    index = data.draw(st.integers(0, len(slots) - 1), label="index")
    day = slots[index].start.date() + timedelta(days=data.draw(st.integers(1, 20), label="days later"))
    while (span := window(day, calendar, availability)) is None or span[1] - span[0] < timedelta(
        minutes=rule.session_minutes
    ):
        day += timedelta(days=1)
    latest = span[1] - timedelta(minutes=rule.session_minutes)
    steps = int((latest - span[0]).total_seconds() // 300)
    new_start = span[0] + timedelta(minutes=5 * data.draw(st.integers(0, steps), label="5-minute steps"))

    result = reschedule(slots, index, new_start, rule, calendar, availability)

    assert result[:index] == slots[:index]
    assert result[index].start == new_start
    assert [(s.sequence, s.phase) for s in result] == [(s.sequence, s.phase) for s in slots]
    assert_valid(result, rule, calendar, availability)
    for position in range(index + 1, len(slots)):
        if result[position] != slots[position]:
            # Moved only because the old start no longer kept its distance, and only later.
            before, old = result[position - 1], slots[position]
            too_close = old.start - before.start < timedelta(hours=rule.min_interval_hours)
            assert too_close or old.start.date() <= before.start.date()
            assert result[position].start > old.start
            assert result[position].reasons[: len(old.reasons)] == old.reasons


@PROPERTY
@given(scenarios(), RULES, st.integers(1, 60), st.integers(0, 23 * 60))
def test_booster_is_the_first_usable_slot_after_the_interval(scenario, rule, interval_days, minute):
    first_day, calendar, availability = scenario
    last_dose = datetime.combine(first_day, time()) + timedelta(minutes=minute)
    slot = booster_slot(last_dose, interval_days, rule, calendar, availability)
    assert slot.start.date() >= last_dose.date() + timedelta(days=interval_days)
    assert slot.start.date() > last_dose.date()
    assert slot.start - last_dose >= timedelta(hours=rule.min_interval_hours)
    assert_valid([slot], rule, calendar, availability)
    # No usable day between the target and the booster's day could have held it.
    target = max(last_dose.date() + timedelta(days=interval_days), last_dose.date() + timedelta(days=1))
    bound = max(last_dose + timedelta(hours=rule.min_interval_hours), datetime.combine(target, time()))
    for offset in range((slot.start.date() - target).days):
        day = target + timedelta(days=offset)
        span = window(day, calendar, availability)
        if span is not None:
            assert span[1] - max(span[0], bound) < timedelta(minutes=rule.session_minutes), day


@PROPERTY
@given(scenarios(), RULES, START_TIMES)
def test_doses_are_the_minimum_interval_apart_in_real_time_in_a_zone_with_daylight_saving(scenario, rule, start_time):
    """docs/clinical-references.md#dose-interval: the minimum interval is real elapsed time, whatever daylight-saving
    change falls between."""
    first_day, calendar, availability = scenario
    zoned = ClinicCalendar(calendar.open_hours, calendar.closures, tz=NEW_YORK)
    slots = plan_series(rule, first_day, zoned, availability, start_time=start_time)
    for before, slot in zip(slots, slots[1:], strict=False):
        assert elapsed(before.start, slot.start, NEW_YORK) >= timedelta(hours=rule.min_interval_hours)
    assert check_series(slots, rule, zoned, availability) == []


def test_induction_length_is_chosen_within_the_protocols_bounds():
    im = DEFAULT_RULES[Route.IM]
    assert induction_bounds(im) == (2, 6)
    assert with_induction_sessions(im, 5).session_count == 5
    assert induction_bounds(DEFAULT_RULES[Route.IV]) == (3, 12)
    # The Spravato label fixes its induction: the only choice is the label's count.
    assert induction_bounds(DEFAULT_RULES[Route.INTRANASAL]) == (8, 8)
    with pytest.raises(ValueError, match="between 2 and 6"):
        with_induction_sessions(im, 7)


def test_induction_length_within_bounds_a_clinic_sets_for_its_protocol():
    im = DEFAULT_RULES[Route.IM]  # the rule's own bounds: 2 to 6
    assert with_induction_sessions(im, 8, bounds=(4, 8)).session_count == 8
    with pytest.raises(ValueError, match="between 4 and 8"):
        with_induction_sessions(im, 2, bounds=(4, 8))
    with pytest.raises(ValueError, match="induction is 5 sessions"):
        with_induction_sessions(im, 4, bounds=(5, 5))
    no_induction = CadenceRule(route=Route.IM, phases=(Phase("maintenance", 3),))
    with pytest.raises(ValueError, match="no induction phase"):
        with_induction_sessions(no_induction, 3, bounds=(1, 6))
