"""Sessions booked beyond an authorization, counted as billing counts units, against bookings counted by hand.

Cleo (Spravato) has sessions booked on 3, 10 and 17 May 2027 planned at 56, 56 and 84 mg, and on 2 August at 56 mg.
  J-1 (J0013, 1 April to 30 June, 224 mg, 56 used: 168 left): 56 + 56 + 84 = 196 mg booked within, 28 beyond; the
      August session bills J0013 too: 1 after the last day.
  G-82 (G2082, the same dates, 1 visit, none used): the two 56 mg sessions are G2082 visits, 1 beyond; August's
      56 mg session is one too: 1 after the last day.
  G-83 (G2083, 1 visit, none used): only the 84 mg session bills G2083: nothing beyond, and August's G2082 session is
      not under it. Counting sessions instead would have put 2 beyond and 1 after.
Ada (IV) has sessions booked on 4, 11 and 18 May 2027.
  IV-1 (96365 and J3490, 2 visits, none used): one unit each, 1 beyond.
  IV-J (J0013, 5 units): IV sessions bill no J0013: nothing.
  IV-X (no codes listed, 1 April to 10 May, 3 units, 2 used: 1 left): one a session, 4 May within, 11 and 18 May
      after: 2 after the last day, nothing beyond.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Payer, PriorAuthorization
from kap_clinic.reports.operations import operations_report
from patients.services import patient_create
from sessions.models import DosingSession

from .clinic import at, dosing, plan, room

pytestmark = pytest.mark.django_db
APRIL_TO_JUNE = (date(2027, 4, 1), date(2027, 6, 30))
PERIOD = {"start": date(2027, 5, 1), "end": date(2027, 5, 31)}


def _booked(treatment, day: date, mg: str | None = None) -> DosingSession:
    session = dosing(treatment, at(day), chair=room("Chair 1"), status="scheduled")
    if mg is not None:
        DosingSession.objects.filter(pk=session.pk).update(planned_dose=Decimal(mg))
    return session


def _authorization(patient, reference, codes, units, used=0, dates=APRIL_TO_JUNE):
    return PriorAuthorization.objects.create(
        patient=patient,
        payer=Payer.objects.get_or_create(name="Acme Health")[0],
        reference=reference,
        codes=codes,
        starts_on=dates[0],
        ends_on=dates[1],
        units_authorized=units,
        units_used=used,
        status="approved",
    )


def _cleo(clinician):
    return patient_create(
        created_by=None,
        given_name="Cleo",
        family_name="Marsh",
        date_of_birth=date(1990, 1, 1),
        primary_clinician=clinician,
    )


@pytest.fixture
def bookings(patient, clinician):
    cleo = _cleo(clinician)
    spravato = plan(cleo, clinician, route="intranasal", on=date(2027, 4, 1))
    for day, mg in ((3, "56"), (10, "56"), (17, "84")):
        _booked(spravato, date(2027, 5, day), mg)
    _booked(spravato, date(2027, 8, 2), "56")
    _authorization(cleo, "J-1", ["J0013"], 224, used=56)
    _authorization(cleo, "G-82", ["G2082"], 1)
    _authorization(cleo, "G-83", ["G2083"], 1)

    iv = plan(patient, clinician, route="iv", on=date(2027, 4, 1))
    for day in (4, 11, 18):
        _booked(iv, date(2027, 5, day))
    _authorization(patient, "IV-1", ["96365", "J3490"], 2)
    _authorization(patient, "IV-J", ["J0013"], 5)
    _authorization(patient, "IV-X", [], 3, used=2, dates=(date(2027, 4, 1), date(2027, 5, 10)))


def test_sessions_and_units_booked_beyond_are_counted_as_billing_counts_them(bookings):
    beyond = {a["reference"]: (a["after_end"], a["over_units"]) for a in operations_report(**PERIOD).booked_beyond}
    assert beyond == {"J-1": (1, 28), "G-82": (1, 1), "IV-1": (0, 1), "IV-X": (2, 0)}


def test_the_table_says_which_units_it_counts(bookings):
    table = next(t for t in operations_report(**PERIOD).tables if t.title == "Sessions booked beyond an authorization")
    assert table.headers[-2:] == ["Sessions booked after the last day", "Units booked beyond those left"]
    assert ["Acme Health", "J-1", date(2027, 6, 30), "56 of 224", 1, 28] in table.rows
    assert "J0013 in milligrams" in table.note


def test_the_count_takes_the_same_queries_however_many_authorizations(bookings, other_patient, other_clinician):
    with CaptureQueriesContext(connection) as few:
        operations_report(**PERIOD)
    for index in range(4):
        someone = patient_create(
            created_by=None,
            given_name=f"Extra{index}",
            family_name="Patient",
            date_of_birth=date(1980, 1, 1),
            primary_clinician=other_clinician,
        )
        treatment = plan(someone, other_clinician, route="intranasal", on=date(2027, 4, 1))
        _booked(treatment, date(2027, 5, 5 + index), "84")
        _authorization(someone, f"X-{index}", ["J0013", "G2083"], 10)
    with CaptureQueriesContext(connection) as many:
        report = operations_report(**PERIOD)
    assert {f"X-{index}" for index in range(4)} <= {a["reference"] for a in report.booked_beyond}  # 84 mg > 10
    assert len(many) == len(few)
