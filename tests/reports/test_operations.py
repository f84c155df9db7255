"""Operations and authorizations against a small clinic counted by hand: Monday 2 to Sunday 15 March 2026.

Clinic open Monday to Friday 9:00-17:00 (40 hours a week), closed Friday 13 March (32 hours that week).
Clinician 1 works Mondays and Wednesdays 9:00-17:00 (16 hours a week); clinician 2 works the clinic's hours.
Chair 1: A 2 March 2 h held, A 4 March 2 h no-show, B 5 March 2 h held (clinician 2), A 9 March cancelled,
A 11 March 4 h booked. Chair 2: C 3 March 2 h held, C 10 March 4 h held. A's integration session 5 March, 1 h.
"""

from datetime import date, time, timedelta

import pytest

from billing.models import Payer, PriorAuthorization
from kap_clinic.kernel.notifications.models import Reminder, ReminderRule, SessionConfirmation
from kap_clinic.reports.figures import Rate, Table
from kap_clinic.reports.operations import operations_report
from patients.services import patient_create
from sessions.models import ClinicClosure, ClinicHours, ClinicianHours, Room

from .clinic import at, dosing, integration, plan, room

PERIOD = {"start": date(2026, 3, 2), "end": date(2026, 3, 15)}
WEEK_1, WEEK_2 = date(2026, 3, 2), date(2026, 3, 9)


@pytest.fixture
def clinic(patient, clinician, other_patient, other_clinician):
    ClinicHours.objects.all().delete()
    for weekday in range(5):
        ClinicHours.objects.create(weekday=weekday, opens=time(9), closes=time(17))
    ClinicClosure.objects.create(day=date(2026, 3, 13), reason="Staff training")
    for weekday in (0, 2):
        ClinicianHours.objects.create(clinician=clinician, weekday=weekday, starts=time(9), ends=time(17))
    Room.objects.update(is_active=False)
    chair_1, chair_2 = room("Chair 1"), room("Chair 2")
    c = patient_create(
        created_by=None,
        given_name="Cleo",
        family_name="Marsh",
        date_of_birth=date(1990, 1, 1),
        primary_clinician=clinician,
    )

    a_plan = plan(patient, clinician, route="iv", on=date(2026, 3, 1))
    a1 = dosing(a_plan, at(date(2026, 3, 2)), chair=chair_1)
    dosing(a_plan, at(date(2026, 3, 4)), chair=chair_1, status="no_show")
    dosing(a_plan, at(date(2026, 3, 9)), chair=chair_1, status="cancelled")
    a4 = dosing(a_plan, at(date(2026, 3, 11)), chair=chair_1, status="scheduled", hours=4)
    dosing(a_plan, at(date(2026, 3, 25)), chair=chair_1, status="scheduled")  # after A's authorization
    integration(patient, clinician, at(date(2026, 3, 5), 14))

    b_plan = plan(other_patient, other_clinician, route="iv", on=date(2026, 3, 1))
    dosing(b_plan, at(date(2026, 3, 5)), chair=chair_1)

    c_plan = plan(c, clinician, route="intranasal", on=date(2026, 2, 1))
    c1 = dosing(c_plan, at(date(2026, 3, 3), 13), chair=chair_2)
    c2 = dosing(c_plan, at(date(2026, 3, 10), 13), chair=chair_2, hours=4)
    dosing(c_plan, at(date(2026, 4, 7), 13), chair=chair_2, status="scheduled")
    dosing(c_plan, at(date(2026, 4, 14), 13), chair=chair_2, status="scheduled")

    rule = ReminderRule.objects.filter(event="dosing_session").first()

    def reminder(session, channel, status, when):
        Reminder.objects.create(
            patient=session.patient,
            session=session,
            rule=rule,
            channel=channel,
            scheduled_for=when,
            event_at=session.starts_at,
            next_try_at=when,
            status=status,
            sent_at=when if status == "sent" else None,
        )

    reminder(a1, "email", "sent", at(date(2026, 3, 2), 8))
    reminder(a1, "sms", "failed", at(date(2026, 3, 2), 8))
    reminder(c2, "sms", "sent", at(date(2026, 3, 9)))
    reminder(c2, "email", "pending", at(date(2026, 3, 9)))
    reminder(a4, "email", "sent", at(date(2026, 2, 20)))  # planned before the period

    SessionConfirmation.objects.create(session=a1, confirmed_start=a1.starts_at, driver_name="Sam")
    SessionConfirmation.objects.create(session=c2, confirmed_start=c2.starts_at, driver_name="Kit")
    SessionConfirmation.objects.create(session=a4, confirmed_start=a4.starts_at - timedelta(days=1), driver_name="Old")
    del c1

    payer = Payer.objects.create(name="Acme Health")

    def authorization(who, reference, starts, ends, units, used, status="approved"):
        return PriorAuthorization.objects.create(
            patient=who,
            payer=payer,
            reference=reference,
            starts_on=starts,
            ends_on=ends,
            units_authorized=units,
            units_used=used,
            status=status,
        )

    authorization(patient, "A-1", date(2026, 3, 1), date(2026, 3, 20), 4, 1)  # ending soon; one booked after it
    authorization(c, "C-1", date(2026, 2, 1), date(2026, 6, 30), 5, 4)  # 80% used; two booked for one unit left
    authorization(other_patient, "B-1", date(2026, 2, 1), date(2026, 3, 10), 6, 2)  # ends in the period
    authorization(other_patient, "B-2", date(2026, 3, 11), date(2026, 5, 1), 6, 0)  # nothing to report
    authorization(other_patient, "B-0", date(2026, 2, 1), date(2026, 3, 5), 6, 6, status="denied")  # not approved
    return {"c": c}


