"""When a Good Faith Estimate is owed (No Surprises Act; docs/clinical-references.md#self-pay).

For an uninsured or self-pay patient: a service scheduled at least 3 business days ahead needs the estimate in writing
within 1 business day of scheduling; at least 10 business days ahead, within 3 business days; on request, within 3
business days. A service booked sooner than 3 business days ahead is given the estimate before the service at the
latest. The patient may dispute a bill that is $400 or more above the estimate.

Business days are Monday to Friday, less the holidays passed in.
"""

from collections.abc import Collection
from datetime import date, timedelta
from decimal import Decimal

DISPUTE_THRESHOLD = Decimal("400.00")

# A weight-based dose (mg/kg) for a patient with no weight recorded is estimated at the protocol's highest dose for a
# patient this heavy: the estimate errs high, never below what is billed for want of a weight.
ASSUMED_HEAVIEST_WEIGHT_KG = Decimal("150")


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(day: date, n: int, holidays: Collection[date] = ()) -> date:
    """The n-th business day after `day`."""
    while n > 0:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            n -= 1
    return day


def business_days_between(start: date, end: date, holidays: Collection[date] = ()) -> int:
    """Business days after `start` up to and including `end` (0 when `end` is not after `start`)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            count += 1
    return count


def estimate_due_by(
    *, scheduled_on: date, first_service_on: date, requested: bool = False, holidays: Collection[date] = ()
) -> date:
    """The last day the estimate may be given."""
    if requested:
        return add_business_days(scheduled_on, 3, holidays)
    ahead = business_days_between(scheduled_on, first_service_on, holidays)
    if ahead >= 10:
        return add_business_days(scheduled_on, 3, holidays)
    if ahead >= 3:
        return add_business_days(scheduled_on, 1, holidays)
    return max(scheduled_on, first_service_on)


def exceeds_estimate(*, billed: Decimal, estimated: Decimal) -> bool:
    """Billed charges $400 or more above the estimate: the patient may dispute the bill."""
    return Decimal(billed) - Decimal(estimated) >= DISPUTE_THRESHOLD


def estimated_dose_mg(
    *, planned: Decimal, weight_based: bool, protocol_max: Decimal, weight_kg: Decimal | None
) -> tuple[Decimal, bool]:
    """The milligrams to estimate a session at, and whether a weight was assumed.

    A fixed dose is its milligrams. A weight-based dose (mg/kg) is the planned mg/kg times the patient's recorded
    weight; with no weight recorded, the protocol's highest mg/kg times `ASSUMED_HEAVIEST_WEIGHT_KG` (the higher,
    safer estimate)."""
    if not weight_based:
        return Decimal(planned), False
    if weight_kg:
        return Decimal(planned) * Decimal(weight_kg), False
    return Decimal(protocol_max) * ASSUMED_HEAVIEST_WEIGHT_KG, True
