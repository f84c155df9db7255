import zoneinfo
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from billing.models import Payer
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.models import StaffAlert
from patients.models import Patient
from sessions.controlled.services import cs_lot_balance
from sessions.models import ClinicClosure, DosingSession, ProductLot, TreatmentPlan
from sessions.scheduling.changes import session_check_in

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_creates_one_user_per_role_and_runs_twice_safely(settings, monkeypatch, capsys, client):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert sorted(User.objects.values_list("role", flat=True)) == sorted(Role.values)
    assert Patient.objects.count() == 5
    assert Payer.objects.count() == 2
    assert "demo-password-for-tests" in output
    response = client.post(reverse("accounts:login"), {"username": "intake", "password": "demo-password-for-tests"})
    assert response.status_code == 302
    demo = User.objects.get(username="patient").patient
    assert demo is not None
    # Aftercare and billing have something to show: an integration session, check-ins (one open now), reminders
    # for them, and an authorization running out with its front-office alert.

    assert demo.integration_sessions.count() == 1
    assert demo.checkins.filter(opens_at__lte=timezone.now()).exists()
    assert demo.reminders.filter(integration_session__isnull=False).exists()
    assert StaffAlert.objects.filter(kind="authorization", patient=demo).exists()


def test_seed_demo_runs_in_production_only_when_told(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--allow-production")
    assert User.objects.filter(role=Role.ADMIN).count() == 1


def test_seed_demo_prints_what_each_staff_member_needs_for_the_second_factor(settings, monkeypatch, capsys, client):
    """Intake staff sign in with TOTP too now: their key and backup codes are printed like the others'."""
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    lines = capsys.readouterr().out.splitlines()
    keys = {line.split()[0]: line.split()[1] for line in lines if "totp_code" in line}
    assert set(keys) == {"admin", "clinician", "intake"}
    after = lines[next(i for i, line in enumerate(lines) if "backup codes" in line) + 1 :]
    codes = {line.split()[0]: line.split()[1:] for line in after[:3]}
    client.post(reverse("accounts:login"), {"username": "intake", "password": "demo-password-for-tests"})
    assert client.get(reverse("homes:home"))["Location"].startswith(reverse("accounts:two_factor_verify"))
    assert client.post(reverse("accounts:two_factor_verify"), {"token": codes["intake"][0]}).status_code == 302
    assert client.get(reverse("homes:home")).status_code == 200


def test_seed_demo_shows_the_whole_product_and_stays_idempotent(settings, monkeypatch, capsys):
    """Holidays closed, stock to dose from, a session to run from check-in, the clinic's phone and its address."""
    settings.DEBUG = True
    settings.SITE_URL = "http://demo.example.test:8080"
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (ClinicClosure.objects.count(), ProductLot.objects.count(), DosingSession.objects.count())
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert (ClinicClosure.objects.count(), ProductLot.objects.count(), DosingSession.objects.count()) == counts

    assert "Open http://demo.example.test:8080/" in first and "Open http://demo.example.test:8080/" in output
    assert "SITE_URL" in output
    clinic = ClinicSettings.load()
    assert clinic.phone and clinic.clinic_phone() == clinic.phone
    assert (clinic.holiday_country, clinic.holiday_subdivision) == ("US", "NY")
    year = timezone.localdate().year
    for each in (year, year + 1):
        assert ClinicClosure.objects.filter(day__year=each, reason__icontains="Independence Day").exists()
        assert ClinicClosure.objects.filter(day__year=each, reason__icontains="Christmas").exists()

    lots = list(ProductLot.objects.select_related("product"))
    assert {lot.product.name for lot in lots} == {"Ketamine", "Spravato"}
    assert all(cs_lot_balance(lot) > 0 for lot in lots)

    infusion = (
        DosingSession.objects.filter(patient__given_name="Alex", status=DosingSession.Status.SCHEDULED)
        .order_by("starts_at")
        .first()
    )
    assert infusion is not None and infusion.starts_at > timezone.now()
    assert infusion.patient.consent_acceptances.exists()
    assert "A dosing session to run from check-in to discharge: Alex Lindqvist" in output


def test_seed_demo_on_a_weekday_morning_books_a_dosing_session_for_today(settings, monkeypatch):
    """Seeded on a working-day morning, the in-office series' first session is that day, ready to check in."""
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    morning = datetime(2027, 3, 9, 7, 30, tzinfo=tz)  # a Tuesday, no public holiday
    with time_machine.travel(morning, tick=False):
        call_command("seed_demo")
        session = DosingSession.objects.filter(patient__given_name="Alex").order_by("starts_at").first()
        assert timezone.localtime(session.starts_at) == morning.replace(hour=12, minute=30)
        assert session.status == DosingSession.Status.SCHEDULED
        assert session.room.name == "Infusion room 1"


def _alex_today():
    return DosingSession.objects.filter(
        patient__given_name="Alex",
        status=DosingSession.Status.SCHEDULED,
        starts_at__date=timezone.localdate(),
    )


@pytest.mark.parametrize(
    ("days_later", "books_a_new_series"),
    [(6, False), (62, True)],  # mid-series: its next session moves to today; long after: a new series from today
)
def test_seed_demo_run_again_days_later_brings_a_dosing_session_to_today(
    settings, monkeypatch, capsys, days_later, books_a_new_series
):
    """A demo seeded days ago gets a session due today on the next run, once, that the front desk can check in."""
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    seeded = datetime(2027, 3, 9, 7, 30, tzinfo=tz)  # a Tuesday, no public holiday
    later = datetime.combine(seeded.date() + timedelta(days=days_later), time(8, 0), tzinfo=tz)
    assert later.weekday() == 0  # a Monday, no public holiday: a clinic day
    with time_machine.travel(seeded, tick=False):
        call_command("seed_demo")
        plans = TreatmentPlan.objects.filter(patient__given_name="Alex").count()
    with time_machine.travel(later, tick=False):
        assert not _alex_today().exists()
        call_command("seed_demo")
        counts = (DosingSession.objects.count(), TreatmentPlan.objects.count())
        call_command("seed_demo")
        output = capsys.readouterr().out

        assert (DosingSession.objects.count(), TreatmentPlan.objects.count()) == counts  # the second run adds nothing
        today = _alex_today().get()
        assert timezone.localtime(today.starts_at) == later.replace(hour=12, minute=30)
        assert TreatmentPlan.objects.filter(patient__given_name="Alex").count() == plans + books_a_new_series
        missed = DosingSession.objects.filter(patient=today.patient, starts_at__lt=later)
        assert missed.exists()
        assert set(missed.values_list("status", flat=True)) == {DosingSession.Status.NO_SHOW}
        assert f"Alex Lindqvist at 12:30 on {later:%a %d %b}" in output
        assert "No dosing session could be brought to today" not in output
        assert session_check_in(session=today, by=User.objects.get(username="intake")).status == "checked_in"
