"""The relapse warning on PHQ-9 totals after dosing began, as a pure function.

Clinic policy, docs/clinical-references.md#relapse ("suggested booster / review triggers [clinic policy, verify]"): warn
when the PHQ-9 rises 5 points or more from its lowest total since the first dosing session, or returns to 10 or more
after a remission score (below 5, docs/clinical-references.md#outcomes). The software flags; a clinician decides whether
to book a booster.

Against the episode's pre-treatment baseline too (docs/clinical-references.md#outcomes, #clinical-review): a total 5
points or more above the baseline (the minimal clinically important difference, Löwe 2004) warns, and so does
non-response (less than a 50% drop, not in remission) from the second score since dosing began. A patient who stays at
22-24 from a baseline of 23 never rises 5 points from the nadir, so without the baseline nothing fired. Two scores
rather than more is the safer choice: the flag asks a clinician to look, it does not change treatment.
"""

from __future__ import annotations

from collections.abc import Sequence

from kap_clinic.rules.outcomes import Status, change_from_baseline

RISE_POINTS = 5
REMISSION_BELOW = 5
RELAPSE_AT = 10
NON_RESPONSE_AFTER_SCORES = 2


def relapse_reason(
    earlier: Sequence[int],
    latest: int,
    *,
    baseline: int | None = None,
    rise_points: int = RISE_POINTS,
    remission_below: int = REMISSION_BELOW,
    relapse_at: int = RELAPSE_AT,
    non_response_after: int = NON_RESPONSE_AFTER_SCORES,
) -> str | None:
    """Why the latest PHQ-9 total is a warning, given the earlier totals since dosing began and the pre-treatment
    baseline (None when there is none); None if it is not."""
    if earlier:
        nadir = min(earlier)
        if latest - nadir >= rise_points:
            return f"PHQ-9 rose {latest - nadir} points from its lowest score since dosing began ({nadir} to {latest})."
        if latest >= relapse_at and nadir < remission_below:
            return f"PHQ-9 back to {latest} after a remission score of {nadir}."
    if baseline is None:
        return None
    if latest - baseline >= rise_points:
        return f"PHQ-9 {latest} is {latest - baseline} points above the pre-treatment baseline of {baseline}."
    change = change_from_baseline(baseline, latest, remission_below=remission_below)
    if change.status is Status.NON_RESPONSE and len(earlier) + 1 >= non_response_after:
        drop = "no drop" if change.points >= 0 else f"a {-change.percent}% drop" if change.percent else "a small drop"
        return (
            f"Not responding: PHQ-9 {latest} after {len(earlier) + 1} scores since dosing began, {drop} from the "
            f"pre-treatment baseline of {baseline} (response needs 50%)."
        )
    return None
