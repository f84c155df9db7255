"""Every role's main pages fit the screen, from a phone to a laptop: nothing makes the page scroll sideways.

One screenshot per page and width goes to test-artifacts/ for a person to look over.
"""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_sign_in import submit_code, submit_password
from tests.conftest import PASSWORD, make_user
from tests.sessions.test_portal import book_plan

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

WIDTHS = (390, 768, 1366)
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _clinic(clinician):
    """A patient with long names and a whole series booked, one session of it today: the widest rows the pages show."""
    user = make_user("ada-portal", Role.PATIENT)
    patient = patient_create(
        created_by=None,
        given_name="Anastasia-Philippa",
        family_name="Quillingsworth-Montgomery",
        date_of_birth=date(1980, 5, 17),
        primary_clinician=clinician,
        user=user,
        email="anastasia.philippa.quillingsworth-montgomery@example.org",
    )
    plan = book_plan(patient, clinician, room_name="Garden treatment room", days_ahead=1)
    first = plan.sessions.order_by("starts_at").first()
    # The first session moved to later today, so the day's table on the home pages has a row.
    later_today = timezone.localtime().replace(hour=22, minute=0, second=0, microsecond=0)
    type(first).objects.filter(pk=first.pk).update(
        starts_at=later_today, ends_at=later_today + (first.ends_at - first.starts_at)
    )
    return patient


def _pages(role, patient):
    if role == Role.PATIENT:
        return {
            "home": reverse("homes:home"),
            "my-schedule": reverse("homes:portal_schedule"),
            "my-checkins": reverse("aftercare:portal_checkins"),
            "my-record": reverse("patients:my_record"),
        }
    return {
        "home": reverse("homes:home"),
        "patients": reverse("patients:list"),
        "schedule": reverse("sessions:schedule") + "?span=week",
        "reminders": reverse("notifications:list"),
        "chart": reverse("homes:patient_chart", args=[patient.pk]),
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN, Role.INTAKE, Role.PATIENT], ids=str)
def test_main_pages_fit_phone_tablet_and_laptop_widths(page, live_server, role):
    clinician = make_user("mensah-montgomery", Role.CLINICIAN)
    patient = _clinic(clinician)
    username = {Role.PATIENT: "ada-portal", Role.CLINICIAN: "mensah-montgomery"}.get(role, f"{role}-layout")
    if role not in (Role.PATIENT, Role.CLINICIAN):
        make_user(username, role)

    page.goto("/accounts/login/")
    submit_password(page, username, PASSWORD)
    if role != Role.PATIENT:
        submit_code(page, username)
    expect(page.get_by_test_id("home-heading")).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    sign_out = page.get_by_role("button", name="Sign out")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in _pages(role, patient).items():
            page.goto(url)
            expect(page.locator("main h1").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / f"layout-{role}-{name}-{width}.png"), full_page=True)
            assert page.evaluate(OVERFLOW) <= 0, f"{url} scrolls sideways at {width} px"
            if width >= 1200:  # the whole menu in the bar, "Sign out" on screen
                expect(page.get_by_role("button", name="Menu")).to_be_hidden()
                box = sign_out.bounding_box()
                assert box is not None and box["x"] + box["width"] <= width, f"Sign out off screen at {width} px"
            else:  # folded behind the menu button, which opens it
                expect(sign_out).to_be_hidden()
    if role == Role.ADMIN:  # the longest menu still fits in the bar at the narrowest width that shows it whole
        page.set_viewport_size({"width": 1200, "height": 900})
        page.goto(reverse("homes:home"))
        page.screenshot(path=str(ARTIFACTS / f"layout-{role}-home-1200.png"))
        assert page.evaluate(OVERFLOW) <= 0
        box = sign_out.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1200

    # On a phone the folded menu opens, and the secondary pages are one click further under "More".
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(reverse("homes:home"))
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#main-nav.collapse.show")).to_be_visible()  # opened, not still unfolding
    expect(sign_out).to_be_visible()
    if role != Role.PATIENT:
        page.get_by_test_id("nav-more").click()
        expect(page.get_by_role("link", name="Two-factor sign-in")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
