"""From referral to enrollment in a real browser: the front desk registers and screens, a clinician signs off."""

import re
from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.roles import Role
from patients.models import Patient
from patients.status import Status
from screening.models import Screening
from tests.browser.test_sign_in import current_totp, submit_code, submit_password
from tests.conftest import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser

# PHQ-9 totals 12 (moderate) with item 9 answered "Not at all"; GAD-7 totals 5 (mild).
PHQ9 = [2, 2, 2, 2, 1, 1, 1, 1, 0]
GAD7 = [1, 1, 1, 1, 1, 0, 0]
CSSRS_ALL_NO = [0] * 7
# AUDIT total 1 (low risk): drinks monthly or less, 1 or 2 drinks, nothing else.
AUDIT = [1] + [0] * 9
# DAST-10 all "No": item 3 ("able to stop") is reverse-scored, so the total is 1 (low).
DAST10 = [0] * 10


def tab_until_focused(page, name: str, limit: int = 40) -> None:
    """Press Tab until the keyboard focus is on a field with this name, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def answer_with_keyboard(page, answers: list[int]) -> None:
    """Answer radio groups in order with the keyboard only: Space picks the first option, arrows move along."""
    tab_until_focused(page, "item_1")
    for number, value in enumerate(answers, start=1):
        assert page.evaluate("document.activeElement.name") == f"item_{number}"
        page.keyboard.press("Space")
        for _ in range(value):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Tab")
    # Focus has left the last group for the first button, "Save" (finish the instrument).
    assert page.evaluate("document.activeElement.textContent.trim()") == "Save"
    page.keyboard.press("Enter")


def answer_with_mouse(page, answers: list[int]) -> None:
    for number, value in enumerate(answers, start=1):
        page.locator(f"input[name=item_{number}][value='{value}']").check()
    page.get_by_role("button", name="Save", exact=True).click()


def open_part(page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def part_row(page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_front_desk_screens_a_new_patient_and_a_clinician_signs_off_and_enrolls(page, live_server):
    make_user("desk-browser", Role.INTAKE)
    clinician = make_user("okafor", Role.CLINICIAN)
    device = TOTPDevice.objects.get(user=clinician)

    # ---- Front desk: sign in and register the referral -----------------------------------------
    page.goto("/accounts/login/")
    submit_password(page, "desk-browser", PASSWORD)
    submit_code(page, "desk-browser")
    expect(page.get_by_test_id("home-heading")).to_have_text("Front desk")
    page.get_by_role("link", name="Register a patient").click()

    page.get_by_label("Given name").fill("Rowan")
    page.get_by_label("Family name").fill("Ashby")
    page.get_by_label("Date of birth").fill("1984-06-02")
    page.get_by_label("Sex (for scoring)").select_option(label="Female")
    page.get_by_label("Email", exact=True).fill("rowan.ashby@example.org")
    page.get_by_label("Phone", exact=True).fill("617 555 0142")
    page.get_by_label("Agrees to reminders by email").check()
    page.get_by_label("Agrees to reminders by text message").check()
    page.get_by_label("Emergency contact name").fill("Sam Ashby")
    page.get_by_label("Emergency contact phone").fill("617 555 0199")
    page.get_by_label("Emergency contact relationship").fill("Sister")
    page.get_by_label("Weight (kg)").fill("72.5")
    page.get_by_label("Primary clinician").select_option(label="Okafor Tester")
    page.get_by_role("button", name="Save").click()

    patient = Patient.objects.get(family_name="Ashby")
    expect(page).to_have_url(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_text(f"Registered patient {patient.mrn}.")).to_be_visible()
    expect(page.get_by_test_id("patient-status")).to_have_text("Referred")

    # ---- Screening: one page per instrument ------------------------------------------------------
    page.get_by_role("button", name="Start screening").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Screening of Rowan Ashby")

    open_part(page, "PHQ-9")
    answer_with_keyboard(page, PHQ9)
    expect(page.get_by_text("PHQ-9 saved.")).to_be_visible()
    expect(part_row(page, "PHQ-9")).to_contain_text("Complete")
    expect(part_row(page, "PHQ-9")).to_contain_text("12 · moderate")

    open_part(page, "GAD-7")
    answer_with_keyboard(page, GAD7)
    expect(page.get_by_text("GAD-7 saved.")).to_be_visible()
    expect(part_row(page, "GAD-7")).to_contain_text("5 · mild")

    for name, answers in (("C-SSRS Screener", CSSRS_ALL_NO), ("AUDIT", AUDIT), ("DAST-10", DAST10)):
        open_part(page, name)
        answer_with_mouse(page, answers)
        expect(page.get_by_text(f"{name} saved.")).to_be_visible()
        expect(part_row(page, name)).to_contain_text("Complete")
    expect(part_row(page, "DAST-10")).to_contain_text("1 · low")
    # A clean screener raises no suicide-risk alert.
    expect(page.get_by_text("Suicide risk.")).to_have_count(0)

    open_part(page, "Medical history")
    # Every contraindication answered (issue item 13): one by its own radio button, the rest by "none of these".
    page.get_by_role("radio", name="Interstitial, ulcerative or ketamine-induced cystitis No").check()
    page.get_by_label("None of these conditions: I asked about each one and the patient has none of them").check()
    page.get_by_label("Takes no current medications").check()
    page.get_by_label("ICD-10 code").fill("F33.1")  # the indication (issue item 14)
    page.get_by_label("Systolic BP (mmHg)").fill("120")
    page.get_by_label("Diastolic BP (mmHg)").fill("80")
    expect(page.get_by_label("Weight (kg)")).to_have_value("72.5")  # carried over from registration
    page.get_by_label("Weight (kg)").fill("73.0")
    page.get_by_label("Pregnant").select_option(label="No")
    page.get_by_label("Breastfeeding").select_option(label="No")
    page.get_by_label("Adequate antidepressant trials").fill("2")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Medical history saved.")).to_be_visible()
    expect(page.get_by_text("BP 120/80")).to_be_visible()

    page.get_by_role("button", name="Finish screening").click()
    expect(page.get_by_text("Screening complete and waiting for a clinician's sign-off.")).to_be_visible()
    expect(page.get_by_test_id("eligibility-outcome")).to_have_text("Eligible")
    expect(page.get_by_text("All eligibility checks passed.")).to_be_visible()
    expect(page.get_by_text("Waiting for a clinician's sign-off.", exact=True)).to_be_visible()
    screening = Screening.objects.get(patient=patient)
    assert screening.status == Screening.Status.COMPLETED

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # ---- Clinician: sign in with a second factor, sign off, enroll --------------------------------
    submit_password(page, "okafor", PASSWORD)
    page.locator("input[name=token]").fill(current_totp(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("home-heading")).to_have_text("My patients")

    waiting = page.get_by_role("region", name="Screenings waiting for my sign-off")
    expect(waiting).to_contain_text(f"{patient.mrn} · Ashby, Rowan")
    waiting.get_by_role("link", name=f"#{screening.pk}").click()

    expect(page.get_by_test_id("eligibility-outcome")).to_have_text("Eligible")
    page.get_by_label("Eligible", exact=True).check()
    page.get_by_role("button", name="Sign off").click()
    expect(page).to_have_url(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_text("Screening signed off.")).to_be_visible()
    expect(page.get_by_test_id("patient-status")).to_have_text("Eligible")

    page.get_by_role("link", name="Enroll").click()
    expect(page.get_by_text(f"Screening #{screening.pk} was signed off as eligible")).to_be_visible()
    page.get_by_role("button", name="Enroll").click()

    expect(page).to_have_url(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_text("Patient enrolled in the treatment program.")).to_be_visible()
    expect(page.get_by_test_id("patient-status")).to_have_text("Enrolled")
    patient.refresh_from_db()
    assert patient.status == Status.ENROLLED
    assert patient.weight_kg == Decimal("73.0")  # the medical history updated the chart
