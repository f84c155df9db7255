"""Booking checks: what the apps above want said (or refused) when sessions are booked or moved.

The scheduling code knows nothing of insurance. An app registers a check in its `AppConfig.ready()`
(`booking_check_register`); planning and rescheduling ask every registered check for a forecast of the sessions being
booked, show it beside the booking (a progress bar of units and the problems found), and refuse a booking a check
marks as blocking unless staff write why (`override_reason`), which the check records.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError

from kap_clinic.kernel.accounts.models import User


@dataclass(frozen=True)
class PlannedSession:
    """One session being booked or moved, in plain values; `before` is the same session as it was booked until now
    (None for a new booking), so a check can tell a change that makes things worse from one that does not."""

    starts_at: datetime
    route: str
    dose: Decimal | None
    dose_unit: str
    pk: int | None = None
    before: "PlannedSession | None" = None


@dataclass(frozen=True)
class BookingForecast:
    """What a check says about a booking: a measure (total, used, booked, planned) over a window, its problems, and
    whether they stop the booking."""

    title: str
    link: str
    total: int
    used: int
    booked: int
    planned: int
    window: str
    problems: tuple[str, ...] = ()
    blocking: bool = False
    reference_id: int | None = None
    measured: bool = True  # False when there is nothing to measure against (no units, no window): no progress bar

    def blocked(self) -> "BookingForecast":
        return replace(self, blocking=True)

    def _percent(self, value: int) -> int:
        """A share of the total in steps of 5 (the progress bar's widths), at least 5 when there is any."""
        if not self.total or value <= 0:
            return 0
        return min(100, max(5, 5 * round(20 * value / self.total)))

    @property
    def used_percent(self) -> int:
        return self._percent(self.used)

    @property
    def booked_percent(self) -> int:
        return max(0, min(100 - self.used_percent, self._percent(self.booked)))

    @property
    def planned_percent(self) -> int:
        return max(0, min(100 - self.used_percent - self.booked_percent, self._percent(self.planned)))

    @property
    def left(self) -> int:
        return self.total - self.used - self.booked - self.planned

    @property
    def over(self) -> int:
        return max(0, -self.left)


BookingCheck = Callable[..., list[BookingForecast]]
_checks: dict[str, BookingCheck] = {}


def booking_check_register(name: str, check: BookingCheck) -> None:
    """Register a check; called from an app's `AppConfig.ready()`.

    `check(*, patient_id, planned, moving, override_reason, by, commit)` returns its forecasts; `moving` are the ids of
    booked sessions being moved or changed (counted as planned, not as booked); `commit` is true when the booking is
    being saved. A forecast blocks only what the change makes worse than the sessions' `before` values: moving a
    session already outside a window to another day outside it warns, it does not newly refuse.
    """
    _checks[name] = check


def booking_forecasts(
    *,
    patient_id: int,
    planned: list[PlannedSession],
    moving: Iterable[int] = (),
    override_reason: str = "",
    by: User | None = None,
    commit: bool = False,
) -> list[BookingForecast]:
    moving = tuple(moving)
    forecasts = []
    for check in _checks.values():
        forecasts += check(
            patient_id=patient_id,
            planned=planned,
            moving=moving,
            override_reason=override_reason,
            by=by,
            commit=commit,
        )
    return forecasts


def booking_checks_enforce(
    *, patient_id: int, planned: list[PlannedSession], moving: Iterable[int] = (), override_reason: str, by: User
) -> list[BookingForecast]:
    """Run the checks for a booking being saved: refuse it when one blocks and no reason is written."""
    forecasts = booking_forecasts(
        patient_id=patient_id, planned=planned, moving=moving, override_reason=override_reason, by=by, commit=True
    )
    blocking = [f for f in forecasts if f.blocking]
    if blocking and not override_reason.strip():
        problems = [problem for forecast in blocking for problem in forecast.problems]
        raise ValidationError(
            problems + ["The clinic refuses these bookings unless you write why in “Book anyway because”."]
        )
    return forecasts
