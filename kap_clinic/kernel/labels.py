"""Row dates written out in the clinic's time, quickly: a list of a hundred rows prints two or three dates each.

Django's `dateformat.format` reads its format a character at a time and looks each name up in the translations; for
the two formats the lists use ("D j M": "Wed 2 Dec"; "D j M Y H:i": "Wed 2 Dec 2026 14:05") these give the same text
from names looked up once per language.
"""

from datetime import datetime
from functools import lru_cache

from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import get_language


@lru_cache(maxsize=8)
def _names(language: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # The language argument keys the cache: the lazy names below are translated into the active language.
    weekdays = tuple(str(WEEKDAYS_ABBR[day]) for day in range(7))
    months = ("",) + tuple(str(MONTHS_3[month]).title() for month in range(1, 13))
    return weekdays, months


def day_label(moment: datetime) -> str:
    """The local day of an aware moment as "D j M" writes it ("Wed 2 Dec")."""
    local = timezone.localtime(moment)
    weekdays, months = _names(get_language())
    return f"{weekdays[local.weekday()]} {local.day} {months[local.month]}"


def day_time_label(moment: datetime) -> str:
    """The local day and time of an aware moment as "D j M Y H:i" writes it ("Wed 2 Dec 2026 14:05")."""
    local = timezone.localtime(moment)
    weekdays, months = _names(get_language())
    return f"{weekdays[local.weekday()]} {local.day} {months[local.month]} {local.year:04d} {local:%H:%M}"
