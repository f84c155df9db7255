"""CSV that opens cleanly in a spreadsheet: UTF-8 with a byte-order mark, ISO dates, formulas neutralised."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from django.utils import timezone

BOM = "\ufeff"
# A spreadsheet reads a cell starting with one of these as a formula (or a command, through DDE).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat(timespec="seconds")
    elif isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, bool):
        value = "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def write_csv(rows: Iterable[Sequence], headers: Sequence[str]) -> Iterator[str]:
    """The CSV text line by line (a streaming response can send it as it comes): the BOM, the headers, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([_cell(header) for header in headers])
    yield BOM + flush()
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        yield flush()
