"""Clinic outcomes against a small clinic counted by hand (March 2026).

Patient A (IV, clinician 1): enrolled 1 March; PHQ-9 20 and GAD-7 16 at screening on 27 February; sessions 2, 5, 12
March held, 9 March a no-show (a mild and a moderate adverse event); PHQ-9 12 on 10 March (40% down), then 8 with
GAD-7 8 on 20 March (60% down: response, 18 days after the first dose).
Patient B (IV, clinician 2): enrolled 4 March; PHQ-9 15 on 3 March; held 5 and 9 March, booked 12 March (not settled),
no-show 16 March; no score since dosing began; a relapse warning on 20 March.
Patient C (Spravato, clinician 1): enrolled 20 February; PHQ-9 10 and GAD-7 7 on 18 February; held 23 February and
3 March (a severe, serious adverse event), cancelled 6 March, booster held 10 March; PHQ-9 4 and GAD-7 3 on 15 March
(remission, 20 days after the first dose).
Patient D (IV, clinician 1): enrolled 1 April, held 2 April: outside the period.
"""

from datetime import date

import pytest

from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.reports.figures import Rate, Table
from kap_clinic.reports.outcomes import clinic_outcomes
from patients.services import patient_create
from sessions.models import TreatmentPlan

from .clinic import adverse, at, checked_in, dosing, plan, room, screened

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


@pytest.fixture
def clinic(patient, clinician, other_patient, other_clinician):
    c = patient_create(
        created_by=None,
        given_name="Cleo",
        family_name="Marsh",
        date_of_birth=date(1990, 1, 1),
        primary_clinician=clinician,
    )
    d = patient_create(
        created_by=None,
        given_name="Dov",
        family_name="Pike",
        date_of_birth=date(1985, 6, 1),
        primary_clinician=clinician,
    )
    a_plan = plan(patient, clinician, route="iv", on=date(2026, 3, 1))
    screened(patient, clinician, at(date(2026, 2, 27)), {"phq9": 20, "gad7": 16})
    first = dosing(a_plan, at(date(2026, 3, 2)), chair=room("Chair A"), mg="35")
    second = dosing(a_plan, at(date(2026, 3, 5)), chair=room("Chair A"), mg="35")
    dosing(a_plan, at(date(2026, 3, 9)), chair=room("Chair A"), status="no_show")
    dosing(a_plan, at(date(2026, 3, 12)), chair=room("Chair A"), mg="35")
    adverse(first, "mild")
    adverse(second, "moderate", kind="dizziness")
    checked_in(patient, at(date(2026, 3, 10)), {"phq9": 12})
    checked_in(patient, at(date(2026, 3, 20)), {"phq9": 8, "gad7": 8})

    b_plan = plan(other_patient, other_clinician, route="iv", on=date(2026, 3, 4))
    screened(other_patient, other_clinician, at(date(2026, 3, 3)), {"phq9": 15})
    dosing(b_plan, at(date(2026, 3, 5), 13), chair=room("Chair B"))
    dosing(b_plan, at(date(2026, 3, 9), 13), chair=room("Chair B"))
    dosing(b_plan, at(date(2026, 3, 12), 13), chair=room("Chair B"), status="scheduled")
    dosing(b_plan, at(date(2026, 3, 16), 13), chair=room("Chair B"), status="no_show")
    alert = StaffAlert.objects.create(
        kind=StaffAlert.Kind.RELAPSE, audience="clinical", key="relapse-b", patient=other_patient, summary="Relapse."
    )
    StaffAlert.objects.filter(pk=alert.pk).update(created_at=at(date(2026, 3, 20)))
    later = StaffAlert.objects.create(
        kind=StaffAlert.Kind.RELAPSE, audience="clinical", key="relapse-later", patient=patient, summary="Relapse."
    )
    StaffAlert.objects.filter(pk=later.pk).update(created_at=at(date(2026, 4, 5)))  # outside March

    c_plan = plan(c, clinician, route="intranasal", on=date(2026, 2, 20))
    screened(c, clinician, at(date(2026, 2, 18)), {"phq9": 10, "gad7": 7})
    dosing(c_plan, at(date(2026, 2, 23), 13), chair=room("Chair C"), mg="56")
    held = dosing(c_plan, at(date(2026, 3, 3), 13), chair=room("Chair C"), mg="56")
    dosing(c_plan, at(date(2026, 3, 6), 13), chair=room("Chair C"), status="cancelled")
    dosing(c_plan, at(date(2026, 3, 10), 13), chair=room("Chair C"), phase="booster", kind="booster", mg="56")
    event = adverse(held, "severe", kind="bp_increased")
    type(event).objects.filter(pk=event.pk).update(is_serious=True)
    checked_in(c, at(date(2026, 3, 15), 13), {"phq9": 4, "gad7": 3})

    d_plan = plan(d, clinician, route="iv", on=date(2026, 4, 1))
    dosing(d_plan, at(date(2026, 4, 2)), chair=room("Chair D"), mg="35")
    return {"c": c, "d": d}


