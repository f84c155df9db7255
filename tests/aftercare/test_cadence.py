"""The check-in series after induction: worked examples and properties, on plain dates (no database)."""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kap_clinic.rules.checkin_cadence import checkin_dates, checkin_window

DAY = date(2026, 3, 2)  # a Monday


def test_default_series_is_four_weekly_then_every_three_weeks_for_six_months():
    days = checkin_dates(DAY)
    assert days[:4] == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]
    assert days[4:6] == [date(2026, 4, 20), date(2026, 5, 11)]
    assert days[-1] <= DAY + timedelta(weeks=26)
    # 4 weekly (to week 4), then weeks 7, 10, 13, 16, 19, 22, 25
    assert len(days) == 11


def test_series_stops_at_the_horizon():
    assert checkin_dates(DAY, weekly=4, later_every_weeks=2, horizon_weeks=3) == [
        date(2026, 3, 9),
        date(2026, 3, 16),
        date(2026, 3, 23),
    ]


def test_no_weekly_part_goes_straight_to_the_longer_interval():
    assert checkin_dates(DAY, weekly=0, later_every_weeks=4, horizon_weeks=12) == [
        date(2026, 3, 30),
        date(2026, 4, 27),
        date(2026, 5, 25),
    ]


@pytest.mark.parametrize("kwargs", [{"weekly": -1}, {"later_every_weeks": 0}, {"horizon_weeks": 0}])
def test_nonsense_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        checkin_dates(DAY, **kwargs)


def test_window_opens_at_nine_is_due_three_days_later_and_closes_a_week_after_that():
    window = checkin_window(date(2026, 3, 9))
    assert window.opens == datetime(2026, 3, 9, 9, 0)
    assert window.due == datetime(2026, 3, 12, 9, 0)
    assert window.closes == datetime(2026, 3, 19, 9, 0)


def test_window_times_are_wall_clock_across_a_daylight_saving_change():
    # US clocks go forward on 8 March 2026; a local window keeps 09:00 on both sides of it.
    window = checkin_window(date(2026, 3, 6), opens_at=time(9, 0))
    assert window.opens.time() == window.due.time() == window.closes.time() == time(9, 0)


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    weekly=st.integers(min_value=0, max_value=8),
    later=st.integers(min_value=1, max_value=6),
    horizon=st.integers(min_value=1, max_value=80),
)
def test_series_properties(start, weekly, later, horizon):
    days = checkin_dates(start, weekly=weekly, later_every_weeks=later, horizon_weeks=horizon)
    assert days == sorted(set(days)), "strictly increasing, no day twice"
    assert all(start < day <= start + timedelta(weeks=horizon) for day in days)
    gaps = [(b - a).days for a, b in zip([start, *days], days, strict=False)]
    assert all(gap == 7 for gap in gaps[:weekly])
    assert all(gap == 7 * later for gap in gaps[weekly:])
    # Nothing that fits before the horizon is left out.
    next_gap = 7 if len(days) < weekly else 7 * later
    assert (days[-1] if days else start) + timedelta(days=next_gap) > start + timedelta(weeks=horizon)


@given(day=st.dates(), due=st.integers(min_value=1, max_value=14), closes=st.integers(min_value=0, max_value=30))
def test_window_is_ordered(day, due, closes):
    try:
        window = checkin_window(day, due_after_days=due, closes_after_due_days=closes)
    except OverflowError:
        return
    assert window.opens < window.due <= window.closes
