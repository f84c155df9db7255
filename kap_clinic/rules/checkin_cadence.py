"""Aftercare scheduling arithmetic: the check-in series after induction, as pure functions on local dates.

No Django imports: the services turn these clinic-local dates and wall-clock times into aware datetimes.

Clinical source: docs/clinical-references.md#check-ins re-administers PHQ-9 (± GAD-7) "at each aftercare check-in (e.g.
weekly × 4 after induction, then every 2–4 weeks)". The defaults below follow it, with 3 weeks as the middle of that
range and a six-month horizon; each is a parameter, since the integration cadence is a care-plan template
(docs/clinical-references.md#integration), not a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

WEEKLY_CHECKINS = 4
LATER_EVERY_WEEKS = 3
HORIZON_WEEKS = 26

# The window of one check-in, in clinic-local time: it opens in the morning, is due three days later and may
# still be filled for a week after that; then it counts as missed.
OPENS_AT = time(9, 0)
DUE_AFTER_DAYS = 3
CLOSES_AFTER_DUE_DAYS = 7


def checkin_dates(
    induction_ended_on: date,
    *,
    weekly: int = WEEKLY_CHECKINS,
    later_every_weeks: int = LATER_EVERY_WEEKS,
    horizon_weeks: int = HORIZON_WEEKS,
) -> list[date]:
    """The days check-ins open: `weekly` one week apart, then every `later_every_weeks` weeks.

    Counted from the day induction ended; every date falls after it and no later than `horizon_weeks` weeks on.
    """
    if weekly < 0:
        raise ValueError("weekly must not be negative")
    if later_every_weeks < 1:
        raise ValueError("later_every_weeks must be at least 1")
    if horizon_weeks < 1:
        raise ValueError("horizon_weeks must be at least 1")
    last = induction_ended_on + timedelta(weeks=horizon_weeks)
    days = []
    day = induction_ended_on
    for _ in range(weekly):
        day += timedelta(weeks=1)
        if day > last:
            return days
        days.append(day)
    while True:
        day += timedelta(weeks=later_every_weeks)
        if day > last:
            return days
        days.append(day)


@dataclass(frozen=True)
class CheckInWindow:
    """Naive clinic wall-clock times of one check-in."""

    opens: datetime
    due: datetime
    closes: datetime


def checkin_window(
    day: date,
    *,
    opens_at: time = OPENS_AT,
    due_after_days: int = DUE_AFTER_DAYS,
    closes_after_due_days: int = CLOSES_AFTER_DUE_DAYS,
) -> CheckInWindow:
    """Opens on `day` at `opens_at`, due `due_after_days` later, closes `closes_after_due_days` after it is due."""
    if due_after_days < 1 or closes_after_due_days < 0:
        raise ValueError("a check-in is due at least a day after it opens and closes no earlier than it is due")
    opens = datetime.combine(day, opens_at)
    due = opens + timedelta(days=due_after_days)
    return CheckInWindow(opens=opens, due=due, closes=due + timedelta(days=closes_after_due_days))
