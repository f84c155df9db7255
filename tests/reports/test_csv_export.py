import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kap_clinic.reports.csv_export import BOM, DANGEROUS_FIRST, cell_text, write_csv


def parse(chunks) -> list[list[str]]:
    text = "".join(chunks)
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))


def test_starts_with_a_byte_order_mark_and_the_headers():
    chunks = list(write_csv([], ["MRN", "Name"]))
    assert chunks == [BOM + "MRN,Name\r\n"]


def test_one_chunk_per_row_so_the_file_streams():
    rows = ([n, f"row {n}"] for n in range(5))
    chunks = list(write_csv(rows, ["n", "text"]))
    assert len(chunks) == 6
    assert parse(chunks)[1:] == [[str(n), f"row {n}"] for n in range(5)]


def test_dates_times_decimals_and_missing_values():
    # 14:30 UTC on 2026-06-15 is 10:30 in New York (summer time).
    row = [date(2026, 3, 1), datetime(2026, 6, 15, 14, 30, 5, 123, tzinfo=UTC), Decimal("56.0"), Decimal("0.500"), None]
    (header, line) = parse(write_csv([row], ["day", "at", "dose", "per kg", "note"]))
    assert line == ["2026-03-01", "2026-06-15T10:30:05-04:00", "56.0", "0.500", ""]


def test_decimal_never_in_scientific_notation():
    assert cell_text(Decimal("1E+2")) == "100"


def test_formula_injection_is_neutralised():
    cells = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "plain", "a=b"]
    (_, line) = parse(write_csv([cells], [str(n) for n in range(len(cells))]))
    assert line[:6] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rCR"]
    assert line[6:] == ["plain", "a=b"]


def test_negative_numbers_are_text_not_formulas():
    assert cell_text(-3) == "'-3"


def test_quotes_commas_and_newlines_survive():
    cells = ['He said "hi"', "a,b", "two\nlines", "Zoë ✓"]
    (_, line) = parse(write_csv([cells], ["a", "b", "c", "d"]))
    assert line == cells


@given(st.lists(st.lists(st.one_of(st.text(), st.integers(), st.none()), min_size=1, max_size=5), max_size=6))
def test_no_cell_starts_with_a_dangerous_character_and_everything_round_trips(rows):
    width = max((len(row) for row in rows), default=1)
    rows = [row + [None] * (width - len(row)) for row in rows]
    parsed = parse(write_csv(rows, [f"h{n}" for n in range(width)]))
    assert len(parsed) == len(rows) + 1
    for original, line in zip(rows, parsed[1:], strict=True):
        for value, cell in zip(original, line, strict=True):
            assert not cell.startswith(DANGEROUS_FIRST)
            expected = "" if value is None else str(value)
            if expected.startswith(DANGEROUS_FIRST):
                assert cell == "'" + expected
            else:
                assert cell == expected
