"""Sliding-fee tiers: a household's income against the year's federal poverty guideline for its size.

The common model (HRSA health-center rules, docs/clinical-references.md#self-pay): a full discount at or below
100% of the guideline, no discount above 200%, and tiers in between. The guideline's figures (first person, each
additional person) and the tiers are parameters: the clinic keeps a table per year and sets its own tiers (the billing
app keeps them in a table admins edit, and passes them here as plain values).

Amounts are Decimal or int, never float: comparisons are done in whole cents, so a boundary income falls in the
tier it is written against ("up to and including 100%").
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal


@dataclass(frozen=True)
class Tier:
    name: str
    up_to_percent: int | None  # inclusive upper bound of income as a % of the guideline; None: no upper bound
    discount_percent: int


# The tiers a clinic starts with (seeded into billing's table; admins change them there). Full discount (a nominal
# fee may still be charged) up to 100%; 75/50/25% off up to 125/150/200%; none above 200%.
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("A", 100, 100),
    Tier("B", 125, 75),
    Tier("C", 150, 50),
    Tier("D", 200, 25),
    Tier("Full fee", None, 0),
)

MAX_HOUSEHOLD = 50


def check_tiers(tiers: Sequence[Tier]) -> None:
    """ValueError, in words an admin can act on, unless the tiers (lowest incomes first) are a usable set: bounds
    strictly increasing, so no two tiers overlap; a discount between 0 and 100% that never grows as income rises;
    exactly one tier without an upper bound, the last."""
    if not tiers:
        raise ValueError("There are no sliding-fee tiers: add at least the full-fee tier, without an upper bound.")
    previous = None
    for tier in tiers:
        if not 0 <= tier.discount_percent <= 100:
            raise ValueError(f"Tier {tier.name}: a discount is between 0 and 100%.")
        if tier.up_to_percent is not None and tier.up_to_percent < 1:
            raise ValueError(f"Tier {tier.name}: the upper bound is a percentage of the guideline, at least 1.")
        if previous is not None:
            if previous.up_to_percent is None:
                raise ValueError(
                    f"Tiers {previous.name} and {tier.name} both have no upper bound: only the top tier is open-ended."
                )
            if tier.up_to_percent is not None and tier.up_to_percent <= previous.up_to_percent:
                raise ValueError(
                    f"Tiers {previous.name} and {tier.name} overlap: both end at {tier.up_to_percent}% of the "
                    "guideline. Each tier must end higher than the one below it."
                )
            if tier.discount_percent > previous.discount_percent:
                raise ValueError(
                    f"Tier {tier.name} (incomes above {previous.up_to_percent}% of the guideline) would give a bigger "
                    f"discount ({tier.discount_percent}%) than tier {previous.name} below it "
                    f"({previous.discount_percent}%): discounts must stay the same or fall as income rises."
                )
        previous = tier
    if previous.up_to_percent is not None:
        raise ValueError("The top tier must have no upper bound (the full-fee tier), so every income falls in a tier.")


def ordered(tiers: Sequence[Tier]) -> tuple[Tier, ...]:
    """The tiers lowest incomes first, the open-ended one last."""
    return tuple(sorted(tiers, key=lambda tier: (tier.up_to_percent is None, tier.up_to_percent or 0)))


def poverty_guideline(*, household_size: int, first_person: Decimal | int, each_additional: Decimal | int) -> Decimal:
    """The year's poverty guideline for a household of this size."""
    if not 1 <= household_size <= MAX_HOUSEHOLD:
        raise ValueError(f"A household has between 1 and {MAX_HOUSEHOLD} people.")
    return Decimal(first_person) + Decimal(each_additional) * (household_size - 1)


def tier_for(
    *,
    income: Decimal | int,
    household_size: int,
    first_person: Decimal | int,
    each_additional: Decimal | int,
    tiers: Sequence[Tier],
) -> Tier:
    """The tier a yearly household income falls in: the first whose bound the income does not exceed. `tiers` are
    lowest incomes first (see `check_tiers`): the clinic's, as billing loads them, or DEFAULT_TIERS."""
    income = Decimal(income)
    if income < 0:
        raise ValueError("Income cannot be negative.")
    guideline = poverty_guideline(
        household_size=household_size, first_person=first_person, each_additional=each_additional
    )
    for tier in tiers:
        # income / guideline <= bound / 100, multiplied out so no division rounds a boundary either way
        if tier.up_to_percent is None or income * 100 <= guideline * tier.up_to_percent:
            return tier
    raise ValueError("The tiers must end with one without an upper bound.")


def percent_of_guideline(
    *, income: Decimal | int, household_size: int, first_person: Decimal | int, each_additional: Decimal | int
) -> Decimal:
    """Income as a percentage of the guideline, to one decimal (for display only; tiers compare exactly). Rounded up,
    so an income just above a tier's bound never reads as on it (100.04% shows 100.1%, beside the tier above 100%)."""
    guideline = poverty_guideline(
        household_size=household_size, first_person=first_person, each_additional=each_additional
    )
    return (Decimal(income) * 100 / guideline).quantize(Decimal("0.1"), rounding=ROUND_UP)


def discounted(amount: Decimal, discount_percent: int) -> Decimal:
    """`amount` less the discount, in cents, rounded half up."""
    if not 0 <= discount_percent <= 100:
        raise ValueError("A discount is between 0 and 100%.")
    return (Decimal(amount) * (100 - discount_percent) / 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
