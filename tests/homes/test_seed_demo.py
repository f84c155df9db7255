import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from billing.models import Payer
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.notifications.models import StaffAlert
from patients.models import Patient

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
