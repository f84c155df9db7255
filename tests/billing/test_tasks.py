"""The daily sweep: scheduled by beat, one batch check per 200 approved authorizations, nothing new when it or one of
its batches runs again."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from billing.models import PriorAuthorization
from billing.services import authorization_create, authorization_transition
from billing.tasks import check_authorization_batch, check_authorizations
from kap_clinic.kernel.notifications.models import StaffAlert

from .factories import approved, book, payer

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def test_the_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["check-authorizations"]
    assert entry["task"] == "billing.tasks.check_authorizations"


def test_running_the_sweep_twice_warns_once(settings, time_machine, patient, other_patient, front_desk, clinician):
    settings.TIME_ZONE = "America/New_York"
    ending = approved(patient, front_desk)  # ends 31 Mar 2027
    quiet = approved(other_patient, front_desk, ends_on=date(2027, 12, 31), reference="PA-2")
    cancelled = approved(other_patient, front_desk, reference="PA-3")
    authorization_transition(authorization=cancelled, to="cancelled", by=front_desk)
    authorization_create(patient=patient, payer=payer(), by=front_desk)  # a draft: not checked
    book(patient, clinician, date(2027, 1, 11), status="completed")
    # 10 days before the last day, clinic time.
    time_machine.move_to(datetime(2027, 3, 21, 0, 30, tzinfo=NEW_YORK), tick=False)

    assert check_authorizations.delay().get() == 2
    check_authorizations.delay()

    assert list(StaffAlert.objects.values_list("key", flat=True)) == [f"authorization-{ending.pk}-ends-2027-03-31"]
    ending.refresh_from_db()
    assert ending.units_used == 1
    quiet.refresh_from_db()
    assert quiet.units_counted_at is not None


def test_the_sweep_expires_an_authorization_the_day_after_its_last_day(settings, time_machine, patient, front_desk):
    settings.TIME_ZONE = "America/New_York"
    authorization = approved(patient, front_desk)
    time_machine.move_to(datetime(2027, 3, 31, 23, 59, tzinfo=NEW_YORK), tick=False)  # 1 April in UTC
    check_authorizations.delay()
    authorization.refresh_from_db()
    assert authorization.status == PriorAuthorization.Status.APPROVED

    time_machine.move_to(datetime(2027, 4, 1, 5, 30, tzinfo=NEW_YORK), tick=False)
    check_authorizations.delay()
    # A duplicate delivery of the batch after it expired checks nothing.
    assert check_authorization_batch.delay([authorization.pk]).get() == 0
    authorization.refresh_from_db()
    assert authorization.status == PriorAuthorization.Status.EXPIRED
    assert authorization.status_changes.filter(to_status="expired").count() == 1


def test_a_batch_delivered_twice_warns_once(settings, time_machine, patient, front_desk, clinician):
    settings.TIME_ZONE = "America/New_York"
    authorization = approved(patient, front_desk, units=2)  # ends 31 Mar 2027
    book(patient, clinician, date(2027, 1, 11), status="completed")
    book(patient, clinician, date(2027, 3, 24))
    book(patient, clinician, date(2027, 3, 29))
    time_machine.move_to(datetime(2027, 3, 21, 9, 0, tzinfo=NEW_YORK), tick=False)  # ten days before its last day

    assert check_authorization_batch.delay([authorization.pk]).get() == 1
    first = sorted(StaffAlert.objects.values_list("key", "summary"))
    assert check_authorization_batch.delay([authorization.pk]).get() == 1

    assert sorted(StaffAlert.objects.values_list("key", "summary")) == first
    assert {key for key, _ in first} == {
        f"authorization-{authorization.pk}-ends-2027-03-31",
        f"authorization-{authorization.pk}-booked-over-units-2",
    }
    authorization.refresh_from_db()
    assert authorization.units_used == 1
