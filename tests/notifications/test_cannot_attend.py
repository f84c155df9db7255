"""The reminder's confirmation page lets the patient say they can't come: kept on the session, the front desk is
alerted to call them, and the page shows the clinic's number."""

from datetime import timedelta

import pytest
from django.urls import reverse

from kap_clinic.kernel.notifications.models import SessionConfirmation, StaffAlert
from sessions.attendance import CANNOT_ATTEND
from sessions.confirmation import confirm_token, session_cannot_attend, session_confirm
from sessions.models import DosingSession
from sessions.scheduling.changes import session_reschedule

from .conftest import MON_7_DEC, at, book_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(clinic_clock, consenting, clinician, room, settings):
    settings.REMS_SETTING_PHONE = "+1 555 0199"
    return book_series(consenting, clinician, room).sessions.order_by("starts_at").first()


def url(session):
    return reverse("session_confirm", args=[confirm_token(session)])


def test_the_page_offers_i_cant_attend(session, client):
    body = client.get(url(session)).content.decode()
    assert "I will attend" in body and "I can't attend" in body


def test_i_cant_attend_is_kept_and_raises_one_front_office_alert(session, client):
    session_confirm(session=session, driver_name="Sam Quill")
    response = client.post(url(session), {"answer": "cannot_attend"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "The clinic will call you" in body and "+1 555 0199" in body
    session.refresh_from_db()
    assert session.cannot_attend_start == session.starts_at
    assert not SessionConfirmation.objects.filter(session=session).exists()
    alert = StaffAlert.objects.get(kind=StaffAlert.Kind.CANNOT_ATTEND)
    assert alert.audience == StaffAlert.Audience.FRONT_OFFICE and alert.patient_id == session.patient_id
    assert session.patient.mrn not in alert.summary and "call the patient" in alert.summary
    client.post(url(session), {"answer": "cannot_attend"})
    assert StaffAlert.objects.filter(kind=StaffAlert.Kind.CANNOT_ATTEND).count() == 1


def test_confirming_after_saying_no_stands_and_leaves_the_call_to_the_front_desk(session, client):
    client.post(url(session), {"answer": "cannot_attend"})
    client.post(url(session), {"driver_name": "Sam Quill"})

    session.refresh_from_db()
    assert session.cannot_attend_start is None
    assert not DosingSession.objects.filter(CANNOT_ATTEND, pk=session.pk).exists()
    assert SessionConfirmation.objects.get(session=session).driver_name == "Sam Quill"
    alert = StaffAlert.objects.get(kind=StaffAlert.Kind.CANNOT_ATTEND)
    assert alert.acknowledged_at is None  # staff still call, and find the patient coming


def test_a_moved_session_asks_again(session, client, clinician):
    client.post(url(session), {"answer": "cannot_attend"})
    session_reschedule(session=session, new_start=at(MON_7_DEC, 13), by=clinician)
    assert not DosingSession.objects.filter(CANNOT_ATTEND, pk=session.pk).exists()


def test_the_expired_link_page_shows_the_clinic_phone(session, client):
    response = client.get(reverse("session_confirm", args=["nonsense"]))
    assert response.status_code == 404
    assert "call the clinic at" in response.content.decode() and "+1 555 0199" in response.content.decode()


def test_front_desk_sees_the_alert_on_their_home(session, client, client_for, front_desk):
    client.post(url(session), {"answer": "cannot_attend"})
    body = client_for(front_desk).get(reverse("homes:home")).content.decode()
    assert "call the patient to rebook" in body


def test_tomorrows_list_says_who_cant_attend(session, client_for, front_desk, clinic_clock):
    session_cannot_attend(session=session)
    clinic_clock.move_to(at(MON_7_DEC - timedelta(days=1), 12), tick=False)
    page = client_for(front_desk).get(reverse("homes:home")).content.decode()
    assert "Patient can&#x27;t attend: call them to rebook" in page
