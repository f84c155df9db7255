"""Authorization services: entering, status steps, counting units, and the daily check's warnings (time passed in)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.models import AuthorizationStatusChange, PriorAuthorization
from billing.services import (
    authorization_create,
    authorization_transition,
    authorization_units_refresh,
    authorization_update,
    units_used_count,
)
from billing.sweep import authorization_check
from kap_clinic.kernel.notifications.models import StaffAlert

from .factories import approved, book, payer, request_facts, step, submitted

pytestmark = pytest.mark.django_db

JAN_4, MAR_31 = date(2027, 1, 4), date(2027, 3, 31)


@pytest.fixture(autouse=True)
def clinic_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.AUTHORIZATION_WARN_DAYS = 14
    settings.AUTHORIZATION_WARN_UNITS_PERCENT = 80


def draft(patient, by, **fields):
    return authorization_create(patient=patient, payer=payer(), by=by, **{**request_facts(), **fields})


def alert_keys() -> set[str]:
    return set(StaffAlert.objects.values_list("key", flat=True))


# --- status steps --------------------------------------------------------------------------------------------


def test_status_steps_record_who_and_when(patient, front_desk, admin_user):
    authorization = draft(patient, front_desk, reference="PA-9", units_authorized=12, starts_on=JAN_4, ends_on=MAR_31)
    submitted(authorization, front_desk, note="Faxed")
    authorization_transition(authorization=authorization, to="approved", by=admin_user)

    authorization.refresh_from_db()
    assert authorization.status == "approved"
    steps = list(authorization.status_changes.order_by("pk").values_list("from_status", "to_status", "changed_by"))
    assert steps == [("draft", "submitted", front_desk.pk), ("submitted", "approved", admin_user.pk)]
    assert authorization.status_changes.get(to_status="submitted").note == "Faxed"
    assert all(change.changed_at for change in authorization.status_changes.all())


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((), "approved"),  # a draft is submitted first
        ((), "expired"),
        (("submitted",), "expired"),
        (("submitted", "denied"), "approved"),  # a denial is answered only by an appeal
        (("cancelled",), "submitted"),
    ],
)
def test_steps_outside_the_allowed_path_are_refused(patient, front_desk, path, refused):
    authorization = draft(patient, front_desk, reference="PA-9", units_authorized=12, starts_on=JAN_4, ends_on=MAR_31)
    for to in path:
        step(authorization, to, front_desk, note="The payer's reason")
    with pytest.raises(ValidationError, match="cannot be marked|only when it is sent"):
        authorization_transition(authorization=authorization, to=refused, by=front_desk)
    authorization.refresh_from_db()
    assert authorization.status == (path[-1] if path else "draft")


def test_approval_needs_number_dates_and_units(patient, front_desk):
    authorization = draft(patient, front_desk)
    submitted(authorization, front_desk)

    with pytest.raises(ValidationError) as caught:
        authorization_transition(authorization=authorization, to="approved", by=front_desk)

    assert len(caught.value.messages) == 3
    authorization.refresh_from_db()
    assert authorization.status == "submitted"
    assert not authorization.status_changes.filter(to_status="approved").exists()


def test_clinicians_and_patients_do_not_work_authorizations(patient, front_desk, clinician, patient_user):
    authorization = draft(patient, front_desk)
    for person in (clinician, patient_user):
        with pytest.raises(PermissionDenied):
            authorization_transition(authorization=authorization, to="submitted", by=person)
        with pytest.raises(PermissionDenied):
            draft(patient, person)


def test_a_closed_authorization_cannot_be_edited_and_an_approved_one_keeps_its_number(patient, front_desk):
    authorization = approved(patient, front_desk)
    with pytest.raises(ValidationError, match="authorization number"):
        authorization_update(authorization=authorization, by=front_desk, reference="")
    authorization_transition(authorization=authorization, to="cancelled", by=front_desk)
    with pytest.raises(ValidationError, match="can no longer be changed"):
        authorization_update(authorization=authorization, by=front_desk, notes="late note")


def test_dates_must_be_in_order(patient, front_desk):
    with pytest.raises(ValidationError, match="last day"):
        draft(patient, front_desk, starts_on=MAR_31, ends_on=JAN_4)
    assert not PriorAuthorization.objects.exists()


# --- units used ---------------------------------------------------------------------------------------------


def test_units_count_attended_sessions_on_local_days_inside_the_dates(patient, front_desk, clinician):
    authorization = approved(patient, front_desk)  # 4 Jan - 31 Mar 2027
    book(patient, clinician, date(2027, 1, 3), status="completed", hour=23, minute=30)  # the day before
    book(patient, clinician, JAN_4 + timedelta(days=3), status="completed")
    book(patient, clinician, JAN_4 + timedelta(days=10), status="checked_in")
    book(patient, clinician, JAN_4 + timedelta(days=17), status="in_progress")
    book(patient, clinician, JAN_4 + timedelta(days=24), status="no_show")
    book(patient, clinician, JAN_4 + timedelta(days=31), status="cancelled")
    book(patient, clinician, JAN_4 + timedelta(days=38))  # scheduled: not used yet
    # 23:30 in New York on the last day is 04:30 UTC the next day: still the last day at the clinic.
    book(patient, clinician, MAR_31, status="completed", hour=23, minute=30)
    book(patient, clinician, MAR_31 + timedelta(days=3), status="completed")

    assert units_used_count(authorization) == 4


def test_approval_counts_sessions_already_given_and_refresh_counts_again(patient, front_desk, clinician):
    book(patient, clinician, JAN_4, status="completed")
    authorization = approved(patient, front_desk)
    assert authorization.units_used == 1
    book(patient, clinician, JAN_4 + timedelta(days=7), status="completed")

    refreshed = authorization_units_refresh(authorization=authorization, by=front_desk)

    assert refreshed.units_used == 2
    assert refreshed.units_counted_at is not None
    with pytest.raises(PermissionDenied):
        authorization_units_refresh(authorization=authorization, by=clinician)


# --- the daily check ----------------------------------------------------------------------------------------


def test_ending_soon_warns_once_and_again_after_an_extension(patient, front_desk):
    authorization = approved(patient, front_desk)  # ends 31 Mar

    assert authorization_check(authorization=authorization, today=date(2027, 3, 16)).raised == []  # 15 days out
    first = authorization_check(authorization=authorization, today=date(2027, 3, 17))
    again = authorization_check(authorization=authorization, today=date(2027, 3, 18))

    assert [a.key for a in first.raised] == [f"authorization-{authorization.pk}-ends-2027-03-31"]
    assert again.raised == []
    alert = StaffAlert.objects.get()
    assert alert.kind == StaffAlert.Kind.AUTHORIZATION
    assert alert.audience == StaffAlert.Audience.FRONT_OFFICE
    assert alert.patient == patient
    assert "PA-1001" in alert.summary and "Acme Health" in alert.summary
    assert patient.family_name not in alert.summary and patient.given_name not in alert.summary
    assert alert.link == f"/billing/authorizations/{authorization.pk}/"

    authorization_update(authorization=authorization, by=front_desk, ends_on=date(2027, 6, 30))
    assert authorization_check(authorization=authorization, today=date(2027, 3, 19)).raised == []
    extended = authorization_check(authorization=authorization, today=date(2027, 6, 20))
    assert [a.key for a in extended.raised] == [f"authorization-{authorization.pk}-ends-2027-06-30"]


def test_cancelling_by_hand_acknowledges_its_warnings(patient, front_desk):
    authorization = approved(patient, front_desk)
    authorization_check(authorization=authorization, today=date(2027, 3, 20))
    other = approved(patient, front_desk)
    authorization_check(authorization=other, today=date(2027, 3, 20))
    authorization_transition(authorization=authorization, to="cancelled", by=front_desk, note="Patient changed plan.")
    mine = StaffAlert.objects.get(key__startswith=f"authorization-{authorization.pk}-")
    assert mine.acknowledged_by == front_desk
    assert StaffAlert.objects.get(key__startswith=f"authorization-{other.pk}-").acknowledged_at is None


def test_units_nearly_used_warns_at_eighty_percent(patient, front_desk, clinician):
    authorization = approved(patient, front_desk, units=5)
    today = date(2027, 2, 1)
    for week in range(3):
        book(patient, clinician, JAN_4 + timedelta(days=7 * week), status="completed")
    assert authorization_check(authorization=authorization, today=today).raised == []  # 3 of 5: 60 %

    book(patient, clinician, JAN_4 + timedelta(days=21), status="completed")
    check = authorization_check(authorization=authorization, today=today)  # 4 of 5: 80 %

    assert [a.key for a in check.raised] == [f"authorization-{authorization.pk}-units-5"]
    assert "4 of 5 units used" in check.raised[0].summary
    assert authorization_check(authorization=authorization, today=today).raised == []


def test_booked_sessions_after_the_end_or_beyond_the_units_are_warned_once(patient, front_desk, clinician):
    authorization = approved(patient, front_desk, units=3)
    book(patient, clinician, JAN_4, status="completed")
    book(patient, clinician, date(2027, 2, 1))
    book(patient, clinician, date(2027, 2, 8))
    book(patient, clinician, date(2027, 2, 15))  # three booked inside the dates, two units left
    book(patient, clinician, date(2027, 4, 5))  # after the last day

    check = authorization_check(authorization=authorization, today=date(2027, 1, 20))

    assert {a.key for a in check.raised} == {
        f"authorization-{authorization.pk}-booked-after-2027-03-31",
        f"authorization-{authorization.pk}-booked-over-units-3",
    }
    assert "1 session is booked after it" in StaffAlert.objects.get(key__contains="booked-after").summary
    assert "3 sessions are booked but 2 units left" in StaffAlert.objects.get(key__contains="over-units").summary
    assert authorization_check(authorization=authorization, today=date(2027, 1, 21)).raised == []


def test_past_its_last_day_it_is_marked_expired_by_the_check(patient, front_desk):
    authorization = approved(patient, front_desk)

    check = authorization_check(authorization=authorization, today=date(2027, 4, 1))

    assert check.expired
    authorization.refresh_from_db()
    assert authorization.status == "expired"
    change = authorization.status_changes.first()
    assert (change.from_status, change.to_status, change.changed_by) == ("approved", "expired", None)
    again = authorization_check(authorization=authorization, today=date(2027, 4, 2))
    assert not again.expired and again.raised == []
    assert AuthorizationStatusChange.objects.filter(to_status="expired").count() == 1


def test_the_check_leaves_authorizations_that_are_not_approved_alone(patient, front_desk, clinician):
    authorization = draft(patient, front_desk, reference="X", units_authorized=1, starts_on=JAN_4, ends_on=MAR_31)
    book(patient, clinician, JAN_4, status="completed")

    check = authorization_check(authorization=authorization, today=date(2027, 3, 30))

    assert check.raised == [] and not check.expired
    authorization.refresh_from_db()
    assert authorization.units_used == 0 and authorization.status == "draft"
    assert alert_keys() == set()
