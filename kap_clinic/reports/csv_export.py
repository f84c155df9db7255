"""CSV that opens cleanly in a spreadsheet, streamed a line at a time.

UTF-8 with a byte-order mark (so spreadsheets read accents and symbols correctly), dates and times in ISO 8601 (times in
the clinic's time zone), decimals as written, empty cells for missing values. A cell a spreadsheet would run as a
formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading apostrophe, so an exported name
or note can never execute in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

BOM = "\ufeff"
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value) -> str:
    """One value as the text of a CSV cell, neutralised against formula injection."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        text = moment.replace(microsecond=0).isoformat()
    elif isinstance(value, date | time):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        text = format(value, "f")
    else:
        text = str(value)
    if text.startswith(DANGEROUS_FIRST):
        text = "'" + text
    return text


def _line(cells: Sequence) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cell_text(cell) for cell in cells])
    return buffer.getvalue()


def write_csv(rows: Iterable[Sequence], headers: Sequence[str]) -> Iterator[str]:
    """The header line (after the byte-order mark), then one line per row, each yielded as it is written."""
    yield BOM + _line(headers)
    for row in rows:
        yield _line(row)
