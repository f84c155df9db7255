"""Intake staff enter a patient's prior authorization from the chart and take it to approved, in a real browser."""

from datetime import date

import pytest

from billing.models import Payer, PriorAuthorization
from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create
from tests.browser.test_sign_in import submit_code, submit_password
from tests.conftest import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser


def test_front_desk_enters_an_authorization_and_takes_it_to_approved(page, live_server):
    make_user("desk-billing", Role.INTAKE)
    Payer.objects.create(name="Northwind Health Plan")
    patient = patient_create(created_by=None, given_name="Rowan", family_name="Ashby", date_of_birth=date(1984, 6, 2))

    page.goto("/accounts/login/")
    submit_password(page, "desk-billing", PASSWORD)
    submit_code(page, "desk-billing")
    expect(page.get_by_test_id("home-heading")).to_have_text("Front desk")
    page.get_by_role("link", name=patient.mrn).click()
    page.locator(f'main a[href="/billing/patients/{patient.pk}/authorizations/"]').click()
    page.get_by_role("link", name="New authorization").click()

    page.get_by_label("Payer").select_option(label="Northwind Health Plan")
    page.get_by_label("Codes").fill("G2083, S0013")
    page.get_by_label("Units approved").fill("8")
    page.get_by_label("First day", exact=True).fill("2027-01-04")
    page.get_by_label("Last day", exact=True).fill("2027-03-31")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("S0013 was replaced by J0013 on 2026-01-01.")).to_be_visible()
    expect(page.get_by_label("Codes")).to_have_value("G2083, S0013")
    expect(page.get_by_label("Units approved")).to_have_value("8")

    page.get_by_label("Codes").fill("G2083, J0013")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Authorization saved as a draft.")).to_be_visible()
    expect(page.get_by_test_id("authorization-status")).to_have_text("Being assembled")

    # Faxed outside the app: recorded as sent only once the request says what the payer asks for.
    page.get_by_label("Mark as").select_option(label="Submitted outside the app (say how in the note)")
    page.get_by_label("Note").fill("Faxed to Northwind at 10:05")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Enter the units requested.")).to_be_visible()
    expect(page.get_by_text("Enter at least one ICD-10 diagnosis.")).to_be_visible()
    expect(page.get_by_label("Note")).to_have_value("Faxed to Northwind at 10:05")
    expect(page.get_by_test_id("authorization-status")).to_have_text("Being assembled")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Codes")).to_have_value("G2083, J0013")
    page.get_by_label("Units requested").fill("8")
    page.get_by_label("First day requested").fill("2027-01-04")
    page.get_by_label("Last day requested").fill("2027-03-31")
    page.get_by_label("ICD-10 diagnoses").fill("F33.2")
    page.get_by_label("Clinical justification").fill("Two adequate antidepressant trials failed; PHQ-9 21.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    page.get_by_label("Mark as").select_option(label="Submitted outside the app (say how in the note)")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Say how the request was sent")).to_be_visible()
    page.get_by_label("Note").fill("Faxed to Northwind at 10:05")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("authorization-status")).to_have_text("Submitted")
    expect(
        page.get_by_text("Being assembled → Submitted by Desk-Billing Tester (Faxed to Northwind at 10:05)")
    ).to_be_visible()

    page.get_by_label("Mark as").select_option(label="Approved")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("An approved authorization needs the payer's authorization number.")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Authorization number").fill("NW-55120")
    page.get_by_role("button", name="Save").click()
    page.get_by_label("Mark as").select_option(label="Approved")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("authorization-status")).to_have_text("Approved")
    expect(page.get_by_text("Submitted → Approved by Desk-Billing Tester")).to_be_visible()

    authorization = PriorAuthorization.objects.get(patient=patient)
    assert (authorization.reference, authorization.codes, authorization.status) == (
        "NW-55120",
        ["G2083", "J0013"],
        "approved",
    )
    assert (authorization.diagnoses, authorization.units_requested) == (["F33.2"], 8)
    assert authorization.submitted_at is not None