def test_whole_clinic(clinic):
    report = clinic_outcomes(**MARCH)
    assert report.title == "Clinic outcomes"
    assert str(report.period) == "2026-03-01 to 2026-03-31"
    assert report.enrollments == 2
    assert report.patients_treated == 3
    assert report.sessions_per_route == {"iv": 5, "im": 0, "intranasal": 2, "sublingual": 0, "oral": 0}
    assert report.boosters == 1
    assert report.relapse_warnings == 1
    assert report.response == Rate(2, 2)
    assert report.remission == Rate(1, 2)
    assert report.remission.percent == 50.0
    # A: 2 March 10:00 EST to 20 March 10:00 EDT (17.96 days); C: 23 February to 15 March (19.96 days).
    assert report.median_days_to_response == 19.0
    assert report.adverse_events == {"mild": 1, "moderate": 1, "severe": 1}
    assert report.serious_adverse_events == 1
    assert report.no_shows == Rate(2, 10)
    assert report.cancellations == Rate(1, 10)
    assert report.no_shows.text == "20.0%"
    assert report.distributions["phq9"]["before"] == {
        "minimal": 0, "mild": 0, "moderate": 1, "moderately_severe": 1, "severe": 1
    }  # fmt: skip
    assert report.distributions["phq9"]["after"] == {
        "minimal": 1, "mild": 1, "moderate": 0, "moderately_severe": 0, "severe": 0
    }  # fmt: skip
    assert report.distributions["gad7"]["before"] == {"minimal": 0, "mild": 1, "moderate": 0, "severe": 1}
    assert report.distributions["gad7"]["after"] == {"minimal": 1, "mild": 1, "moderate": 0, "severe": 0}


def test_tables_carry_the_figures(clinic):
    report = clinic_outcomes(**MARCH)
    assert all(isinstance(table, Table) for table in report.tables)
    by_title = {table.title: table for table in report.tables}
    assert ["No-shows", 2, 10, "20.0%"] in by_title["No-shows and cancellations"].rows
    assert ["Remission (PHQ-9 below 5)", 1, 2, "50.0%"] in by_title["Response and remission (PHQ-9)"].rows
    assert ["Sessions delivered: Intravenous (IV) ketamine", 5] in by_title["Enrollments and sessions"].rows
    assert ["Moderately severe", 1, 0] in by_title["PHQ-9 before and after induction"].rows
    for table in report.tables:
        assert all(len(row) == len(table.headers) for row in table.rows)


def test_one_route(clinic):
    report = clinic_outcomes(**MARCH, route="intranasal")
    assert report.sessions_per_route == {"intranasal": 2}
    assert report.enrollments == 0  # C enrolled in February
    assert report.patients_treated == 1
    assert report.response == Rate(1, 1) and report.remission == Rate(1, 1)
    assert report.median_days_to_response == 20.0
    assert report.no_shows == Rate(0, 3) and report.cancellations == Rate(1, 3)
    assert report.adverse_events == {"mild": 0, "moderate": 0, "severe": 1}
    assert report.relapse_warnings == 0


def test_one_clinician(clinic, other_clinician):
    report = clinic_outcomes(**MARCH, clinician_id=other_clinician.pk)
    assert report.enrollments == 1
    assert report.sessions_per_route["iv"] == 2
    assert report.response == Rate(0, 0) and report.response.text == "n/a"
    assert report.median_days_to_response is None
    assert report.relapse_warnings == 1
    assert report.no_shows == Rate(1, 3)


def test_a_quiet_period_is_all_zeros(clinic):
    report = clinic_outcomes(start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert report.enrollments == report.patients_treated == report.boosters == 0
    assert report.response == Rate(0, 0)
    assert report.tables


def test_never_loads_sessions_as_objects(clinic, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        clinic_outcomes(**MARCH)


def test_period_must_not_end_before_it_starts():
    with pytest.raises(ValueError):
        clinic_outcomes(start=date(2026, 3, 31), end=date(2026, 3, 1))


def test_a_later_plan_does_not_take_a_patient_out_of_an_earlier_periods_response(clinic, patient, clinician):
    """A report on March, read after the patient began a new plan in May, still compares March's scores with the
    baseline before March's first dose."""
    march_plan = patient.treatment_plans.get()
    may_plan = TreatmentPlan.objects.create(
        patient=patient,
        enrollment=march_plan.enrollment,
        protocol=march_plan.protocol,
        planned_dose=march_plan.planned_dose,
        first_day=date(2026, 5, 4),
        created_by=clinician,
    )
    dosing(may_plan, at(date(2026, 5, 5)), chair=room("Chair A"), status="scheduled")
    report = clinic_outcomes(**MARCH)
    assert report.response == Rate(2, 2)
    assert report.remission == Rate(1, 2)
    assert report.median_days_to_response == 19.0
