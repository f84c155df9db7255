"""The relapse warning on PHQ-9 totals after dosing began, as a pure function.

Clinic policy, DOMAIN.md §5.2 ("suggested booster / review triggers [clinic policy, verify]"): warn when the PHQ-9
rises 5 points or more from its lowest total since the first dosing session, or returns to 10 or more after a
remission score (below 5, DOMAIN §1.3). The software flags; a clinician decides whether to book a booster.
"""

from __future__ import annotations

from collections.abc import Sequence

RISE_POINTS = 5
REMISSION_BELOW = 5
RELAPSE_AT = 10


def relapse_reason(
    earlier: Sequence[int],
    latest: int,
    *,
    rise_points: int = RISE_POINTS,
    remission_below: int = REMISSION_BELOW,
    relapse_at: int = RELAPSE_AT,
) -> str | None:
    """Why the latest PHQ-9 total is a relapse warning given the earlier totals since dosing began; None if not."""
    if not earlier:
        return None
    nadir = min(earlier)
    if latest - nadir >= rise_points:
        return f"PHQ-9 rose {latest - nadir} points from its lowest score since dosing began ({nadir} to {latest})."
    if latest >= relapse_at and nadir < remission_below:
        return f"PHQ-9 back to {latest} after a remission score of {nadir}."
    return None
