"""PHQ-9 baseline, response and remission for an episode of care, as pure functions.

docs/clinical-references.md#outcomes, #clinical-review: response is a drop of 50% or more from the baseline (KARE/IV
studies; SUSTAIN-3), remission is a PHQ-9 total below 5 (SUSTAIN-3; Kroenke 2001), and anything else after treatment
began is non-response. The baseline is the last PHQ-9 before the episode's first dosing session ("store baseline per
episode of care; compute % change, response, remission at each administration", docs/clinical-references.md#outcomes
design note). A score recorded after dosing began is never used as the baseline: without a pre-treatment score there is
no baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

RESPONSE_DROP_PERCENT = 50
REMISSION_BELOW = 5


class Status(StrEnum):
    REMISSION = "remission"
    RESPONSE = "response"
    NON_RESPONSE = "non_response"


STATUS_LABELS = {
    Status.REMISSION: "Remission",
    Status.RESPONSE: "Response",
    Status.NON_RESPONSE: "Not responding",
}


@dataclass(frozen=True)
class Change:
    """One PHQ-9 total against the episode's baseline."""

    baseline: int
    total: int
    points: int  # total - baseline: negative is better
    percent: int | None  # change in percent of the baseline, rounded toward zero; None when the baseline is 0
    status: Status

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def summary(self) -> str:
        """E.g. "-12 points (-54%) from baseline 22: Response"."""
        percent = "" if self.percent is None else f" ({self.percent:+d}%)"
        return f"{self.points:+d} points{percent} from baseline {self.baseline}: {self.label}"


def change_from_baseline(
    baseline: int,
    total: int,
    *,
    response_drop_percent: int = RESPONSE_DROP_PERCENT,
    remission_below: int = REMISSION_BELOW,
) -> Change:
    """The change of one PHQ-9 total from the baseline, with its status (remission outranks response)."""
    points = total - baseline
    # Integer arithmetic: a drop of exactly 50% is a response (no float rounding at the boundary).
    percent = None if baseline == 0 else int(points * 100 / baseline)
    if total < remission_below:
        status = Status.REMISSION
    elif baseline > 0 and (baseline - total) * 100 >= response_drop_percent * baseline:
        status = Status.RESPONSE
    else:
        status = Status.NON_RESPONSE
    return Change(baseline=baseline, total=total, points=points, percent=percent, status=status)


@dataclass(frozen=True)
class Episode:
    """The PHQ-9 course of one episode of care: its baseline and every score since dosing began."""

    started_at: datetime | None  # the episode's first dosing session; None when no dose is booked yet
    baseline: int | None
    baseline_at: datetime | None
    changes: tuple[tuple[datetime, Change], ...]  # scores after the first dose, oldest first

    @property
    def latest(self) -> Change | None:
        return self.changes[-1][1] if self.changes else None


def episode(points: Sequence[tuple[datetime, int]], started_at: datetime | None) -> Episode:
    """Baseline and changes from PHQ-9 `(when, total)` points (any order) for an episode starting at `started_at`.

    Before any dose is booked, the latest score is the baseline so far and nothing is compared with it.
    """
    ordered = sorted(points, key=lambda point: point[0])
    if started_at is None:
        before, after = ordered, []
    else:
        before = [point for point in ordered if point[0] <= started_at]
        after = [point for point in ordered if point[0] > started_at]
    if not before:
        return Episode(started_at=started_at, baseline=None, baseline_at=None, changes=())
    baseline_at, baseline = before[-1]
    changes = tuple((at, change_from_baseline(baseline, total)) for at, total in after)
    return Episode(started_at=started_at, baseline=baseline, baseline_at=baseline_at, changes=changes)
