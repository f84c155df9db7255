"""When reminders go out: pure arithmetic on aware datetimes, with no Django imports.

Times are stored in UTC and worked out in the clinic's time zone:

- An offset of whole days ("48 h before") is counted in calendar days on the clinic's wall clock, so a reminder
  for a 10:00 session goes out at 10:00 two days earlier even when a daylight-saving change falls in between.
  An offset with hours or minutes ("2 h before") is elapsed time.
- A reminder due in quiet hours moves to the end of quiet hours; if that would be at or after the event, it moves
  earlier instead, to the last minute before those quiet hours began.
- A reminder whose time has already passed when it is planned (a late booking) is sent now, unless a shorter
  reminder of the same event is also already due: the patient gets one message, the most recent one. Likewise a
  reminder that quiet hours push to or past a shorter one is dropped.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DAY = timedelta(days=1)
# Quiet hours when the configured ones cannot be read (settings REMINDER_QUIET_START/END).
DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)


@dataclass(frozen=True)
class QuietHours:
    """No message is sent from `start` to `end` on the clinic's wall clock; the window may cross midnight."""

    start: time
    end: time

    def _window_containing(self, local: datetime) -> tuple[datetime, datetime] | None:
        """The quiet window (naive wall-clock start, end) that holds `local` (naive), or None."""
        if self.start == self.end:
            return None
        day = local.date()
        for first in (day - DAY, day):
            begins = datetime.combine(first, self.start)
            ends = datetime.combine(first if self.start < self.end else first + DAY, self.end)
            if begins <= local < ends:
                return begins, ends
        return None

    def contains(self, moment: datetime, tz: tzinfo) -> bool:
        return self._window_containing(wall_clock(moment, tz)) is not None

    def adjust(self, moment: datetime, event_at: datetime, tz: tzinfo) -> datetime:
        """`moment` moved out of quiet hours: to their end, or, when that is too late for the event, before them."""
        moment, event_at = moment.astimezone(UTC), event_at.astimezone(UTC)
        window = self._window_containing(wall_clock(moment, tz))
        if window is None:
            return moment
        begins, ends = window
        after = to_aware(ends, tz)
        if after < event_at:
            return after
        return to_aware(begins - timedelta(minutes=1), tz)


def wall_clock(moment: datetime, tz: tzinfo) -> datetime:
    """Aware moment -> naive wall-clock time in `tz`."""
    return moment.astimezone(tz).replace(tzinfo=None)


def to_aware(local: datetime, tz: tzinfo) -> datetime:
    """Naive wall-clock time in `tz` -> aware moment in UTC.

    A wall-clock time that does not exist (the hour skipped in spring) lands just after the gap, e.g. 02:30 on the
    spring-forward day in New York is 03:30 EDT; one that happens twice (autumn) is the first of the two.
    """
    # zoneinfo gives a time in the gap the offset from before the change, which in UTC is the wall-clock time after
    # it. Answers are in UTC because Python compares and subtracts datetimes sharing one tzinfo by wall clock.
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def reminder_time(event_at: datetime, offset: timedelta, tz: tzinfo) -> datetime:
    """When a reminder `offset` before `event_at` is due, before quiet hours (see the module docstring)."""
    if offset % DAY == timedelta(0):
        return to_aware(wall_clock(event_at, tz) - offset, tz)
    return event_at.astimezone(UTC) - offset


@dataclass(frozen=True)
class PlannedReminder:
    rule_key: object
    due_at: datetime


def plan_reminders(
    event_at: datetime,
    offsets: dict[object, timedelta],
    *,
    now: datetime,
    tz: tzinfo,
    quiet: QuietHours,
    until: datetime | None = None,
) -> list[PlannedReminder]:
    """The reminders for one event: rule key -> offset before the event, answered with each one's due time.

    A reminder is of use only before `until` (by default the event itself; a check-in's opening is worth reminding
    of until it is due, its overdue nudge until it closes). A negative offset counts after the event.

    Nothing is planned once `until` has passed. A reminder already overdue goes out now (or when quiet hours end),
    unless a reminder due later is overdue as well; a reminder that cannot go out between now and `until`, outside
    quiet hours, is dropped.
    """
    event_at, now = event_at.astimezone(UTC), now.astimezone(UTC)
    until = event_at if until is None else until.astimezone(UTC)
    if until <= now:
        return []
    ideal = {key: reminder_time(event_at, offset, tz) for key, offset in offsets.items()}
    overdue = [key for key, at in ideal.items() if at <= now]
    latest_overdue = min(overdue, key=lambda key: offsets[key]) if overdue else None
    planned = []
    for key, at in ideal.items():
        if at <= now:
            if key != latest_overdue:
                continue
            at = now.replace(second=0, microsecond=0)
        due = quiet.adjust(at, until, tz)
        if due >= until or due < now.replace(second=0, microsecond=0):
            continue
        planned.append(PlannedReminder(rule_key=key, due_at=due))
    # A reminder pushed to or past a shorter one (a late booking, quiet hours) would only repeat it: keep the shorter.
    kept = [
        p
        for p in planned
        if not any(offsets[q.rule_key] < offsets[p.rule_key] and q.due_at <= p.due_at for q in planned)
    ]
    return sorted(kept, key=lambda p: p.due_at)


def channels_for(*, consents_to_email: bool, email: str, consents_to_sms: bool, phone: str) -> list[str]:
    """The channels a patient may be reached on: only with their consent and an address to reach."""
    channels = []
    if consents_to_email and email.strip():
        channels.append("email")
    if consents_to_sms and phone.strip():
        channels.append("sms")
    return channels


def parse_clock(text: str) -> time:
    """ "HH:MM" on a 24-hour clock; ValueError for anything else."""
    hours, minutes = text.strip().split(":")
    if len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"not a HH:MM time: {text!r}")
    return time(int(hours), int(minutes))


def parse_clock_or(text: str, default: time) -> time:
    """`parse_clock`, or `default` when the text is not a time (the configuration check reports it)."""
    try:
        return parse_clock(text)
    except (ValueError, AttributeError):
        return default


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()
