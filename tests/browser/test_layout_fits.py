"""Every role's main pages fit the screen, from a phone to a laptop: nothing makes the page scroll sideways.

One screenshot per page and width goes to the test artifacts folder (TEST_ARTIFACTS_DIR, by default
.run/test-artifacts) for a person to look over.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Payer
from billing.services import authorization_create
from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create
from sessions.controlled.services import cs_lot_receive
from sessions.models import ControlledProduct
from sessions.rems.delivery import rems_form_start
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
# The elements that reach past the right edge of the window outside any box of their own that scrolls: what to fix.
TOO_WIDE = """() => {
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right <= window.innerWidth + 1) continue;
    let box = el.parentElement, scrolls = false;
    for (; box && !scrolls; box = box.parentElement) scrolls = getComputedStyle(box).overflowX !== "visible";
    if (!scrolls) found.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`);
  }
  return found.slice(0, 4).join(", ");
}"""


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

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
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


def _back_office(patient, clinician):
    """What the back-office pages list for the long-named patient: a REMS form, an authorization and a lot."""
    plan = patient.treatment_plans.get()
    session = plan.sessions.order_by("starts_at").first()
    rems_form_start(session=session, by=clinician)
    authorization = authorization_create(
        patient=patient,
        payer=Payer.objects.create(name="Northwind Comprehensive Behavioral Health Plan of the Mid-Atlantic"),
        by=make_user("front-desk-layout", Role.INTAKE),
        reference="NWCBHPMA-2026-00000000042-AUTHORIZATION",
        codes=["G2082", "G2083", "J0013"],
        units_authorized=8,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=90),
        notes="Approved by telephone; the reviewer asked for the PHQ-9 at week four before any extension is granted.",
    )
    product = ControlledProduct.objects.create(
        name="Esketamine", strength="esketamine hydrochloride 28 mg single-use nasal spray device (Spravato)"
    )
    lot = cs_lot_receive(
        product=product,
        lot_number="SPRAVATO-LOT-20261202-000000000042",
        expires_on=date(2099, 1, 1),
        quantity="560",
        by=clinician,
    )
    return plan, session, authorization, lot


def _back_office_pages(role, patient, plan, session, authorization, lot):
    if role == Role.CLINICIAN:
        return {
            "plan": reverse("sessions:plan_detail", args=[plan.pk]),
            "plan-form": reverse("sessions:plan_create", args=[patient.pk]),
            "rems-edit": reverse("sessions:rems_edit", args=[session.pk]),
            "rems-detail": reverse("sessions:rems_detail", args=[session.pk]),
            "rems-pending": reverse("sessions:rems_pending"),
            "cs-dose": reverse("sessions:cs_dose_record", args=[session.pk]),
            "cs-lots": reverse("sessions:cs_lot_list"),
            "cs-lot-log": reverse("sessions:cs_lot_log", args=[lot.pk]),
            "reminders": reverse("notifications:list"),
        }
    return {
        "authorizations": reverse("billing:authorization_list"),
        "patient-authorizations": reverse("billing:patient_authorizations", args=[patient.pk]),
        "authorization-form": reverse("billing:authorization_create", args=[patient.pk]),
        "authorization": reverse("billing:authorization_detail", args=[authorization.pk]),
        "authorization-edit": reverse("billing:authorization_edit", args=[authorization.pk]),
        "rems-pending": reverse("sessions:rems_pending"),
        "rems-detail": reverse("sessions:rems_detail", args=[session.pk]),
        "audit-log": reverse("homes:audit_log"),
        "audit-log-patient": reverse("homes:audit_log") + f"?patient={patient.mrn}",
        "cs-lots": reverse("sessions:cs_lot_list"),
        "cs-receive": reverse("sessions:cs_receive"),
        "cs-lot-log": reverse("sessions:cs_lot_log", args=[lot.pk]),
        "cs-reconcile": reverse("sessions:cs_reconcile", args=[lot.pk]),
        "reminders": reverse("notifications:list"),
        "plan": reverse("sessions:plan_detail", args=[plan.pk]),
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN], ids=str)
def test_back_office_pages_fit_a_phone(page, live_server, role):
    """Authorizations, REMS forms, the audit log, the controlled-substance log, reminders and the treatment plan, at
    390 px wide with the longest names they show: nothing scrolls sideways (wide tables scroll in their own box)."""
    clinician = make_user("mensah-montgomery", Role.CLINICIAN)
    patient = _clinic(clinician)
    plan, session, authorization, lot = _back_office(patient, clinician)
    username = "mensah-montgomery" if role == Role.CLINICIAN else "admin-back-office"
    if role == Role.ADMIN:
        make_user(username, role)

    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/accounts/login/")
    submit_password(page, username, PASSWORD)
    submit_code(page, username)
    expect(page.get_by_test_id("home-heading")).to_be_visible()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    too_wide = []
    for name, url in _back_office_pages(role, patient, plan, session, authorization, lot).items():
        response = page.goto(url)
        assert response.status == 200, f"{url}: {response.status}"
        expect(page.locator("main h1").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"layout-{role}-{name}-390.png"), full_page=True)
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            too_wide.append(f"{name} ({url}) by {overflow} px: {page.evaluate(TOO_WIDE)}")
    assert not too_wide, "Scrolls sideways at 390 px: " + "; ".join(too_wide)
