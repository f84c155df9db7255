"""The daily check of many authorizations at once: the same alerts as checking each one, in the same few queries
for a handful of authorizations or many."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import PriorAuthorization
from billing.sweep import authorization_check, authorizations_check
from kap_clinic.kernel.notifications.models import StaffAlert

from .factories import approved, book

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def _alerts():
    return sorted(StaffAlert.objects.values_list("key", "summary"))


def test_the_batch_raises_what_checking_each_authorization_raises(
    settings, time_machine, patient, other_patient, front_desk, clinician
):
    settings.TIME_ZONE = "America/New_York"
    busy = approved(patient, front_desk, units=2)  # ends 31 Mar 2027
    quiet = approved(other_patient, front_desk, ends_on=date(2027, 12, 31), reference="PA-2")
    book(patient, clinician, date(2027, 1, 11), status="completed")
    book(patient, clinician, date(2027, 3, 24))
    book(patient, clinician, date(2027, 3, 29))
    book(patient, clinician, date(2027, 4, 5))
    time_machine.move_to(datetime(2027, 3, 21, 0, 30, tzinfo=NEW_YORK), tick=False)
    today = date(2027, 3, 21)

    for authorization in (busy, quiet):
        authorization_check(authorization=authorization, today=today)
    one_by_one = _alerts()
    assert len(one_by_one) >= 3  # ending soon, booked after its end, booked beyond its units
    StaffAlert.objects.all().delete()
    PriorAuthorization.objects.update(units_used=0)

    checks = authorizations_check(ids=[busy.pk, quiet.pk], today=today)

    assert _alerts() == one_by_one
    assert sorted(len(c.raised) for c in checks) == [0, len(one_by_one)]
    busy.refresh_from_db()
    assert busy.units_used == 1
    assert authorizations_check(ids=[busy.pk, quiet.pk], today=today)[0].raised == []  # nothing new the next time


def test_the_batch_expires_those_past_their_last_day(settings, patient, front_desk):
    settings.TIME_ZONE = "America/New_York"
    authorization = approved(patient, front_desk)
    (check,) = authorizations_check(ids=[authorization.pk], today=date(2027, 4, 1))
    assert check.expired
    authorization.refresh_from_db()
    assert authorization.status == PriorAuthorization.Status.EXPIRED
    assert authorizations_check(ids=[authorization.pk], today=date(2027, 4, 2)) == []


def test_the_batch_costs_the_same_queries_for_two_authorizations_or_twelve(
    settings, patient, other_patient, front_desk, clinician
):
    settings.TIME_ZONE = "America/New_York"
    book(patient, clinician, date(2027, 1, 11), status="completed")
    today = date(2027, 1, 20)

    def queries(count: int) -> int:
        ids = [
            approved(
                (patient, other_patient)[i % 2], front_desk, ends_on=date(2027, 12, 31), reference=f"Q{count}-{i}"
            ).pk
            for i in range(count)
        ]
        authorizations_check(ids=ids, today=today)  # the first check counts the units already used
        with CaptureQueriesContext(connection) as captured:
            authorizations_check(ids=ids, today=today)
        return len(captured)

    assert queries(12) <= queries(2)
