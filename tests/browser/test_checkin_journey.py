"""A patient signs in on a phone and fills a check-in; a missed answer is pointed out and what was chosen stays."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from aftercare.models import CheckIn
from aftercare.services import checkin_submit
from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_sign_in import current_totp, submit_password
from tests.conftest import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_patient_fills_a_checkin_on_a_phone(phone):
    page = phone
    clinician = make_user("mensah", Role.CLINICIAN)
    user = make_user("ada-phone", Role.PATIENT)
    patient = patient_create(
        created_by=None,
        given_name="Ada",
        family_name="Quill",
        date_of_birth=date(1980, 5, 17),
        primary_clinician=clinician,
        user=user,
    )
    opens = timezone.now() - timedelta(hours=2)
    checkin = CheckIn.objects.create(
        patient=patient,
        instruments=["phq9", "gad7"],
        opens_at=opens,
        due_at=opens + timedelta(days=3),
        closes_at=opens + timedelta(days=10),
    )

    page.goto("/accounts/login/")
    submit_password(page, "ada-phone", PASSWORD)
    expect(page.get_by_test_id("home-heading")).to_have_text("My care")
    page.get_by_test_id("checkins-due").get_by_role("link", name="Fill in").click()
    expect(page.get_by_role("heading", name="PHQ-9")).to_be_visible()

    # The page fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    phq9 = page.get_by_role("group", name="1. Little interest or pleasure in doing things")
    phq9.get_by_label("Several days").check()
    for number in range(2, 10):
        page.locator(f"input[name='phq9-item_{number}'][value='0']").check()
    for number in range(1, 7):  # GAD-7 item 7 left out
        page.locator(f"input[name='gad7-item_{number}'][value='1']").check()
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_text("Please answer every question of GAD-7.")).to_be_visible()
    expect(phq9.get_by_label("Several days")).to_be_checked()
    expect(page.locator("input[name='gad7-item_6'][value='1']")).to_be_checked()
    page.locator("input[name='gad7-item_7'][value='2']").check()
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_text("Your answers were sent to your care team.")).to_be_visible()
    expect(page.get_by_test_id("checkins-due")).to_have_text("Nothing to fill in right now.")
    checkin.refresh_from_db()
    assert checkin.status == "completed"
    assert sorted(checkin.responses.values_list("code", "total")) == [("gad7", 8), ("phq9", 1)]


def test_clinician_follows_the_answers_on_the_trend_chart(page):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    clinician = make_user("mensah", Role.CLINICIAN)
    user = make_user("ada-trend", Role.PATIENT)
    patient = patient_create(
        created_by=None,
        given_name="Ada",
        family_name="Quill",
        date_of_birth=date(1980, 5, 17),
        primary_clinician=clinician,
        user=user,
    )
    for days_ago, phq9 in ((20, [2] * 9), (10, [1] * 8 + [0])):
        opens = timezone.now() - timedelta(days=days_ago)
        checkin = CheckIn.objects.create(
            patient=patient,
            instruments=["phq9"],
            opens_at=opens,
            due_at=timezone.now(),
            closes_at=timezone.now() + timedelta(days=1),
        )
        checkin_submit(checkin=checkin, answers={"phq9": phq9}, by=user)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto("/accounts/login/")
    submit_password(page, "mensah", PASSWORD)
    page.locator("input[name=token]").fill(current_totp(TOTPDevice.objects.get(user=clinician)))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("region", name="Patients in my care").get_by_role("link", name=patient.mrn).click()
    page.get_by_role("link", name="Aftercare").click()
    chart = page.locator("#outcome-chart")
    expect(chart).to_be_visible()
    # Chart.js made its chart on the canvas: the CSP let the static script run. (A canvas is 300 wide before any
    # script touches it, so its width says nothing; the chart object does.)
    page.wait_for_function("window.Chart !== undefined && Chart.getChart('outcome-chart') !== undefined")
    assert page.evaluate("Chart.getChart('outcome-chart').data.datasets[0].data.filter(v => v !== null)") == [18, 8]
    # The reference lines of issue item 16 are drawn too (the baseline ones only once a pre-treatment score exists).
    labels = page.evaluate("Chart.getChart('outcome-chart').data.datasets.map(d => d.label)")
    assert "Remission: PHQ-9 below 5" in labels
    assert errors == []
