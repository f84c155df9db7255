"""Signing in through the real form, in a real browser, for every role."""

import re
from dataclasses import dataclass
from datetime import date

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create
from tests.conftest import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class RoleCase:
    role: str
    heading: str
    nav_shown: tuple[str, ...]
    nav_hidden: tuple[str, ...]
    two_factor: bool


CASES = [
    RoleCase(
        Role.ADMIN,
        "Clinic health",
        ("Home", "Patients", "Audit log", "Clinic settings"),
        ("My record",),
        True,
    ),
    RoleCase(
        Role.CLINICIAN,
        "My patients",
        ("Home", "Patients"),
        ("Audit log", "Clinic settings", "My record"),
        True,
    ),
    RoleCase(Role.INTAKE, "Front desk", ("Home", "Patients"), ("Audit log", "Clinic settings", "My record"), True),
    RoleCase(Role.PATIENT, "My care", ("Home", "My record"), ("Patients", "Audit log", "Clinic settings"), False),
]


def current_totp(device: TOTPDevice) -> str:
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return str(token).zfill(device.digits)


def submit_password(page, username: str, password: str) -> None:
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()


def submit_code(page, username: str) -> None:
    """The second step for staff with an authenticator (intake staff too, by default): its current code."""
    page.locator("input[name=token]").fill(current_totp(TOTPDevice.objects.get(user__username=username)))
    page.get_by_role("button", name="Verify").click()


@pytest.mark.parametrize("case", CASES, ids=lambda case: str(case.role))
def test_each_role_signs_in_and_lands_on_its_home(page, live_server, case):
    username = f"{case.role}-browser"
    user = make_user(username, case.role)
    if case.role == Role.PATIENT:
        patient_create(
            created_by=None, given_name="Ada", family_name="Quill", date_of_birth=date(1980, 5, 17), user=user
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    assert (device is not None) == case.two_factor

    # Anonymous visitors are sent to the sign-in page, which brings them back afterwards.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    submit_password(page, username, PASSWORD)

    if case.two_factor:
        expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
        # The password alone reaches nothing: no navigation before the second factor.
        expect(page.get_by_test_id("home-heading")).to_have_count(0)
        page.locator("input[name=token]").fill(current_totp(device))
        page.get_by_role("button", name="Verify").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("home-heading")).to_have_text(case.heading)
    signed_in_as = page.get_by_test_id("signed-in-as")
    expect(signed_in_as).to_contain_text(username)
    expect(signed_in_as).to_contain_text(Role(case.role).label)

    nav = page.get_by_role("navigation", name="Main")
    for label in case.nav_shown:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    for label in case.nav_hidden:
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)

    if case.role == Role.PATIENT:
        expect(page.get_by_text("Welcome, Ada.")).to_be_visible()


def test_wrong_password_shows_an_error_and_keeps_the_username(page, live_server):
    make_user("intake-typo", Role.INTAKE)

    page.goto("/accounts/login/")
    submit_password(page, "intake-typo", "not-the-password-at-all")

    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(page.locator("input[name=username]")).to_have_value("intake-typo")
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


def test_password_alone_cannot_reach_the_authenticator_set_up(page, live_server):
    """A stolen password: the set-up page sends to the code page and shows no key; a backup code gets in once."""
    user = make_user("doc-stolen", Role.CLINICIAN)
    user.staticdevice_set.create(name="Backup codes", confirmed=True).token_set.create(token="k7m2q3xa")

    page.goto("/accounts/login/")
    submit_password(page, "doc-stolen", PASSWORD)
    page.goto("/accounts/two-factor/setup/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next="))
    expect(page.locator(".secret-key")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients")).to_have_count(0)

    page.locator("input[name=token]").fill("k7m2q3xa")
    page.get_by_role("button", name="Verify").click()
    # Verified now, the set-up page is the replacement one: the password again and a code from the new app.
    expect(page.get_by_role("heading", name="Replace your authenticator")).to_be_visible()
    expect(page.locator("input[name=password]")).to_be_visible()
