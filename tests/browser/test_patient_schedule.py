"""A patient reads their schedule in the portal and subscribes to it as a calendar, in a real browser."""

import re
from datetime import date

import icalendar
import pytest
from django.utils import timezone

from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create
from sessions.models import CalendarFeed
from tests.browser.test_sign_in import submit_password
from tests.conftest import PASSWORD, make_user
from tests.sessions.test_portal import book_plan

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser


def test_patient_sees_the_next_session_with_its_preparation_and_subscribes(page, browser, live_server, settings):
    settings.SITE_URL = live_server.url  # the link the page hands out points at this server
    clinician = make_user("mensah", Role.CLINICIAN)
    user = make_user("ada-portal", Role.PATIENT)
    patient = patient_create(
        created_by=None,
        given_name="Ada",
        family_name="Quill",
        date_of_birth=date(1980, 5, 17),
        primary_clinician=clinician,
        user=user,
    )
    plan = book_plan(patient, clinician)
    first = plan.sessions.order_by("starts_at").first()
    when = timezone.localtime(first.starts_at).strftime("%A %-d %B %Y, %H:%M")
    preparation = plan.protocol.preparation_instructions

    # ---- Home: the next session and what to do before it ----------------------------------------
    page.goto("/accounts/login/")
    submit_password(page, "ada-portal", PASSWORD)
    expect(page.get_by_test_id("home-heading")).to_have_text("My care")
    next_on_home = page.get_by_test_id("next-session")
    expect(next_on_home).to_contain_text("My next session")
    expect(next_on_home).to_contain_text(when)
    expect(next_on_home).to_contain_text(preparation)

    # ---- The schedule: next session first, then the rest ------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My schedule").click()
    expect(page.get_by_test_id("schedule-heading")).to_have_text("My schedule")
    next_session = page.get_by_test_id("next-session")
    expect(next_session).to_contain_text(when)
    expect(next_session.get_by_test_id("preparation")).to_contain_text("No food for 2 hours")
    expect(page.get_by_test_id("later-sessions").get_by_role("listitem")).to_have_count(plan.sessions.count() - 1)
    expect(page.get_by_role("button", name=re.compile("Reschedule|Cancel", re.IGNORECASE))).to_have_count(0)

    # ---- Subscribe: make the calendar link, shown once --------------------------------------------
    page.get_by_role("link", name="Add to my calendar").click()
    expect(page.get_by_test_id("feed-status")).to_have_text("You have no calendar link.")
    page.get_by_role("button", name="Create my calendar link").click()
    expect(page.get_by_text("Your calendar link is ready.")).to_be_visible()
    link = page.get_by_label(re.compile("Copy this address"))
    expect(link).to_have_value(re.compile(rf"^{re.escape(live_server.url)}/calendar/[\w-]{{43}}\.ics$"))
    url = link.input_value()
    expect(page.get_by_role("link", name="Open in my calendar app")).to_have_attribute(
        "href", "webcal://" + url.split("://", 1)[1]
    )

    # A calendar app (no cookies, no sign-in) reads the feed: one plain appointment per session.
    calendar_app = browser.new_context()
    try:
        response = calendar_app.request.get(url)
        assert response.status == 200
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        events = icalendar.Calendar.from_ical(response.body()).walk("VEVENT")
    finally:
        calendar_app.close()
    assert len(events) == plan.sessions.count()
    assert {str(event["SUMMARY"]) for event in events} == {"Appointment at KAP Clinic"}

    # The link is not shown again; the page says when it was made and offers a new one.
    page.reload()
    expect(page.get_by_test_id("new-feed-link")).to_have_count(0)
    expect(page.get_by_test_id("feed-status")).to_contain_text("Made on")
    expect(page.get_by_role("button", name="Get a new link")).to_be_visible()
    feed = CalendarFeed.objects.get(patient=patient)
    assert feed.is_live and feed.last_fetched_at is not None
