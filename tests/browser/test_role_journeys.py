"""Each role's day in the clinic, in a real browser on a phone (390 px) and on a laptop (1366 px).

Every step checks what the page says and that it does not scroll sideways, and saves a screenshot to
<artifacts>/journeys/<role>/<width>/NN-<step>.png (TEST_ARTIFACTS_DIR, by default .run/test-artifacts) for a person
to look over.

The clock is moved with time-machine to a clinic Monday at 09:00 (the live server's thread sees the same clock): the
patient's first infusion is today at 12:30, a check-in is open in the portal.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from aftercare.models import CheckIn
from kap_clinic.kernel.accounts.roles import Role, sync_role_groups
from patients.models import Patient
from patients.services import patient_create
from sessions.consent.services import consent_accept_in_portal
from sessions.models import ConsentDocument, DosingSession, Protocol, Room
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_sign_in import submit_code, submit_password
from tests.conftest import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

WIDTHS = (390, 1366)
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
IV_PREPARATION = "No solid food or milk for 6 hours before your session"


class Journey:
    """Numbered steps of one role at one width: each checks the page fits, then saves its screenshot."""

    def __init__(self, page, role, width):
        self.page, self.count = page, 0
        self.folder = ARTIFACTS / "journeys" / str(role) / str(width)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):  # a step renamed or dropped leaves no stale picture behind
            old.unlink()

    def step(self, name: str) -> None:
        self.count += 1
        self.page.wait_for_load_state()
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)
        overflow = self.page.evaluate(OVERFLOW)
        assert overflow <= 0, f"step {self.count} ({name}, {self.page.url}) scrolls sideways by {overflow} px"


@pytest.fixture
def clinic_day(time_machine):
    """A clinic Monday at 09:00: Rowan Ashby's IV series starts today at 12:30, with a check-in open in the portal."""
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    time_machine.move_to(timezone.make_aware(datetime.combine(monday, time(9, 0))), tick=True)
    sync_role_groups()
    clinician = make_user("okafor", Role.CLINICIAN)
    make_user("desk", Role.INTAKE)
    make_user("avery", Role.ADMIN)
    patient = patient_create(
        created_by=None,
        given_name="Rowan",
        family_name="Ashby",
        date_of_birth=date(1984, 6, 2),
        primary_clinician=clinician,
        user=make_user("rowan-portal", Role.PATIENT),
        weight_kg=Decimal("70.0"),
        email="rowan.ashby@example.org",
    )
    enrollment_create(patient=patient, by=clinician, override_justification="Role journey patient, gate overridden.")
    consent_accept_in_portal(
        patient=patient, document=ConsentDocument.objects.get(route="iv", version=1), by=patient.user
    )
    patient.refresh_from_db()  # enrolled: booking the series moves the patient on to induction
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="iv"),
        first_day=monday,
        start_time=time(12, 30),
        room=Room.objects.create(name="Infusion chair 2"),
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=clinician,
    )
    opens = timezone.now() - timedelta(hours=2)
    CheckIn.objects.create(
        patient=patient,
        instruments=["phq9"],
        opens_at=opens,
        due_at=opens + timedelta(days=3),
        closes_at=opens + timedelta(days=10),
    )
    today_session = plan.sessions.order_by("starts_at").first()
    assert timezone.localtime(today_session.starts_at) == timezone.make_aware(datetime.combine(monday, time(12, 30)))
    return {"monday": monday, "patient": patient, "plan": plan, "session": today_session}


def sign_in(page, username: str, *, staff: bool = True) -> None:
    page.goto("/accounts/login/")
    submit_password(page, username, PASSWORD)
    if staff:
        submit_code(page, username)


def heading(page):
    return page.locator("main h1").first


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_day(page, clinic_day, width):
    page.set_viewport_size({"width": width, "height": 900})
    journey = Journey(page, Role.ADMIN, width)
    sign_in(page, "avery")

    expect(page.get_by_test_id("home-heading")).to_have_text("Clinic health")
    journey.step("home")

    setup = page.get_by_test_id("clinic-setup")
    setup.scroll_into_view_if_needed()
    for label in ("Clinic settings", "Staff and roles", "Treatment protocols", "Rooms", "Clinic hours"):
        expect(setup.get_by_role("link", name=label, exact=True)).to_be_visible()
    journey.step("clinic-set-up")

    setup.get_by_role("link", name="Rooms", exact=True).click()
    page.get_by_role("link", name="Infusion chair 2").click()
    expect(page.locator("input[name=name]")).to_have_value("Infusion chair 2")
    journey.step("room")
    page.locator("input[name=name]").fill("Infusion chair 2 (window)")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("#result_list").get_by_role("link", name="Infusion chair 2 (window)")).to_be_visible()
    journey.step("room-saved")
    assert Room.objects.filter(name="Infusion chair 2 (window)").exists()

    page.goto(reverse("homes:audit_log"))
    expect(heading(page)).to_have_text("Audit log")
    page.get_by_label("Patient MRN").fill(clinic_day["patient"].mrn)
    page.get_by_role("button", name=re.compile("Search|Filter|Show")).click()
    expect(page.locator("main table tbody tr").first).to_be_visible()
    expect(page.locator("main table")).to_contain_text(clinic_day["patient"].mrn)
    journey.step("audit-log")


