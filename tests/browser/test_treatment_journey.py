"""From an enrolled patient to a signed session record in a real browser, then the patient's view of what comes next.

The clock is moved with time-machine. The live server answers from another thread of this process, so it sees the
same clock: the day starts on a clinic Monday morning, and the monitoring time passes without waiting for it.

On the way (clinical review of 2026-12-01, items 3-6): the dosing-day suicide-risk re-screen in the pre-dose checks,
a 40-minute infusion whose end starts the observation, 200/120 at 42 minutes raising an urgent alert on the record and
the clinician's home page, and a discharge refused while the latest MOAA/S is below 5, whatever boxes are ticked.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create
from sessions.consent.services import consent_accept_in_portal
from sessions.models import ConsentDocument, DosingSession, Protocol, Room, TreatmentPlan
from sessions.models.record import DISCHARGE_CRITERIA
from sessions.scheduling.enrollment import enrollment_create
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_sign_in import current_totp, submit_password
from tests.conftest import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

# Under SESSION_IDLE_MINUTES (15): the clinician makes a request at least this often while the patient is monitored.
STEP = timedelta(minutes=14)
# Readings every STEP after the dose, the last at 56 minutes; the third, at 42 minutes, is dangerously high.
READINGS = [
    {"sbp": "132", "dbp": "84", "hr": "80", "spo2": "97", "rr": "16"},
    {"sbp": "128", "dbp": "82", "hr": "76", "spo2": "98", "rr": "15"},
    {"sbp": "200", "dbp": "120", "hr": "96", "spo2": "97", "rr": "16"},
    {"sbp": "122", "dbp": "78", "hr": "72", "spo2": "99", "rr": "14"},
]
INFUSION_MINUTES = 40
VITAL_LABELS = {
    "sbp": "Systolic BP (mmHg)",
    "dbp": "Diastolic BP (mmHg)",
    "hr": "Heart rate (/min)",
    "spo2": "SpO₂ (%)",
    "rr": "Respiratory rate (/min)",
}


def when(moment, pattern: str) -> str:
    return timezone.localtime(moment).strftime(pattern)


def fill_readings(form, readings: dict[str, str]) -> None:
    for name, value in readings.items():
        form.get_by_label(VITAL_LABELS[name]).fill(value)


def add_score(page, score: str) -> None:
    form = page.locator("form#score")
    form.get_by_label("Scale").select_option(label="MOAA/S (sedation, 0–5)")
    form.get_by_label("Score").fill(score)
    form.get_by_role("button", name="Add score").click()
    expect(page.get_by_text("Score added.")).to_be_visible()


def tick_discharge_criteria(page) -> None:
    discharge = page.locator("section#discharge form")
    for _, label in DISCHARGE_CRITERIA:
        discharge.get_by_label(label).check()


def test_clinician_plans_doses_and_signs_a_session_and_the_patient_sees_the_next_one(
    page, browser, live_server, time_machine
):
    clinician = make_user("okafor", Role.CLINICIAN)
    device = TOTPDevice.objects.get(user=clinician)
    patient = patient_create(
        created_by=None,
        given_name="Rowan",
        family_name="Ashby",
        date_of_birth=date(1984, 6, 2),
        primary_clinician=clinician,
        user=make_user("rowan-portal", Role.PATIENT),
        weight_kg=Decimal("70.0"),
    )
    enrollment_create(
        patient=patient, by=clinician, override_justification="Treatment journey test patient, gate overridden."
    )
    Room.objects.create(name="Infusion chair 2")
    protocol = Protocol.objects.get(route="iv")
    # The patient has read and accepted the IV consent form in the portal (sessions.consent).
    consent_accept_in_portal(
        patient=patient, document=ConsentDocument.objects.get(route="iv", version=1), by=patient.user
    )

    # A clinic Monday (the IV protocol doses Mon/Wed/Fri), 07:45: the first session is at opening time, 08:00.
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    time_machine.move_to(timezone.make_aware(datetime.combine(monday, time(7, 45))), tick=True)

    # ---- Clinician: sign in with a second factor, open the chart --------------------------------------
    page.goto("/accounts/login/")
    submit_password(page, "okafor", PASSWORD)
    page.locator("input[name=token]").fill(current_totp(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("home-heading")).to_have_text("My patients")
    page.get_by_role("region", name="Patients in my care").get_by_role("link", name=patient.mrn).click()
    expect(page.get_by_test_id("patient-status")).to_have_text("Enrolled")

    # ---- Plan: propose the series, then book it ---------------------------------------------------------
    page.get_by_role("link", name="Plan treatment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan treatment for Rowan Ashby")
    page.get_by_label("Protocol").select_option(label=protocol.name)
    page.get_by_label("Planned dose").fill("0.5")
    page.get_by_label("First session on or after").fill(monday.isoformat())
    page.get_by_label("Room").select_option(label="Infusion chair 2")
    expect(page.get_by_label("Clinician")).to_have_value(str(clinician.pk))
    page.get_by_role("button", name="Propose dates").click()

    proposed = page.get_by_test_id("plan-preview").locator("tbody tr")
    expect(proposed).to_have_count(6)
    expect(proposed.first).to_contain_text(f"{monday:%a} {monday.day} {monday:%b %Y}, 08:00")
    expect(proposed.last).to_contain_text("Induction")
    page.get_by_role("button", name="Book these 6 sessions").click()

    expect(page.get_by_text("6 sessions booked.")).to_be_visible()
    plan = TreatmentPlan.objects.get(patient=patient)
    expect(page).to_have_url(f"{live_server.url}/treatment/plan/{plan.pk}/")
    first, second = plan.sessions.order_by("starts_at")[:2]
    assert when(first.starts_at, "%Y-%m-%d %H:%M") == f"{monday.isoformat()} 08:00"

    # ---- Plan page: the patient arrives and is checked in ---------------------------------------------
    time_machine.shift(STEP)  # 07:59
    record_link = page.get_by_role("link", name="Record of session 1", exact=True)
    first_row = page.get_by_role("row").filter(has=record_link)
    page.once("dialog", lambda dialog: dialog.accept())  # "Check in the patient for session 1?"
    first_row.get_by_role("button", name="Check in").click()
    expect(page.get_by_text("Session updated.")).to_be_visible()
    expect(first_row).to_contain_text("Checked in")
    expect(first_row.get_by_role("button", name="Check in")).to_have_count(0)
    record_link.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Session record")
    expect(page.get_by_test_id("session-summary")).to_contain_text("session 1 (induction)")
    expect(page.get_by_test_id("session-summary")).to_contain_text("Checked in")

    # ---- Pre-dose checks -------------------------------------------------------------------------------
    checks = page.locator("#check form")
    expect(page.get_by_test_id("consent-status")).to_contain_text("version 1, accepted")
    checks.get_by_label("Nothing by mouth for the required time").check()
    checks.get_by_label("Driver / escort home (name)").fill("Sam Ashby")
    fill_readings(checks, {"sbp": "124", "dbp": "78", "hr": "72", "spo2": "98", "rr": "14"})
    checks.get_by_label("Suicide-risk re-screen today").select_option(label="PHQ-9 item 9")
    checks.locator("select[name=check-phq9_item9]").select_option(label="0 · Not at all")
    checks.get_by_label("Could the patient be pregnant?").select_option(label="No")
    checks.get_by_role("button", name="Save pre-dose checks").click()
    expect(page.get_by_text("Pre-dose checks saved.")).to_be_visible()
    expect(page.get_by_test_id("checklist")).to_contain_text("BP 124/78 · HR 72 · SpO₂ 98% · RR 14")
    expect(page.get_by_test_id("rescreen")).to_have_text("PHQ-9 item 9: negative")
    expect(page.get_by_test_id("dosing-blocked")).to_have_count(0)

    # ---- Dose: 0.5 mg/kg for 70 kg ---------------------------------------------------------------------
    dose_section = page.locator("section#dose")
    expect(dose_section).to_contain_text("planned 0.5 mg/kg × 70.0 kg = 35.0 mg")
    dose_form = dose_section.locator("form")
    expect(dose_form.get_by_role("spinbutton", name=re.compile(r"^Dose"))).to_have_value("0.5")
    expect(dose_form.get_by_label("Infusion duration (minutes)")).to_have_value(str(INFUSION_MINUTES))
    dose_form.get_by_role("button", name="Record dose").click()
    expect(page.get_by_text("Dose recorded; monitoring has started.")).to_be_visible()
    expect(page.get_by_test_id("dose-given")).to_contain_text("35.0 mg (0.5 mg/kg × 70.0 kg)")
    expect(page.get_by_test_id("session-summary")).to_contain_text("In progress")
    dosed_at = DosingSession.objects.get(pk=first.pk).dose_administration.dosed_at
    # Observation counts from the end of the 40-minute infusion.
    earliest = dosed_at + timedelta(minutes=INFUSION_MINUTES + protocol.monitoring_minutes)
    expect(page.get_by_test_id("end-of-dosing")).to_have_text(
        when(dosed_at + timedelta(minutes=INFUSION_MINUTES), "%H:%M")
    )
    expect(page.locator("section#discharge")).to_contain_text(f"discharge from {when(earliest, '%H:%M')}")

    # ---- Monitoring: a reading every STEP until the monitoring time has passed ------------------------
    timeline = page.get_by_test_id("timeline").locator("tbody tr")
    for count, readings in enumerate(READINGS, start=1):
        time_machine.shift(STEP)
        vitals = page.locator("form#vitals")
        fill_readings(vitals, readings)
        vitals.get_by_role("button", name="Add vitals").click()
        expect(page.get_by_text("Vital signs added.")).to_be_visible()
        expect(timeline).to_have_count(count)
        expect(timeline.last).to_contain_text(f"BP {readings['sbp']}/{readings['dbp']}")
        if readings["sbp"] == "200":
            # A dangerous reading: an urgent alert on the record, and for the clinician (home page, email).
            expect(page.get_by_test_id("dangerous-vitals")).to_contain_text("BP 200/120 at or above the hold (180/110)")
    expect(timeline.first.locator("td").nth(1)).to_have_text("14")

    # ---- Sedation still present; the alert waits on the clinician's home page ------------------------------------
    time_machine.shift(STEP)  # 70 minutes after the start of the infusion
    add_score(page, "3")
    time_machine.shift(STEP)
    page.goto("/")  # the clinician's home page
    staff_alerts = page.get_by_test_id("staff-alerts")
    expect(staff_alerts).to_contain_text("Urgent · Dangerous vital signs after a dose")
    expect(staff_alerts).to_contain_text("BP 200/120 at or above the hold (180/110)")
    staff_alerts.get_by_role("link", name="Open").click()
    expect(page.get_by_test_id("dangerous-vitals")).to_be_visible()
    time_machine.shift(STEP)
    page.reload()
    time_machine.move_to(earliest + timedelta(minutes=1), tick=True)

    # ---- Discharge with every box ticked is refused while the record says MOAA/S 3 ------------------------------
    expect(page.get_by_test_id("discharge-contradictions")).to_contain_text("The latest MOAA/S is 3")
    tick_discharge_criteria(page)
    page.locator("section#discharge form").get_by_role("button", name="Discharge").click()
    expect(page.get_by_text("The record contradicts this discharge:")).to_be_visible()
    expect(page.get_by_test_id("session-summary")).to_contain_text("In progress")

    # ---- Back to baseline alertness: discharge with every criterion met, then sign ----------------------------
    add_score(page, "5")
    expect(page.get_by_test_id("discharge-contradictions")).to_have_count(0)
    tick_discharge_criteria(page)
    page.locator("section#discharge form").get_by_role("button", name="Discharge").click()
    expect(page.get_by_text("Patient discharged; the session is complete.")).to_be_visible()
    expect(page.get_by_test_id("discharged")).to_contain_text("every readiness criterion met (escort: Sam Ashby)")
    expect(page.get_by_test_id("session-summary")).to_contain_text("Completed")

    page.get_by_role("button", name="Sign the record").click()
    expect(page.get_by_text("Record signed. Later changes are added as amendments.")).to_be_visible()
    expect(page.get_by_test_id("signed")).to_contain_text("Signed by Okafor Tester")
    expect(page.get_by_test_id("signed")).to_contain_text("The record is read-only")
    for step_button in ("Save pre-dose checks", "Record dose", "Add vitals", "Add score", "Record event", "Discharge"):
        expect(page.get_by_role("button", name=step_button, exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Sign the record")).to_have_count(0)
    expect(page.get_by_role("button", name="Add amendment")).to_be_visible()
    expect(timeline).to_have_count(len(READINGS) + 2)  # and the two MOAA/S scores

    # ---- The patient, in their own browser: the second session is next, with how to prepare ------------
    patient_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    patient_context.set_default_timeout(TIMEOUT_MS)
    try:
        portal = patient_context.new_page()
        portal.goto("/accounts/login/")
        submit_password(portal, "rowan-portal", PASSWORD)
        expect(portal.get_by_test_id("home-heading")).to_have_text("My care")
        portal.get_by_role("navigation", name="Main").get_by_role("link", name="My schedule").click()
        expect(portal.get_by_test_id("schedule-heading")).to_have_text("My schedule")
        next_session = portal.get_by_test_id("next-session")
        expect(next_session).to_contain_text(when(second.starts_at, "%A %-d %B %Y, %H:%M"))
        expect(next_session).to_contain_text("Session 2 with Okafor Tester")
        expect(next_session.get_by_test_id("preparation")).to_contain_text(
            "No solid food or milk for 6 hours before your session"
        )
        expect(portal.get_by_test_id("later-sessions").get_by_role("listitem")).to_have_count(4)
        expect(portal.get_by_text(when(first.starts_at, "%A %-d %B %Y"))).to_have_count(0)
    finally:
        patient_context.close()
