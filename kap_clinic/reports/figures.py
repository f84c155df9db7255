"""What the clinic-outcomes and operations reports are made of: tables of plain values, rates with their counts and
denominators, and the period a report covers in the clinic's time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from .tables import Table  # noqa: F401  (the reports' one table type, re-exported for the figures' modules)


@dataclass(frozen=True)
class Rate:
    """`count` out of `of`, e.g. 3 responders of 5 patients with a baseline and a score since dosing began."""

    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return None if self.of == 0 else round(self.count * 100 / self.of, 1)

    @property
    def text(self) -> str:
        return "n/a" if self.percent is None else f"{self.percent:.1f}%"

    def row(self, label: str) -> list:
        return [label, self.count, self.of, self.text]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min), timezone.get_current_timezone())

    @property
    def ends_before(self) -> datetime:
        """The first moment after the period: midnight at the start of the day after `end`, clinic time."""
        return timezone.make_aware(
            datetime.combine(self.end + timedelta(days=1), time.min), timezone.get_current_timezone()
        )

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@dataclass
class Report:
    title: str
    period: Period
    tables: list[Table] = field(default_factory=list)


class Steps:
    """A report's progress through its stages, told in the rows its estimate counted: after stage k of n,
    `total * k // n` rows are done (the last stage tells the whole). Nothing is told when nobody follows."""

    def __init__(self, progress: Callable[[int], None] | None, stages: int, total: Callable[[], int]):
        self.progress, self.stages = progress, stages
        self.total = total() if progress is not None else 0  # counted only for a caller that follows
        self.stage = 0

    def done(self) -> None:
        self.stage = min(self.stage + 1, self.stages)
        if self.progress is not None:
            self.progress(self.total * self.stage // self.stages)


def label(code: str) -> str:
    """A band or status code as words: "moderately_severe" -> "Moderately severe"."""
    return code.replace("_", " ").capitalize()