@pytest.mark.parametrize("width", WIDTHS)
def test_front_desk_day(page, clinic_day, width):
    page.set_viewport_size({"width": width, "height": 900})
    journey = Journey(page, Role.INTAKE, width)
    patient = clinic_day["patient"]
    sign_in(page, "desk")

    expect(page.get_by_test_id("home-heading")).to_have_text("Front desk")
    arrival = page.get_by_role("row").filter(has=page.get_by_role("link", name=patient.mrn))
    expect(arrival).to_contain_text("12:30")
    journey.step("home")

    page.get_by_role("link", name="Register a patient").click()
    expect(heading(page)).to_have_text("Register a patient")
    page.get_by_label("Given name").fill("Noor")
    page.get_by_label("Family name").fill("Haddad-Vandenberghe")
    page.get_by_label("Date of birth").fill("1992-11-23")
    page.get_by_label("Email", exact=True).fill("noor.haddad-vandenberghe@example.org")
    journey.step("register")
    page.get_by_role("button", name="Save").click()
    referral = Patient.objects.get(family_name="Haddad-Vandenberghe")
    expect(page.get_by_text(f"Registered patient {referral.mrn}.")).to_be_visible()
    expect(page.get_by_test_id("patient-status")).to_have_text("Referred")
    journey.step("registered")

    page.get_by_role("button", name="Start screening").click()
    expect(heading(page)).to_contain_text("Screening of Noor Haddad-Vandenberghe")
    journey.step("screening")
    page.get_by_role("link", name="PHQ-9", exact=True).click()
    expect(heading(page)).to_have_text("PHQ-9")
    for number, value in enumerate([2, 2, 1, 2, 1, 1, 2, 1, 0], start=1):
        page.locator(f"input[name=item_{number}][value='{value}']").check()
    journey.step("phq9")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("PHQ-9 saved.")).to_be_visible()
    phq9 = page.get_by_role("row").filter(has=page.get_by_role("link", name="PHQ-9", exact=True))
    expect(phq9).to_contain_text("12 · moderate")
    journey.step("phq9-saved")

    page.goto(reverse("sessions:schedule"))
    expect(heading(page)).to_contain_text(f"Schedule {clinic_day['monday']:%A}")
    expect(page.locator("main table")).to_contain_text("Ashby, Rowan")
    journey.step("schedule")

    page.goto(reverse("homes:home"))
    arrival = page.get_by_role("row").filter(has=page.get_by_role("link", name=patient.mrn))
    page.once("dialog", lambda dialog: dialog.accept())  # "Check in Rowan Ashby for 12:30?"
    arrival.get_by_role("button", name="Check in").click()
    expect(arrival.get_by_role("button", name="Undo check-in")).to_be_visible()
    expect(arrival).to_contain_text("Checked in")
    journey.step("checked-in")
    assert DosingSession.objects.get(pk=clinic_day["session"].pk).status == DosingSession.Status.CHECKED_IN


@pytest.mark.parametrize("width", WIDTHS)
def test_clinician_day(page, clinic_day, width):
    page.set_viewport_size({"width": width, "height": 900})
    journey = Journey(page, Role.CLINICIAN, width)
    patient = clinic_day["patient"]
    sign_in(page, "okafor")

    expect(page.get_by_test_id("home-heading")).to_have_text("My patients")
    expect(page.get_by_role("region", name="Patients in my care")).to_contain_text(patient.mrn)
    journey.step("home")

    page.goto(reverse("sessions:schedule"))
    expect(heading(page)).to_contain_text(f"Schedule {clinic_day['monday']:%A}")
    row = page.locator("main table tbody tr").filter(has_text="Ashby, Rowan")
    expect(row).to_contain_text("12:30")
    journey.step("day-schedule")

    page.goto(reverse("homes:patient_chart", args=[patient.pk]))
    expect(heading(page)).to_contain_text("Rowan Ashby")
    expect(page.get_by_test_id("patient-status")).to_have_text("Induction")
    journey.step("chart")

    page.goto(reverse("sessions:record_detail", args=[clinic_day["session"].pk]))
    expect(heading(page)).to_contain_text("Session record")
    expect(page.get_by_test_id("session-summary")).to_contain_text("session 1 (induction)")
    expect(page.get_by_test_id("consent-status")).to_contain_text("version 1, accepted")
    journey.step("session-record")

    page.goto(reverse("aftercare:patient", args=[patient.pk]))
    expect(heading(page)).to_contain_text("Aftercare: Rowan Ashby")
    expect(page.get_by_role("region", name="Check-ins").get_by_role("table")).to_contain_text("Open")
    journey.step("aftercare")


@pytest.mark.parametrize("width", WIDTHS)
def test_patient_day(page, clinic_day, width):
    page.set_viewport_size({"width": width, "height": 900})
    journey = Journey(page, Role.PATIENT, width)
    sign_in(page, "rowan-portal", staff=False)

    expect(page.get_by_test_id("home-heading")).to_have_text("My care")
    expect(page.get_by_test_id("checkins-due").get_by_role("link", name="Fill in")).to_be_visible()
    journey.step("home")

    page.goto(reverse("homes:portal_schedule"))
    expect(page.get_by_test_id("schedule-heading")).to_have_text("My schedule")
    next_session = page.get_by_test_id("next-session")
    expect(next_session).to_contain_text(f"{clinic_day['monday']:%A} {clinic_day['monday'].day}")
    expect(next_session).to_contain_text("12:30")
    expect(next_session.get_by_test_id("preparation")).to_contain_text(IV_PREPARATION)
    journey.step("schedule")

    page.goto(reverse("homes:home"))
    page.get_by_test_id("checkins-due").get_by_role("link", name="Fill in").click()
    expect(page.get_by_role("heading", name="PHQ-9")).to_be_visible()
    for number in range(1, 10):
        page.locator(f"input[name='phq9-item_{number}'][value='{1 if number < 4 else 0}']").check()
    journey.step("checkin")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Your answers were sent to your care team.")).to_be_visible()
    expect(page.get_by_test_id("checkins-due")).to_have_text("Nothing to fill in right now.")
    journey.step("checkin-sent")