def test_room_utilisation_per_week(clinic):
    report = operations_report(**PERIOD)
    rooms = {(u.week, u.name): u for u in report.rooms}
    assert set(rooms) == {(WEEK_1, "Chair 1"), (WEEK_1, "Chair 2"), (WEEK_2, "Chair 1"), (WEEK_2, "Chair 2")}
    assert (rooms[(WEEK_1, "Chair 1")].booked_hours, rooms[(WEEK_1, "Chair 1")].open_hours) == (6, 40)
    assert rooms[(WEEK_1, "Chair 1")].percent == 15.0
    assert rooms[(WEEK_1, "Chair 2")].percent == 5.0
    assert (rooms[(WEEK_2, "Chair 1")].booked_hours, rooms[(WEEK_2, "Chair 1")].open_hours) == (4, 32)
    assert rooms[(WEEK_2, "Chair 1")].percent == 12.5
    assert rooms[(WEEK_2, "Chair 2")].percent == 12.5


def test_clinician_utilisation_per_week(clinic, clinician, other_clinician):
    report = operations_report(**PERIOD)
    people = {(u.week, u.name): u for u in report.clinicians}
    mine = people[(WEEK_1, clinician.get_full_name())]
    assert (mine.booked_hours, mine.open_hours) == (7, 16)  # 2 + 2 + 2 dosing, 1 integration
    assert people[(WEEK_2, clinician.get_full_name())].percent == 50.0
    theirs = people[(WEEK_1, other_clinician.get_full_name())]
    assert (theirs.booked_hours, theirs.open_hours, theirs.percent) == (2, 40, 5.0)


def test_sessions_per_route(clinic):
    report = operations_report(**PERIOD)
    assert report.sessions_per_route["iv"] == {"held": 2, "booked": 1, "no_show": 1, "cancelled": 1}
    assert report.sessions_per_route["intranasal"] == {"held": 2, "booked": 0, "no_show": 0, "cancelled": 0}
    assert report.sessions_per_route["oral"] == {"held": 0, "booked": 0, "no_show": 0, "cancelled": 0}


def test_reminders_and_confirmations(clinic):
    report = operations_report(**PERIOD)
    assert report.reminders == {"email": {"sent": 1, "failed": 0}, "sms": {"sent": 1, "failed": 1}}
    # Booked, not cancelled: A 2, 4, 11 March; B 5 March; C 3, 10 March. A's 11 March confirmation was for another time.
    assert report.confirmations == Rate(2, 6)


def test_authorizations(clinic):
    report = operations_report(**PERIOD)
    assert [a["reference"] for a in report.expiring] == ["B-1", "A-1"]
    assert [a["reference"] for a in report.nearly_used] == ["C-1"]
    beyond = {a["reference"]: (a["after_end"], a["over_units"]) for a in report.booked_beyond}
    assert beyond == {"A-1": (1, 0), "C-1": (0, 1)}


def test_tables(clinic, patient):
    report = operations_report(**PERIOD)
    assert report.title == "Operations and authorizations"
    assert str(report.period) == "2026-03-02 to 2026-03-15"
    by_title = {table.title: table for table in report.tables}
    assert all(isinstance(table, Table) for table in report.tables)
    assert [WEEK_1, "Chair 1", 6.0, 40.0, "15.0%"] in by_title["Room utilisation per week"].rows
    assert ["Intravenous (IV) ketamine", 2, 1, 1, 1] in by_title["Sessions per route"].rows
    assert ["Text message", 1, 1] in by_title["Reminders"].rows
    assert ["Acme Health", "A-1", date(2026, 3, 20), "1 of 4", 1, 0] in by_title[
        "Sessions booked beyond an authorization"
    ].rows
    for table in report.tables:
        assert all(len(row) == len(table.headers) for row in table.rows)
