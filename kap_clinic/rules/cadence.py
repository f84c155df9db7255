"""Dosing-series scheduling: a protocol's cadence, a start date, the clinic calendar and the patient's availability
turned into planned slots, each move explained in plain words.

Pure Python (standard library only, no Django imports), so the arithmetic is unit-tested without a database. Every
date and time here is LOCAL clinic wall-clock time (`date`, `time`, naive `datetime`); the caller converts to and
from the aware UTC datetimes the models store.

How a series is planned:

- Weeks are counted from the first dose date, as the Spravato label does (docs/clinical-references.md#spravato): week 1
is days 0-6
  after the first dose. The first dose goes on `first_day` (or the first preferred weekday on or after it); if that
  day can't host it, it moves to the first usable day and the weeks are counted from the day it actually lands on.
- Within a week the target days are spread evenly (2 a week: day offsets 0 and 3; 3 a week: 0, 2 and 4) or taken
  from the rule's preferred weekdays (the first matching weekdays on or after the week's first day).
- A slot that can't go on its target day moves LATER, never earlier, to the first usable moment; later slots move
  only as far as they have to. Each move records its cause in `PlannedSlot.reasons`.
- A phase defined by `sessions` continues week after week until its count is met, and the next phase starts the
  week after its last slot. A phase defined by `weeks` keeps its weeks anchored on the first dose date, whatever
  happened to earlier slots.
- No week (counted from the first dose) holds more sessions than its phase's `per_week`. In a phase defined by
  `weeks` (the Spravato label's weeks 1-4 and 5-8) a slot that can't be placed inside its own week is skipped, not
  crowded into the next one: the label's rule for a missed dose is to carry on with the schedule
  (docs/clinical-references.md#spravato), so three doses never land in week 4 because week 3 had a closed day. A phase
  defined by `sessions` instead carries the slot on to the next week with room.
- The minimum interval is real elapsed time: with the clinic's time zone in `ClinicCalendar.tz`, two starts 48 wall-
  clock hours apart across the spring daylight-saving change are only 47 hours apart, and the later one moves.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple

__all__ = [
    "ANY_TIME",
    "DEFAULT_RULES",
    "Availability",
    "CadenceRule",
    "ClinicCalendar",
    "Phase",
    "PlannedSlot",
    "Route",
    "SchedulingError",
    "booster_slot",
    "check_series",
    "elapsed",
    "label_schedule",
    "plan_series",
    "reschedule",
    "week_cap_problems",
]

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_PLURALS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Route(StrEnum):
    IV = "iv"
    IM = "im"
    INTRANASAL = "intranasal"
    SUBLINGUAL = "sublingual"
    ORAL = "oral"


class SchedulingError(ValueError):
    """No usable slot was found within the search window."""

    last_cause: str | None = None  # the plain-words reason the last day in the window was refused


@dataclass(frozen=True)
class Phase:
    """One stretch of a series at a single rhythm ("induction", "maintenance", ...).

    With both `sessions` and `weeks` set, `sessions` is the count and `weeks` still anchors the next phase.
    """

    name: str
    sessions: int | None  # how many sessions the phase holds; None: weeks * per_week, every_weeks respected
    per_week: int = 1  # sessions per active week: 1, 2 or 3
    weeks: int | None = None  # the phase's length in weeks, when it is defined by weeks (Spravato weeks 1-4, 5-8)
    every_weeks: int = 1  # 2 = every other week

    def __post_init__(self):
        if not self.name:
            raise ValueError("A phase needs a name.")
        if self.per_week not in (1, 2, 3):
            raise ValueError(f"Phase {self.name!r}: sessions per week must be 1, 2 or 3, not {self.per_week}.")
        if self.every_weeks < 1:
            raise ValueError(f"Phase {self.name!r}: every_weeks must be 1 or more.")
        if self.sessions is None and self.weeks is None:
            raise ValueError(f"Phase {self.name!r}: give a number of sessions or a number of weeks.")
        if self.sessions is not None and self.sessions < 1:
            raise ValueError(f"Phase {self.name!r}: the number of sessions must be 1 or more.")
        if self.weeks is not None and self.weeks < 1:
            raise ValueError(f"Phase {self.name!r}: the number of weeks must be 1 or more.")

    @property
    def session_count(self) -> int:
        if self.sessions is not None:
            return self.sessions
        return math.ceil(self.weeks / self.every_weeks) * self.per_week


@dataclass(frozen=True)
class CadenceRule:
    route: Route
    phases: tuple[Phase, ...]
    # Never two doses closer than this, start to start (docs/clinical-references.md#dose-interval).
    min_interval_hours: int = 48
    session_minutes: int = 120  # chair time from arrival to discharge
    preferred_weekdays: tuple[int, ...] = ()  # (0, 2, 4) = Mon/Wed/Fri; () = spread evenly from the start day

    def __post_init__(self):
        if not self.phases:
            raise ValueError("A cadence rule needs at least one phase.")
        if self.min_interval_hours < 0:
            raise ValueError("The minimum interval can't be negative.")
        if self.session_minutes <= 0 or self.session_minutes >= 24 * 60:
            raise ValueError("A session must last more than 0 minutes and less than a day.")
        if any(day not in range(7) for day in self.preferred_weekdays):
            raise ValueError("Preferred weekdays are numbers 0 (Monday) to 6 (Sunday).")
        most = max(phase.per_week for phase in self.phases)
        if self.preferred_weekdays and len(set(self.preferred_weekdays)) < most:
            raise ValueError(f"{most} sessions a week need at least {most} preferred weekdays.")

    @property
    def session_count(self) -> int:
        """How many sessions `plan_series` places for this rule."""
        return sum(phase.session_count for phase in self.phases)


@dataclass(frozen=True)
class ClinicCalendar:
    open_hours: Mapping[int, tuple[time, time]]  # weekday (0=Mon) -> (opens, closes); a missing weekday is closed
    closures: frozenset[date] = frozenset()
    # The clinic's time zone, so that intervals between doses are real elapsed time across daylight-saving changes.
    # None: wall-clock arithmetic (no change of offset), as in the worked examples.
    tz: tzinfo | None = None

    def __post_init__(self):
        for weekday, (opens, closes) in self.open_hours.items():
            if weekday not in range(7):
                raise ValueError("Opening hours are keyed by weekday, 0 (Monday) to 6 (Sunday).")
            if not opens < closes:
                raise ValueError(f"On {_DAY_PLURALS[weekday]} the clinic must open before it closes.")


@dataclass(frozen=True)
class Availability:
    weekdays: frozenset[int] | None = None  # None = any weekday
    earliest: time | None = None  # the patient can't start before
    latest: time | None = None  # ... and must be done by
    unavailable: frozenset[date] = frozenset()

    def __post_init__(self):
        if self.weekdays is not None and any(day not in range(7) for day in self.weekdays):
            raise ValueError("Available weekdays are numbers 0 (Monday) to 6 (Sunday).")
        if self.earliest is not None and self.latest is not None and not self.earliest < self.latest:
            raise ValueError("The patient's earliest time must come before their latest.")


ANY_TIME = Availability()


@dataclass(frozen=True)
class PlannedSlot:
    sequence: int  # 1-based over the whole series
    phase: str
    start: datetime  # naive local
    end: datetime
    reasons: tuple[str, ...]  # plain-words explanation of every move; () when the slot is where it was aimed


# --- Defaults ---------------------------------------------------------------------------------------------------

# docs/clinical-references.md#dose-interval: no regulatory minimum exists for racemic ketamine; 48 h matches IV
# Mon/Wed/Fri and Spravato "twice weekly". [verify with clinical lead]
_MIN_INTERVAL_HOURS = 48


def label_schedule(indication: str = "trd") -> CadenceRule:
    """The Spravato US label schedule (docs/clinical-references.md#spravato) as a rule; week 9+ maintenance is planned
    with boosters."""
    if indication == "trd":
        # Induction weeks 1-4 twice weekly (8 sessions in 28 days), then weeks 5-8 once weekly.
        phases = (
            Phase("induction", None, per_week=2, weeks=4),
            Phase("maintenance", None, per_week=1, weeks=4),
        )
    elif indication == "suicidal_ideation":
        # MDD with acute suicidal ideation or behaviour: 84 mg twice weekly for 4 weeks.
        phases = (Phase("induction", None, per_week=2, weeks=4),)
    else:
        raise ValueError(f"Unknown Spravato indication {indication!r}: use 'trd' or 'suicidal_ideation'.")
    # ≥2 h observation after the last device; a typical visit is 2-2.5 h (docs/clinical-references.md#spravato-visit).
    return CadenceRule(
        route=Route.INTRANASAL, phases=phases, min_interval_hours=_MIN_INTERVAL_HOURS, session_minutes=150
    )


# docs/clinical-references.md#cadence. Each clinic can replace these; they are starting points, not clinical decisions.
DEFAULT_RULES: dict[Route, CadenceRule] = {
    # Six infusions over about two weeks, Mon/Wed/Fri; 40-60 min infusion plus 30-60 min recovery.
    Route.IV: CadenceRule(
        route=Route.IV,
        phases=(Phase("induction", 6, per_week=3),),
        min_interval_hours=_MIN_INTERVAL_HOURS,
        session_minutes=120,
        preferred_weekdays=(0, 2, 4),
    ),
    # Three weekly dosing sessions, each with 2 h preparation before the 2 h session.
    Route.IM: CadenceRule(
        route=Route.IM,
        phases=(Phase("induction", 3, per_week=1),),
        min_interval_hours=_MIN_INTERVAL_HOURS,
        session_minutes=240,
    ),
    Route.INTRANASAL: label_schedule("trd"),
    # Clinic-specific in practice; in-office sessions 1-2 times a week.
    Route.SUBLINGUAL: CadenceRule(
        route=Route.SUBLINGUAL,
        phases=(Phase("induction", 6, per_week=2),),
        min_interval_hours=_MIN_INTERVAL_HOURS,
        session_minutes=150,
    ),
    # Evidence is thin (docs/clinical-references.md#cadence); a short weekly series for clinics that offer it.
    Route.ORAL: CadenceRule(
        route=Route.ORAL,
        phases=(Phase("induction", 4, per_week=1),),
        min_interval_hours=_MIN_INTERVAL_HOURS,
        session_minutes=150,
    ),
}


def induction_bounds(rule: CadenceRule) -> tuple[int, int] | None:
    """How many induction sessions a clinician may choose under this rule, (fewest, most); None when the rule has no
    induction phase of a set number of sessions.

    The protocol's count is the middle: from half of it (at least 1) to twice it (at most 12). A label schedule
    (intranasal esketamine) is fixed by the label: its count is the only choice
    (docs/clinical-references.md#spravato)."""
    phase = next((p for p in rule.phases if p.name == "induction"), None)
    if phase is None:
        return None
    count = phase.session_count
    if rule.route == Route.INTRANASAL or phase.sessions is None:
        return (count, count)
    return (max(1, math.ceil(count / 2)), max(count, min(12, count * 2)))


def with_induction_sessions(rule: CadenceRule, sessions: int, bounds: tuple[int, int] | None = None) -> CadenceRule:
    """The rule with its induction phase holding `sessions` sessions; ValueError outside `bounds` (the clinic's own,
    as a protocol sets them), or outside `induction_bounds` when none are given."""
    if next((p for p in rule.phases if p.name == "induction"), None) is None:
        raise ValueError("This protocol has no induction phase whose number of sessions can be chosen.")
    if bounds is None:
        bounds = induction_bounds(rule)
    if bounds is None:
        raise ValueError("This protocol has no induction phase whose number of sessions can be chosen.")
    low, high = bounds
    if not low <= sessions <= high:
        if low == high:
            raise ValueError(f"This protocol's induction is {low} sessions.")
        raise ValueError(f"Choose between {low} and {high} induction sessions for this protocol.")
    if sessions == next(p for p in rule.phases if p.name == "induction").session_count:
        return rule
    phases = tuple(replace(p, sessions=sessions) if p.name == "induction" else p for p in rule.phases)
    return replace(rule, phases=phases)


# --- Wording ----------------------------------------------------------------------------------------------------


def _day_label(day: date) -> str:
    return f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"


def _moment_label(moment: datetime) -> str:
    return f"{_day_label(moment.date())} {moment:%H:%M}"


def _weekday_list(weekdays: frozenset[int]) -> str:
    names = [_DAY_PLURALS[day] for day in sorted(weekdays)]
    if not names:
        return "no day of the week"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _hours(delta: timedelta) -> str:
    return f"{round(delta.total_seconds() / 3600, 1):g}"


# --- Real elapsed time -------------------------------------------------------------------------------------------


def _utc(moment: datetime, tz: tzinfo | None) -> datetime:
    # A naive local time as a UTC instant. (Subtracting two aware datetimes sharing one tzinfo would compare wall
    # clocks again, so both sides go through UTC.)
    return moment.replace(tzinfo=tz).astimezone(UTC) if tz is not None else moment


def elapsed(earlier: datetime, later: datetime, tz: tzinfo | None = None) -> timedelta:
    """Real time between two naive local clinic times (wall-clock difference when `tz` is None)."""
    return _utc(later, tz) - _utc(earlier, tz)


def _after_real(moment: datetime, delta: timedelta, tz: tzinfo | None) -> datetime:
    """The naive local time `delta` of real time after `moment`."""
    if tz is None:
        return moment + delta
    return (_utc(moment, tz) + delta).astimezone(tz).replace(tzinfo=None)


# --- Days, windows and lower bounds ------------------------------------------------------------------------------


def _require_naive(value: datetime | time | None, name: str) -> None:
    if value is not None and value.tzinfo is not None:
        raise ValueError(f"{name} must be a naive local clinic time; convert from UTC first.")


def _ceil_minute(moment: datetime) -> datetime:
    if moment.second or moment.microsecond:
        return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return moment


class _Refusal(NamedTuple):
    """Why a day can't host a slot; `dated` when the wording only holds for that one day."""

    text: str
    dated: bool


def _day_conflict(day: date, calendar: ClinicCalendar, availability: Availability) -> _Refusal | None:
    """Why nobody can be dosed on this day at all, or None when the day is usable."""
    if day in calendar.closures:
        return _Refusal("the clinic is closed that day", dated=True)
    if day.weekday() not in calendar.open_hours:
        return _Refusal(f"the clinic is closed on {_DAY_PLURALS[day.weekday()]}", dated=True)
    if day in availability.unavailable:
        return _Refusal("the patient is unavailable that day", dated=True)
    if availability.weekdays is not None and day.weekday() not in availability.weekdays:
        return _Refusal(f"the patient is available only on {_weekday_list(availability.weekdays)}", dated=False)
    return None


@dataclass(frozen=True)
class _Window:
    """The part of a usable day when a session may run: clinic hours narrowed to the patient's window."""

    day: date
    opens: time
    closes: time
    low: datetime
    high: datetime
    low_cause: str
    high_cause: str

    def describe(self, availability: Availability) -> str:
        text = f"the clinic is open {self.opens:%H:%M}-{self.closes:%H:%M} that day"
        patient = []
        if availability.earliest is not None and availability.earliest > self.opens:
            patient.append(f"can't start before {availability.earliest:%H:%M}")
        if availability.latest is not None and availability.latest < self.closes:
            patient.append(f"must be done by {availability.latest:%H:%M}")
        if patient:
            text += " and the patient " + " and ".join(patient)
        return text


def _window(day: date, calendar: ClinicCalendar, availability: Availability) -> _Window:
    opens, closes = calendar.open_hours[day.weekday()]
    low, low_cause = opens, f"the clinic opens at {opens:%H:%M}"
    if availability.earliest is not None and availability.earliest > opens:
        low, low_cause = availability.earliest, f"the patient can't start before {availability.earliest:%H:%M}"
    high, high_cause = closes, f"the clinic closes at {closes:%H:%M}"
    if availability.latest is not None and availability.latest < closes:
        high, high_cause = availability.latest, f"the patient must be done by {availability.latest:%H:%M}"
    return _Window(day, opens, closes, datetime.combine(day, low), datetime.combine(day, high), low_cause, high_cause)


@dataclass(frozen=True)
class _Bound:
    """A moment before which the slot may not start, and why."""

    moment: datetime
    cause: str


def _bounds_after(
    previous: PlannedSlot | None, rule: CadenceRule, after: datetime | None, tz: tzinfo | None = None
) -> list[_Bound]:
    bounds = []
    if previous is not None:
        hours = rule.min_interval_hours
        bounds.append(
            _Bound(
                _ceil_minute(_after_real(previous.start, timedelta(hours=hours), tz)),
                f"doses must be at least {hours} hours apart and the previous one starts "
                f"{_moment_label(previous.start)}",
            )
        )
        # docs/clinical-references.md#dose-interval: same-calendar-day double dosing is blocked whatever the interval
        # setting.
        next_day = datetime.combine(previous.start.date() + timedelta(days=1), time())
        same_day = f"only one dosing session a day, and the previous one is on {_day_label(previous.start.date())}"
        bounds.append(_Bound(next_day, same_day))
    if after is not None:
        bounds.append(_Bound(_ceil_minute(after), f"no session may start before {_moment_label(after)}"))
    return bounds


def _find_start(
    target: date,
    desired: time | None,
    bounds: list[_Bound],
    rule: CadenceRule,
    calendar: ClinicCalendar,
    availability: Availability,
    *,
    max_days: int,
    what: str,
    origin: str | None = None,
) -> tuple[datetime, tuple[str, ...]]:
    """The first usable start on or after `target` that respects every bound, with the reasons it moved.

    `desired` is the wished-for time of day (None: as early as the day allows). `origin` names where the slot came
    from in the first reason (default: the target day).
    """
    duration = timedelta(minutes=rule.session_minutes)
    bound = max(bounds, key=lambda b: b.moment) if bounds else None
    reasons: list[str] = []
    last_cause = None
    day = target
    while day <= target + timedelta(days=max_days):
        outcome = _day_cause_or_start(day, desired, bound, duration, calendar, availability)
        if isinstance(outcome, _Refusal):
            # A run of days refused for one cause that doesn't depend on the date (too soon after the previous
            # dose, the patient's weekdays) is explained once; date-specific causes are named day by day.
            if outcome.text != last_cause or outcome.dated:
                if reasons:
                    reasons.append(f"Not {_day_label(day)} either: {outcome.text}.")
                else:
                    reasons.append(f"Moved from {origin or _day_label(day)}: {outcome.text}.")
                last_cause = outcome.text
            day += timedelta(days=1)
            continue
        start, wished, time_cause = outcome
        if time_cause is not None:
            if origin is not None and not reasons:
                reasons.append(f"Moved from {origin} to {start:%H:%M}: {time_cause}.")
            else:
                reasons.append(f"Starts at {start:%H:%M} rather than {wished:%H:%M}: {time_cause}.")
        return start, tuple(reasons)
    error = SchedulingError(
        f"No usable slot for {what} within {max_days} days of {_day_label(target)}; last reason: {last_cause}."
    )
    error.last_cause = last_cause
    raise error


def _day_cause_or_start(
    day: date,
    desired: time | None,
    bound: _Bound | None,
    duration: timedelta,
    calendar: ClinicCalendar,
    availability: Availability,
) -> _Refusal | tuple[datetime, datetime, str | None]:
    """Why `day` can't host the slot, or (start, wished-for start, why they differ or None)."""
    if bound is not None and day < bound.moment.date():
        return _Refusal(bound.cause, dated=False)
    conflict = _day_conflict(day, calendar, availability)
    if conflict is not None:
        return conflict
    window = _window(day, calendar, availability)
    minutes = int(duration.total_seconds() // 60)
    latest_start = window.high - duration
    if latest_start < window.low:
        return _Refusal(f"a {minutes}-minute session doesn't fit: {window.describe(availability)}", dated=True)
    earliest_start = window.low if bound is None else max(window.low, bound.moment)
    if earliest_start > latest_start:
        return _Refusal(
            f"{bound.cause}, and a {minutes}-minute session starting at {earliest_start:%H:%M} "
            f"would not finish by {window.high:%H:%M}",
            dated=True,
        )
    wished = datetime.combine(day, desired) if desired is not None else window.low
    if wished > latest_start:
        ends = wished + duration
        return latest_start, wished, f"a {minutes}-minute session would end at {ends:%H:%M}; {window.high_cause}"
    if bound is not None and wished < bound.moment and bound.moment > window.low:
        return bound.moment, wished, bound.cause
    if wished < window.low:
        return window.low, wished, window.low_cause
    return wished, wished, None


def _week_days(anchor: date, week: int, per_week: int, preferred: frozenset[int]) -> list[date]:
    """Target days in week `week` (0-based) counted from `anchor`."""
    week_start = anchor + timedelta(days=7 * week)
    if preferred:
        days = [week_start + timedelta(days=n) for n in range(7)]
        return [day for day in days if day.weekday() in preferred][:per_week]
    # Spread evenly: 2 a week -> offsets 0 and 3; 3 a week -> 0, 2 and 4.
    return [week_start + timedelta(days=(7 * n) // per_week) for n in range(per_week)]


def _phase_targets(anchor: date, start_week: int, phase: Phase, preferred: frozenset[int]) -> list[date]:
    targets: list[date] = []
    week = start_week
    while len(targets) < phase.session_count:
        targets.extend(_week_days(anchor, week, phase.per_week, preferred))
        week += phase.every_weeks
    return targets[: phase.session_count]


# --- Public functions --------------------------------------------------------------------------------------------


def plan_series(
    rule: CadenceRule,
    first_day: date,
    calendar: ClinicCalendar,
    availability: Availability = ANY_TIME,
    *,
    start_time: time | None = None,
    after: datetime | None = None,
    max_days: int = 180,
) -> list[PlannedSlot]:
    """Every session of the rule's phases, in order, on usable days, at least the minimum interval apart.

    Each slot starts at `start_time` (default: the clinic's opening time that day, never before the patient's
    earliest), or the latest start that still fits that day. No slot starts before `after`. Raises SchedulingError
    when a slot can't be placed within `max_days` of its target day.
    """
    if isinstance(first_day, datetime):
        raise ValueError("first_day must be a date, not a datetime.")
    _require_naive(after, "after")
    _require_naive(start_time, "start_time")
    preferred = frozenset(rule.preferred_weekdays)
    duration = timedelta(minutes=rule.session_minutes)
    slots: list[PlannedSlot] = []
    anchor: date | None = None
    missed: list[str] = []  # why a week holds fewer sessions than its phase's rhythm; told on the next slot

    def week_of(day: date) -> int:
        return (day - anchor).days // 7

    def in_week(week: int) -> int:
        return sum(1 for slot in slots if week_of(slot.start.date()) == week)

    def place(target: date, phase: Phase) -> None:
        sequence = len(slots) + 1
        previous = slots[-1] if slots else None
        own_week = week_of(target) if anchor is not None else None
        window = max_days
        if own_week is not None and phase.weeks is not None:
            # A label week's slot stays in its week (docs/clinical-references.md#spravato: a missed dose is not made
            # up).
            window = min(max_days, (anchor + timedelta(days=7 * own_week + 6) - target).days)
        carried: list[str] = []
        while True:
            try:
                start, reasons = _find_start(
                    target,
                    start_time,
                    _bounds_after(previous, rule, after, calendar.tz),
                    rule,
                    calendar,
                    availability,
                    max_days=window,
                    what=f"session {sequence} ({phase.name})",
                )
            except SchedulingError as exc:
                if window == max_days:
                    raise
                week_start = anchor + timedelta(days=7 * own_week)
                earlier = None
                if target > week_start:
                    # Nothing later in the week: an earlier day of the same week, still after the previous dose,
                    # keeps the week's count (the only case where a slot moves earlier than its target).
                    try:
                        earlier, _ = _find_start(
                            week_start,
                            start_time,
                            _bounds_after(previous, rule, after, calendar.tz),
                            rule,
                            calendar,
                            availability,
                            max_days=6,
                            what=f"session {sequence} ({phase.name})",
                        )
                    except SchedulingError:
                        earlier = None
                if earlier is None or earlier.date() >= target or in_week(own_week) >= phase.per_week:
                    missed.append(_missed_note(anchor, own_week, phase, in_week(own_week), exc.last_cause))
                    return
                start = earlier
                reasons = (
                    f"Moved from {_day_label(target)} to {_day_label(start.date())}, earlier in the same week: "
                    f"no later day that week works ({exc.last_cause}).",
                )
                break
            if own_week is None:
                break
            week = week_of(start.date())
            if in_week(week) < phase.per_week:
                break
            # The week this slot would land in already holds its phase's sessions.
            if phase.weeks is not None:
                missed.append(_missed_note(anchor, own_week, phase, in_week(own_week), "that week is full"))
                return
            target = anchor + timedelta(days=7 * (week + 1))
            carried.append(
                f"Week {week + 1} already has {phase.per_week} session{'s' if phase.per_week > 1 else ''}; "
                f"carried on to the week from {_day_label(target)}."
            )
        notes = (*missed, *carried, *reasons)
        missed.clear()
        slots.append(PlannedSlot(sequence, phase.name, start, start + duration, notes))

    start_week = 0
    for phase in rule.phases:
        if anchor is None:
            place(_week_days(first_day, 0, phase.per_week, preferred)[0], phase)
            # The label counts weeks from the first dose, so the weeks start on the day it actually lands on.
            anchor = slots[0].start.date()
            targets = _phase_targets(anchor, 0, phase, preferred)[1:]
        else:
            targets = _phase_targets(anchor, start_week, phase, preferred)
        for target in targets:
            place(target, phase)
        if phase.weeks is not None:
            start_week += phase.weeks
        else:
            start_week = (slots[-1].start.date() - anchor).days // 7 + 1
    if missed and slots:
        last = slots[-1]
        slots[-1] = PlannedSlot(last.sequence, last.phase, last.start, last.end, (*last.reasons, *missed))
    return slots


def _missed_note(anchor: date, week: int, phase: Phase, placed: int, cause: str | None) -> str:
    first = anchor + timedelta(days=7 * week)
    last = first + timedelta(days=6)
    return (
        f"Week {week + 1} ({_day_label(first)} to {_day_label(last)}) has {placed} session"
        f"{'' if placed == 1 else 's'} instead of {phase.per_week}: {cause or 'no usable day'}. "
        "A missed session is not made up in a later week; the schedule carries on."
    )


def week_cap_problems(starts: Sequence[datetime], rule: CadenceRule, anchor: date) -> list[str]:
    """Label weeks (counted from the first dose on `anchor`) that hold more doses than their phase allows.

    Only phases defined by weeks are checked (the Spravato label: twice weekly in weeks 1-4, once weekly in weeks
    5-8, docs/clinical-references.md#spravato); `starts` are every active dose of the series, past ones included.
    """
    caps: dict[int, tuple[int, str]] = {}
    week = 0
    for phase in rule.phases:
        if phase.weeks is None:
            break
        for n in range(phase.weeks):
            caps[week + n] = (phase.per_week, phase.name)
        week += phase.weeks
    counts: dict[int, int] = {}
    for start in starts:
        days = (start.date() - anchor).days
        if days >= 0:
            counts[days // 7] = counts.get(days // 7, 0) + 1
    problems = []
    for week, count in sorted(counts.items()):
        if week in caps and count > caps[week][0]:
            cap, name = caps[week]
            first = anchor + timedelta(days=7 * week)
            problems.append(
                f"Week {week + 1} of the series (from {_day_label(first)}) would hold {count} doses; the {name} "
                f"phase allows {cap} a week. A missed dose is not made up: cancel it instead."
            )
    return problems


def reschedule(
    slots: Sequence[PlannedSlot],
    index: int,
    new_start: datetime,
    rule: CadenceRule,
    calendar: ClinicCalendar,
    availability: Availability = ANY_TIME,
    *,
    max_days: int = 180,
) -> list[PlannedSlot]:
    """The series with slot `index` (0-based) moved to `new_start`; later slots move only as far as they must.

    Slots before `index` are returned unchanged. Raises ValueError, in plain words, when `new_start` is not a usable
    moment; SchedulingError when a later slot can't be placed within `max_days`.
    """
    _require_naive(new_start, "new_start")
    if not 0 <= index < len(slots):
        raise ValueError(f"There is no slot {index} in a series of {len(slots)}.")
    moved = slots[index]
    previous = slots[index - 1] if index else None
    problems = _start_problems(new_start, previous, rule, calendar, availability)
    if problems:
        raise ValueError(
            f"Can't move session {moved.sequence} to {_moment_label(new_start)}: " + "; ".join(problems) + "."
        )
    duration = timedelta(minutes=rule.session_minutes)
    result = list(slots[:index])
    result.append(
        PlannedSlot(
            moved.sequence,
            moved.phase,
            new_start,
            new_start + duration,
            (*moved.reasons, f"Rescheduled from {_moment_label(moved.start)}."),
        )
    )
    interval = timedelta(hours=rule.min_interval_hours)
    for slot in slots[index + 1 :]:
        before = result[-1]
        if elapsed(before.start, slot.start, calendar.tz) >= interval and slot.start.date() > before.start.date():
            result.append(slot)
            continue
        start, reasons = _find_start(
            slot.start.date(),
            None,
            _bounds_after(before, rule, None, calendar.tz),
            rule,
            calendar,
            availability,
            max_days=max_days,
            what=f"session {slot.sequence} ({slot.phase})",
            origin=_moment_label(slot.start),
        )
        result.append(PlannedSlot(slot.sequence, slot.phase, start, start + duration, (*slot.reasons, *reasons)))
    return result


def booster_slot(
    last_dose: datetime,
    interval_days: int,
    rule: CadenceRule,
    calendar: ClinicCalendar,
    availability: Availability = ANY_TIME,
    *,
    start_time: time | None = None,
    phase: str = "booster",
    sequence: int = 1,
    max_days: int = 180,
) -> PlannedSlot:
    """The first usable slot on or after `interval_days` after the last dose, and at least the minimum interval."""
    _require_naive(last_dose, "last_dose")
    _require_naive(start_time, "start_time")
    if interval_days < 1:
        # 0 days would put the booster on the dosing day itself: refused, never quietly replaced by another interval.
        raise ValueError("A booster interval must be at least 1 day.")
    last = PlannedSlot(0, "", last_dose, last_dose, ())
    start, reasons = _find_start(
        last_dose.date() + timedelta(days=interval_days),
        start_time,
        _bounds_after(last, rule, None, calendar.tz),
        rule,
        calendar,
        availability,
        max_days=max_days,
        what=f"the {phase}",
    )
    return PlannedSlot(sequence, phase, start, start + timedelta(minutes=rule.session_minutes), reasons)


def _start_problems(
    start: datetime,
    previous: PlannedSlot | None,
    rule: CadenceRule,
    calendar: ClinicCalendar,
    availability: Availability,
) -> list[str]:
    """Why a session of this rule can't start at `start` after `previous`; [] when it can."""
    problems = []
    conflict = _day_conflict(start.date(), calendar, availability)
    if conflict is not None:
        problems.append(conflict.text)
    else:
        window = _window(start.date(), calendar, availability)
        end = start + timedelta(minutes=rule.session_minutes)
        if start < window.low:
            problems.append(window.low_cause)
        if end > window.high:
            problems.append(f"it would end at {end:%H:%M} and {window.high_cause}")
    if previous is not None:
        if start.date() <= previous.start.date():
            problems.append(f"it must fall on a later day than the previous session ({_moment_label(previous.start)})")
        elif elapsed(previous.start, start, calendar.tz) < timedelta(hours=rule.min_interval_hours):
            problems.append(
                f"it is only {_hours(elapsed(previous.start, start, calendar.tz))} hours after the previous session "
                f"({_moment_label(previous.start)}); doses must be at least {rule.min_interval_hours} hours apart"
            )
    return problems


def check_series(
    slots: Sequence[PlannedSlot],
    rule: CadenceRule,
    calendar: ClinicCalendar,
    availability: Availability = ANY_TIME,
) -> list[str]:
    """Problems with a series in plain words, one per line; [] when every slot is usable and spaced well."""
    problems = []
    duration = timedelta(minutes=rule.session_minutes)
    for slot in slots:
        label = f"Session {slot.sequence} ({_moment_label(slot.start)})"
        if slot.end - slot.start != duration:
            problems.append(
                f"{label} lasts {int((slot.end - slot.start).total_seconds() // 60)} minutes; "
                f"a session takes {rule.session_minutes}."
            )
        for problem in _start_problems(slot.start, None, rule, calendar, availability):
            problems.append(f"{label}: {problem}.")
    for before, slot in pairwise(slots):
        label = f"Session {slot.sequence} ({_moment_label(slot.start)})"
        if slot.start <= before.start:
            problems.append(f"{label} is not after session {before.sequence} ({_moment_label(before.start)}).")
        elif slot.start.date() == before.start.date():
            problems.append(f"{label} is on the same day as session {before.sequence}; only one dosing session a day.")
        elif elapsed(before.start, slot.start, calendar.tz) < timedelta(hours=rule.min_interval_hours):
            problems.append(
                f"{label} is only {_hours(elapsed(before.start, slot.start, calendar.tz))} hours after session "
                f"{before.sequence}; "
                f"doses must be at least {rule.min_interval_hours} hours apart."
            )
    return problems
