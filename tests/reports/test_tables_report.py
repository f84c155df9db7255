"""Clinic-wide reports made of tables print through the generic template and write one CSV."""

import io
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from kap_clinic.reports.kinds import TablesReport
from kap_clinic.reports.tables import Table
from tests.conftest import sign_in
from tests.reports.helpers import pdf_pages, pdf_text


@dataclass
class Result:
    title: str
    tables: list = field(default_factory=list)


def _sessions_by_route(*, start: date, end: date, rows: int = 3):
    return Result(
        title="Sessions by route",
        tables=[
            Table(
                "Sessions delivered", ["Route", "Sessions"], [["IV", 42], ["Intranasal", 17]], note="Completed only."
            ),
            Table("Per week", ["Week", "Sessions"], [[f"2026-W{n:02d}", n * 3] for n in range(1, rows + 1)]),
        ],
    )


@pytest.mark.django_db
def test_a_tables_report_prints_every_table_with_its_note_and_period():
    report = TablesReport(slug="routes", title="Sessions by route", description="", build=_sessions_by_route)
    output = report.render({"start": "2026-01-01", "end": "2026-03-31", "format": "pdf"}, "pdf")
    text = pdf_text(output.content)
    assert "Sessions by route" in text and "2026-01-01 to 2026-03-31" in text
    assert "Sessions delivered" in text and "Completed only." in text and "Intranasal 17" in text
    assert "2026-W03 9" in text and "Page 1 of 1" in text


@pytest.mark.django_db
def test_a_tables_report_grows_pages_with_rows():
    small = TablesReport(slug="s", title="S", description="", build=_sessions_by_route)

    def big(**kwargs):
        return _sessions_by_route(rows=200, **kwargs)

    large = TablesReport(slug="l", title="L", description="", build=big)
    params = {"start": "2026-01-01", "end": "2026-03-31", "format": "pdf"}
    assert pdf_pages(large.render(params, "pdf").content) > pdf_pages(small.render(params, "pdf").content)


@pytest.mark.django_db
def test_a_tables_report_writes_one_csv_with_each_table_under_its_title():
    report = TablesReport(slug="routes", title="Sessions by route", description="", build=_sessions_by_route)
    text = report.render({"start": "2026-01-01", "end": "2026-03-31", "format": "csv"}, "csv").content.decode("utf-8")
    assert text.startswith("\ufeffSessions delivered\r\nCompleted only.\r\nRoute,Sessions\r\nIV,42\r\n")
    assert "\r\n\r\nPer week\r\nWeek,Sessions\r\n2026-W01,3\r\n" in text


@pytest.mark.django_db
def test_the_paper_size_follows_the_setting(settings):
    report = TablesReport(slug="routes", title="Sessions by route", description="", build=_sessions_by_route)
    params = {"start": "2026-01-01", "end": "2026-03-31", "format": "pdf"}
    letter = PdfReader(io.BytesIO(report.render(params, "pdf").content)).pages[0].mediabox
    settings.REPORT_PAGE_SIZE = "a4"
    a4 = PdfReader(io.BytesIO(report.render(params, "pdf").content)).pages[0].mediabox
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)


@pytest.mark.django_db
def test_the_outcomes_and_operations_reports_run_from_the_reports_page(client, admin_user):
    sign_in(client, admin_user)
    index = client.get(reverse("reports:index"))
    assert "Clinic outcomes" in index.content.decode() and "Operations and authorizations" in index.content.decode()
    pdf = client.post(
        reverse("reports:run", args=["outcomes"]),
        {"start": "2026-01-01", "end": "2026-03-31", "route": "iv", "format": "pdf"},
    )
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Clinic outcomes" in text and "Response and remission (PHQ-9)" in text
    csv = client.post(
        reverse("reports:run", args=["operations"]), {"start": "2026-01-01", "end": "2026-01-31", "format": "csv"}
    )
    assert csv.status_code == 200 and csv.content.decode("utf-8").startswith("\ufeff")
    refused = client.post(
        reverse("reports:run", args=["outcomes"]), {"start": "2026-03-31", "end": "2026-01-01", "format": "pdf"}
    )
    assert refused.status_code == 400 and "2026-03-31" in refused.content.decode()  # what was typed is shown again


@pytest.mark.django_db
def test_the_outcomes_report_is_written_from_the_command_line(tmp_path):
    out = tmp_path / "outcomes.csv"
    call_command(
        "report", "outcomes", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "csv", "--output", str(out)
    )
    assert "Enrollments and sessions" in out.read_text(encoding="utf-8-sig")
