"""Reminder times: pure arithmetic, worked examples across the 2025 US daylight-saving changes (New York).

Spring forward: Sun 9 Mar 2025, 02:00 EST -> 03:00 EDT. Fall back: Sun 2 Nov 2025, 02:00 EDT -> 01:00 EST.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kap_clinic.rules.reminder_timing import QuietHours, channels_for, plan_reminders, reminder_time, to_aware

NY = ZoneInfo("America/New_York")
QUIET = QuietHours(start=time(21, 0), end=time(8, 0))
NO_QUIET = QuietHours(start=time(0, 0), end=time(0, 0))
H48, H2 = timedelta(hours=48), timedelta(hours=2)


def ny(*args) -> datetime:
    return to_aware(datetime(*args), NY)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_48_hours_before_keeps_the_wall_clock_time_across_spring_forward():
    # Mon 10 Mar 10:00 EDT (14:00Z); two calendar days earlier is Sat 8 Mar 10:00 EST (15:00Z), 47 h elapsed.
    assert reminder_time(ny(2025, 3, 10, 10, 0), H48, NY) == utc(2025, 3, 8, 15, 0)


def test_48_hours_before_keeps_the_wall_clock_time_across_fall_back():
    # Mon 3 Nov 09:00 EST (14:00Z) -> Sat 1 Nov 09:00 EDT (13:00Z), 49 h elapsed.
    assert reminder_time(ny(2025, 11, 3, 9, 0), H48, NY) == utc(2025, 11, 1, 13, 0)


def test_2_hours_before_is_elapsed_time_across_the_skipped_hour():
    # Sun 9 Mar 04:00 EDT (08:00Z): two real hours earlier is 06:00Z, 01:00 EST on the wall clock.
    assert reminder_time(ny(2025, 3, 9, 4, 0), H2, NY) == utc(2025, 3, 9, 6, 0)


def test_2_hours_before_is_elapsed_time_across_the_repeated_hour():
    # Sun 2 Nov 02:30 EST (07:30Z): two real hours earlier is 05:30Z, the first 01:30 (EDT).
    assert reminder_time(ny(2025, 11, 2, 2, 30), H2, NY) == utc(2025, 11, 2, 5, 30)


def test_a_wall_clock_time_in_the_spring_gap_lands_after_it():
    assert to_aware(datetime(2025, 3, 9, 2, 30), NY) == utc(2025, 3, 9, 7, 30)  # 03:30 EDT


def test_a_day_before_a_session_on_the_spring_gap_day_lands_just_after_the_gap():
    # A 02:30 wall-clock reminder does not exist on 9 Mar: 03:30 EDT.
    assert reminder_time(ny(2025, 3, 10, 2, 30), timedelta(days=1), NY) == utc(2025, 3, 9, 7, 30)


def test_reminder_due_in_quiet_hours_moves_to_their_end():
    event = ny(2025, 1, 14, 9, 0)
    assert QUIET.adjust(event - H2, event, NY) == ny(2025, 1, 14, 8, 0)


def test_reminder_moves_earlier_when_the_end_of_quiet_hours_is_too_late():
    event = ny(2025, 1, 14, 7, 30)  # 2 h before is 05:30; 08:00 would be after the session
    assert QUIET.adjust(event - H2, event, NY) == ny(2025, 1, 13, 20, 59)


def test_quiet_hours_end_on_the_clinic_clock_on_the_spring_forward_day():
    event = ny(2025, 3, 9, 9, 0)  # EDT; 2 h before is 07:00 EDT, in quiet hours
    assert QUIET.adjust(event - H2, event, NY) == utc(2025, 3, 9, 12, 0)  # 08:00 EDT


def test_quiet_hours_end_on_the_clinic_clock_on_the_fall_back_day():
    event = ny(2025, 11, 2, 9, 0)  # EST; 2 h before is 07:00 EST
    assert QUIET.adjust(event - H2, event, NY) == utc(2025, 11, 2, 13, 0)  # 08:00 EST


def test_quiet_hours_window_that_does_not_cross_midnight():
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    event = ny(2025, 1, 14, 14, 30)
    assert lunch.adjust(event - H2, event, NY) == ny(2025, 1, 14, 13, 0)
    assert lunch.adjust(ny(2025, 1, 14, 11, 0), event, NY) == ny(2025, 1, 14, 11, 0)


def test_plan_for_a_booking_made_well_ahead():
    event = ny(2025, 3, 10, 10, 0)
    plan = plan_reminders(event, {"48h": H48, "2h": H2}, now=ny(2025, 3, 1, 12, 0), tz=NY, quiet=QUIET)
    assert [(p.rule_key, p.due_at) for p in plan] == [("48h", utc(2025, 3, 8, 15, 0)), ("2h", utc(2025, 3, 10, 12, 0))]


def test_late_booking_sends_the_overdue_reminder_now():
    event = ny(2025, 1, 15, 16, 0)
    now = ny(2025, 1, 14, 10, 0, 30)
    plan = plan_reminders(event, {"48h": H48, "2h": H2}, now=now, tz=NY, quiet=QUIET)
    assert [(p.rule_key, p.due_at) for p in plan] == [("48h", ny(2025, 1, 14, 10, 0)), ("2h", ny(2025, 1, 15, 14, 0))]


def test_very_late_booking_sends_only_the_shortest_overdue_reminder():
    event = ny(2025, 1, 15, 16, 0)
    plan = plan_reminders(event, {"48h": H48, "2h": H2}, now=ny(2025, 1, 15, 15, 0), tz=NY, quiet=QUIET)
    assert [(p.rule_key, p.due_at) for p in plan] == [("2h", ny(2025, 1, 15, 15, 0))]


def test_late_booking_at_night_waits_for_morning_and_does_not_repeat():
    # Booked at 23:00 for 09:30: the overdue 48 h reminder and the 2 h one would both land at 08:00; only one goes.
    event = ny(2025, 1, 15, 9, 30)
    plan = plan_reminders(event, {"48h": H48, "2h": H2}, now=ny(2025, 1, 14, 23, 0), tz=NY, quiet=QUIET)
    assert [(p.rule_key, p.due_at) for p in plan] == [("2h", ny(2025, 1, 15, 8, 0))]


def test_nothing_is_planned_for_a_session_that_has_started():
    event = ny(2025, 1, 15, 9, 30)
    assert plan_reminders(event, {"2h": H2}, now=event, tz=NY, quiet=QUIET) == []


def test_reminder_that_fits_nowhere_before_the_session_is_dropped():
    # Booked at 22:00 for 07:00 next morning: quiet until 08:00, and before quiet hours is already past.
    event = ny(2025, 1, 15, 7, 0)
    assert plan_reminders(event, {"2h": H2}, now=ny(2025, 1, 14, 22, 0), tz=NY, quiet=QUIET) == []


def test_channels_follow_consent_and_need_an_address():
    assert channels_for(consents_to_email=True, email="a@b.c", consents_to_sms=True, phone="+1 555") == [
        "email",
        "sms",
    ]
    assert channels_for(consents_to_email=False, email="a@b.c", consents_to_sms=True, phone="+1 555") == ["sms"]
    assert channels_for(consents_to_email=True, email="", consents_to_sms=False, phone="+1 555") == []
    assert channels_for(consents_to_email=True, email=" ", consents_to_sms=True, phone="") == []
