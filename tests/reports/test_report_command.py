"""`manage.py report outcomes` narrows the clinic outcomes by route and clinician as the reports page does, and the
file it writes reads back with the same figures."""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from patients.services import patient_create
from tests.reports.helpers import pdf_text

from .clinic import at, dosing, plan, room

pytestmark = pytest.mark.django_db
MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]
IV, SPRAVATO = "Sessions delivered: Intravenous (IV) ketamine", "Sessions delivered: Intranasal esketamine"


@pytest.fixture
def march(patient, clinician, other_patient, other_clinician):
    """Clinician 1: patient A, 2 IV sessions held in March; Cleo, 1 Spravato session. Clinician 2: patient B, 3 IV."""
    mine = plan(patient, clinician, route="iv", on=date(2026, 3, 1))
    for day in (2, 5):
        dosing(mine, at(date(2026, 3, day)), chair=room("Chair 1"))
    cleo = patient_create(
        created_by=None,
        given_name="Cleo",
        family_name="Marsh",
        date_of_birth=date(1990, 1, 1),
        primary_clinician=clinician,
    )
    dosing(plan(cleo, clinician, route="intranasal", on=date(2026, 3, 1)), at(date(2026, 3, 4)), chair=room("Chair 1"))
    theirs = plan(other_patient, other_clinician, route="iv", on=date(2026, 3, 1))
    for day in (3, 6, 10):
        dosing(theirs, at(date(2026, 3, day)), chair=room("Chair 2"))


def _outcomes(tmp_path, *options, format="csv") -> str:
    path = tmp_path / f"outcomes.{format}"
    call_command("report", "outcomes", *MARCH, *options, "--format", format, "--output", str(path))
    return path.read_bytes().decode("utf-8-sig") if format == "csv" else pdf_text(path.read_bytes())


def test_the_outcomes_of_one_route_or_one_clinician(march, tmp_path):
    everything = _outcomes(tmp_path)
    assert f"{IV},5\r\n" in everything and f"{SPRAVATO},1\r\n" in everything

    iv = _outcomes(tmp_path, "--route", "iv")
    assert f"{IV},5\r\n" in iv and SPRAVATO not in iv

    mine = _outcomes(tmp_path, "--clinician", "clinician1")
    assert f"{IV},2\r\n" in mine and f"{SPRAVATO},1\r\n" in mine
    assert "Patients treated,2\r\n" in mine

    theirs_by_iv = _outcomes(tmp_path, "--clinician", "clinician2", "--route", "iv")
    assert f"{IV},3\r\n" in theirs_by_iv and "Patients treated,1\r\n" in theirs_by_iv


def test_the_pdf_says_what_it_was_narrowed_to(march, tmp_path, clinician):
    text = _outcomes(tmp_path, "--clinician", "clinician1", "--route", "intranasal", format="pdf")
    assert "Clinic outcomes" in text
    assert f"2026-03-01 to 2026-03-31, Intranasal esketamine, patients of {clinician.get_full_name()}" in text
    assert "Sessions delivered: Intranasal esketamine 1" in text and "Patients treated 1" in text


def test_the_command_refuses_what_the_page_would_not_offer(march, tmp_path, front_desk):
    out = str(tmp_path / "x.csv")
    with pytest.raises(CommandError, match="No clinician"):
        call_command("report", "outcomes", *MARCH, "--clinician", "intake1", "--format", "csv", "--output", out)
    with pytest.raises(CommandError, match="clinic outcomes report only"):
        call_command("report", "operations", *MARCH, "--route", "iv", "--format", "csv", "--output", out)
    with pytest.raises(CommandError, match="needs --from and --to"):
        call_command("report", "outcomes", "--from", "2026-03-01", "--format", "csv", "--output", out)
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("report", "outcomes", *MARCH, "--route", "nasal", "--output", out)
