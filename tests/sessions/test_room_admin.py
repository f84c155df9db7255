"""Rooms in the back office: taking a room out of use while bookings are still ahead in it is said, not silent."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from kap_clinic.kernel.accounts.roles import sync_role_groups
from sessions.models import DosingSession, Room

from .test_schedule_views import book_series, enroll

pytestmark = pytest.mark.django_db

CLINIC_TZ = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def clinic_clock(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=CLINIC_TZ), tick=False)


def deactivate(client, room: Room):
    url = reverse("admin:treatment_sessions_room_change", args=[room.pk])
    return client.post(url, {"name": room.name, "notes": room.notes}, follow=True)


def test_taking_a_room_with_bookings_ahead_out_of_use_names_them(client_for, admin_user, patient, clinician):
    sync_role_groups()
    room = Room.objects.create(name="Room A")
    enroll(patient, clinician)
    book_series(patient, clinician, room, first_day=date(2026, 12, 7))
    ahead = DosingSession.objects.filter(room=room, status__in=DosingSession.UPCOMING_STATUSES).count()
    assert ahead

    response = deactivate(client_for(admin_user), room)

    room.refresh_from_db()
    assert not room.is_active
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    warning = next((text for text in shown if "booked" in text), "")
    assert f"{ahead} sessions are still booked in Room A" in warning
    assert "2026-12-07" in warning


def test_a_room_with_nothing_ahead_goes_out_of_use_quietly(client_for, admin_user):
    sync_role_groups()
    room = Room.objects.create(name="Room B")

    response = deactivate(client_for(admin_user), room)

    room.refresh_from_db()
    assert not room.is_active
    assert not [m for m in get_messages(response.wsgi_request) if "booked" in str(m)]
