"""The lean printing path of every PDF (kap_clinic.kernel.pdf): our own user-agent stylesheet covers every element the
PDF templates use, the garbage collector's pause always ends, and only whitespace that lays nothing out is dropped."""

import gc
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tinycss2
import weasyprint
from pypdf import PdfReader

from kap_clinic.kernel.pdf import (
    PRINT_UA_CSS,
    STATIC_BASE_URL,
    _document_class,
    collector_paused,
    render_pdf,
    static_path,
    without_layout_whitespace,
)
from kap_clinic.reports.charts import Point, outcome_chart_svg
from tests.reports.helpers import pdf_text

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
LINKED = re.compile(r"""{%\s*(?:include|extends)\s+["']([^"']+)["']""")
# Template filters that write elements of their own.
FILTER_TAGS = {"linebreaksbr": {"br"}, "linebreaks": {"p", "br"}, "urlize": {"a"}, "unordered_list": {"li", "ul"}}


def pdf_templates() -> list[Path]:
    """Every template printed as a PDF (under a `pdf/` folder or named `*_pdf.html`) and all it includes or extends."""
    found = {*TEMPLATES.rglob("pdf/*.html"), *TEMPLATES.rglob("*_pdf.html")}
    pending = list(found)
    while pending:
        for name in LINKED.findall(pending.pop().read_text()):
            path = TEMPLATES / name
            if path not in found:
                found.add(path)
                pending.append(path)
    return sorted(found)


def template_elements(path: Path) -> set[str]:
    text = path.read_text()
    tags = {tag.lower() for tag in TAG.findall(text)}
    for name, written in FILTER_TAGS.items():
        if re.search(rf"\|\s*{name}\b", text):
            tags |= written
    if "tr" in tags:
        tags.add("tbody")  # the parser puts rows written straight into a table in a tbody
    if "{{ chart }}" in text:
        # The chart's SVG is one replaced element on the page; WeasyPrint draws what is inside it.
        tags |= {TAG.match(str(outcome_chart_svg([], []))).group(1)}
    return tags


def ua_elements() -> set[str]:
    """The element names the user-agent stylesheet's selectors name."""
    css = static_path(STATIC_BASE_URL + PRINT_UA_CSS).read_text()
    names = set()
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule":
            prelude = tinycss2.serialize(rule.prelude)
            names |= set(re.findall(r"(?<![\w:.#\[-])([a-z][a-z0-9]*)(?![\w-])", re.sub(r"\[[^\]]*\]", "", prelude)))
    return names


def test_every_pdf_template_is_found():
    names = {str(path.relative_to(TEMPLATES)) for path in pdf_templates()}
    assert {
        "reports/pdf/base.html",
        "reports/pdf/patient_summary.html",
        "reports/_patient_summary_body.html",
        "reports/pdf/tables.html",
        "sessions/pdf/rems_form.html",
        "billing/pdf/preauth_packet.html",
        "billing/ledger/superbill_pdf.html",
    } <= names


@pytest.mark.parametrize("path", pdf_templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_the_print_stylesheet_covers_every_element_of_the_pdf_templates(path):
    missing = template_elements(path) - ua_elements()
    assert not missing, f"{path.name} uses {sorted(missing)}: add their rules from WeasyPrint's html5_ua.css"


def test_our_documents_are_styled_by_our_user_agent_stylesheet_only():
    assert callable(getattr(weasyprint.HTML, "_ua_stylesheets", None))  # the WeasyPrint hook it relies on
    sheets = _document_class()(string="<p>x</p>")._ua_stylesheets()
    assert len(sheets) == 1 and sheets[0] is not weasyprint.UA_STYLESHEET  # not weasyprint.HTML's own
    assert weasyprint.HTML(string="<p>x</p>")._ua_stylesheets() == [weasyprint.UA_STYLESHEET]


def test_headings_lists_and_line_breaks_print_as_with_the_full_stylesheet():
    html = "<h1>Title</h1><h2>Part</h2><ol><li>first</li><li>second</li></ol><p>one<br>two</p>"
    pdf = render_pdf(html)
    assert pdf_text(pdf) == pdf_text(weasyprint.HTML(string=html).write_pdf())
    assert "1." in pdf_text(pdf)  # the list's numbers
    outline = PdfReader(io.BytesIO(pdf)).outline  # headings make the PDF's bookmarks
    assert outline[0].title == "Title" and outline[1][0].title == "Part"


def test_the_collector_pause_ends_and_restores_the_state_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        with collector_paused():
            assert not gc.isenabled()
            1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_only_whitespace_beside_block_and_table_tags_is_dropped():
    html = "<section>\n  <h2>A</h2>\n  <p>one <b>two</b> <i>three</i></p>\n<table>\n <tr> <td> x </td>\n</tr></table>"
    assert without_layout_whitespace(html) == (
        "<section><h2>A</h2><p>one <b>two</b> <i>three</i></p><table><tr><td> x </td></tr></table>"
    )
    assert without_layout_whitespace("<path d='M0 0'/> <polyline/>") == "<path d='M0 0'/> <polyline/>"


def test_the_chart_draws_alike_lines_as_one_path():
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    doses = [start + timedelta(days=7 * n) for n in range(40)]
    points = [Point(at=start + timedelta(days=28 * n), code="phq9", total=20 - n) for n in range(10)]
    chart = str(outcome_chart_svg(points, doses, baseline=20, response_at=10, remission_below=5))
    assert chart.count('class="dose"') == 1 and "40 dose days, 2026-01-05 to" in chart
    assert chart.count("<line") == 1 + 3 + 5  # the axis, the three reference lines, the legend's five keys
    assert chart.count("<circle") == 10 and "PHQ-9 20 on 2026-01-05" in chart  # each score keeps its own label
