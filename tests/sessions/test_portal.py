"""The patient's view-only schedule: their own sessions, the next one first with how to prepare for it."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.roles import Role
from sessions.models import CalendarFeed, DosingSession, Protocol, Room, TreatmentPlan
from sessions.scheduling.changes import session_cancel
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def book_plan(patient, clinician, *, room_name="Room A", route="intranasal", days_ahead=1) -> TreatmentPlan:
    """Enroll the patient (overriding the gate) and book a whole series from `days_ahead` days from now."""
    enrollment_create(patient=patient, by=clinician, override_justification="Portal test patient, gate overridden.")
    protocol = Protocol.objects.get(route=route)
    return plan_create(
        patient=patient,
        protocol=protocol,
        first_day=timezone.localdate() + timedelta(days=days_ahead),
        start_time=None,
        room=Room.objects.get_or_create(name=room_name)[0],
        clinician=clinician,
        planned_dose=protocol.default_dose,
        by=clinician,
    )


@pytest.fixture
def plan(patient, clinician):
    return book_plan(patient, clinician)


@pytest.fixture
def other_plan(other_patient, other_clinician):
    return book_plan(other_patient, other_clinician, room_name="Room B", route="iv")


def _page(client, name="homes:portal_schedule", **kwargs):
    response = client.get(reverse(name, kwargs=kwargs or None))
    assert response.status_code == 200
    return response.content.decode()


def test_schedule_shows_the_next_session_first_with_the_routes_preparation(client_for, patient_user, plan):
    sessions = list(plan.sessions.order_by("starts_at"))
    html = _page(client_for(patient_user))

    preparation = plan.protocol.preparation_instructions
    assert "No food for 2 hours and no liquids for 30 minutes" in preparation
    assert preparation in html
    next_block = html.split('data-testid="next-session"')[1].split("</section>")[0]
    assert timezone.localtime(sessions[0].starts_at).strftime("%A %-d %B %Y, %H:%M") in next_block
    assert preparation in next_block
    later = html.split('data-testid="later-sessions"')[1]
    for session in sessions[1:]:
        assert reverse("sessions:portal_session", kwargs={"pk": session.pk}) in later
    # Later sessions follow in date order.
    positions = [later.index(reverse("sessions:portal_session", kwargs={"pk": s.pk})) for s in sessions[1:]]
    assert positions == sorted(positions)


def test_schedule_holds_only_the_patients_own_sessions(client_for, patient_user, plan, other_plan):
    html = _page(client_for(patient_user))
    for session in other_plan.sessions.all():
        assert reverse("sessions:portal_session", kwargs={"pk": session.pk}) not in html
    assert other_plan.protocol.preparation_instructions not in html
    linked = re.findall(r'href="/treatment/my-schedule/(\d+)/"', html)
    assert sorted(map(int, linked)) == sorted(plan.sessions.order_by("starts_at").values_list("pk", flat=True)[1:])


def test_schedule_offers_no_self_scheduling(client_for, patient_user, plan):
    session = plan.sessions.first()
    client = client_for(patient_user)
    for page in (_page(client), _page(client, "sessions:portal_session", pk=session.pk)):
        main = page.split("<main")[1]
        assert "<form" not in main
        for name in ("session_reschedule", "session_cancel", "session_check_in"):
            assert reverse(f"sessions:{name}", kwargs={"pk": session.pk}) not in main


def test_recently_cancelled_sessions_show_as_cancelled_without_the_staff_reason(
    client_for, patient_user, clinician, plan
):
    session = plan.sessions.order_by("starts_at")[1]
    session_cancel(
        session=session,
        by=clinician,
        reason="Staff note: BP 182/104 at pre-check, discuss with Dr X",
        cancelled_by="clinic",
    )
    DosingSession.objects.filter(pk=plan.sessions.order_by("starts_at")[2].pk).update(
        planner_notes=["Moved: clinician away (internal)"]
    )

    html = _page(client_for(patient_user))
    cancelled = html.split('data-testid="cancelled-sessions"')[1].split("</section>")[0]
    assert timezone.localtime(session.starts_at).strftime("%A %-d %B %Y, %H:%M") in cancelled
    assert "Cancelled" in cancelled
    assert reverse("sessions:portal_session", kwargs={"pk": session.pk}) not in html.split("cancelled-sessions")[0]
    assert "BP 182/104" not in html
    assert "clinician away" not in html

    detail = _page(client_for(patient_user), "sessions:portal_session", pk=session.pk)
    assert "This session was cancelled" in detail
    assert "BP 182/104" not in detail
    assert plan.protocol.preparation_instructions not in detail


def test_session_page_shows_its_preparation_and_no_clinical_notes(client_for, patient_user, plan):
    session = plan.sessions.order_by("starts_at")[3]
    DosingSession.objects.filter(pk=session.pk).update(planner_notes=["Moved from a clinic closure day"])
    html = _page(client_for(patient_user), "sessions:portal_session", pk=session.pk)
    assert plan.protocol.preparation_instructions in html
    assert "clinic closure" not in html
    assert str(plan.planned_dose.normalize()) not in html.split("<main")[1]


def test_another_patients_session_is_not_found(client_for, patient_user, plan, other_plan):
    client = client_for(patient_user)
    theirs = other_plan.sessions.first()
    response = client.get(reverse("sessions:portal_session", kwargs={"pk": theirs.pk}))
    assert response.status_code == 404
    mine = plan.sessions.first()
    assert client.get(reverse("sessions:portal_session", kwargs={"pk": mine.pk})).status_code == 200


@pytest.mark.parametrize("person", ["clinician", "front_desk", "admin_user"])
def test_staff_are_refused_the_portal_pages(request, client_for, patient, plan, person):
    client = client_for(request.getfixturevalue(person))
    session = plan.sessions.first()
    assert client.get(reverse("homes:portal_schedule")).status_code == 403
    assert client.get(reverse("sessions:portal_session", kwargs={"pk": session.pk})).status_code == 403
    assert client.get(reverse("sessions:portal_calendar")).status_code == 403
    assert client.post(reverse("sessions:calendar_feed_create")).status_code == 403
    assert not CalendarFeed.objects.exists()


def test_a_portal_account_without_a_patient_record_gets_not_found(client_for, db):
    stray = make_user("stray-patient", Role.PATIENT)
    client = client_for(stray)
    assert client.get(reverse("homes:portal_schedule")).status_code == 404
    assert client.get(reverse("sessions:portal_calendar")).status_code == 404
    assert client.post(reverse("sessions:calendar_feed_create")).status_code == 404


def test_patient_with_nothing_booked_is_told_so(client_for, patient_user, patient):
    html = _page(client_for(patient_user))
    assert "No sessions are booked for you" in html


def test_patient_home_shows_the_next_session_with_its_preparation(client_for, patient_user, plan):
    first = plan.sessions.order_by("starts_at").first()
    html = _page(client_for(patient_user), "homes:home")
    block = html.split('data-testid="next-session"')[1].split("</section>")[0]
    assert "My next session" in block
    assert timezone.localtime(first.starts_at).strftime("%A %-d %B %Y, %H:%M") in block
    assert plan.protocol.preparation_instructions in block
    assert reverse("homes:portal_schedule") in html


def test_patient_menu_has_my_schedule_and_staff_menus_do_not(client_for, patient_user, clinician, patient):
    link = f'href="{reverse("homes:portal_schedule")}"'
    assert link in _page(client_for(patient_user), "homes:home")
    assert link not in _page(client_for(clinician), "homes:home")


# ---- The calendar-link page ---------------------------------------------------------------------


def test_creating_a_link_shows_the_full_url_once(client_for, patient_user, patient):
    client = client_for(patient_user)
    response = client.post(reverse("sessions:calendar_feed_create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("sessions:portal_calendar")

    page = client.get(reverse("sessions:portal_calendar"))
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    html = page.content.decode()
    feed = CalendarFeed.objects.get(patient=patient)
    start = html.index('id="feed-url"')
    url = html[start:].split('value="')[1].split('"')[0]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert url.startswith("http") and url.endswith(".ics")
    assert len(token) >= 40
    assert "webcal://" in html
    assert client.get(urlsplit(url).path).status_code == 200

    again = client.get(reverse("sessions:portal_calendar")).content.decode()
    assert token not in again
    assert 'id="feed-url"' not in again
    assert "Made on" in again
    assert feed.is_live


def test_getting_a_new_link_revokes_the_old_one(client_for, patient_user, patient):
    client = client_for(patient_user)
    client.post(reverse("sessions:calendar_feed_create"))
    first = CalendarFeed.objects.get(patient=patient)
    response = client.post(reverse("sessions:calendar_feed_create"), follow=True)
    assert "The old one no longer works" in response.content.decode()
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).count() == 1


def test_turning_the_link_off_revokes_it(client_for, patient_user, patient):
    client = client_for(patient_user)
    client.post(reverse("sessions:calendar_feed_create"))
    response = client.post(reverse("sessions:calendar_feed_revoke"), follow=True)
    html = response.content.decode()
    assert "no longer works" in html
    assert "You have no calendar link" in html
    assert 'id="feed-url"' not in html
    assert not CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).exists()


def test_calendar_link_changes_are_post_only(client_for, patient_user, patient):
    client = client_for(patient_user)
    assert client.get(reverse("sessions:calendar_feed_create")).status_code == 405
    assert client.get(reverse("sessions:calendar_feed_revoke")).status_code == 405
    assert not CalendarFeed.objects.exists()


def test_a_patient_manages_only_their_own_link(client_for, patient_user, other_patient_user, patient, other_patient):
    client_for(other_patient_user).post(reverse("sessions:calendar_feed_create"))
    client_for(patient_user).post(reverse("sessions:calendar_feed_revoke"))
    assert CalendarFeed.objects.get(patient=other_patient).is_live
    assert not CalendarFeed.objects.filter(patient=patient).exists()
