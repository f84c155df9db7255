import time

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.roles import Role
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
HOME = reverse("homes:home")


def _post_login(client, username, password, ip="10.0.0.5"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_patient_signs_in_and_reaches_home(client, patient_user):
    response = _post_login(client, "patient1", PASSWORD)
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


def test_sign_in_issues_a_new_session_key(client, patient_user):
    client.get(LOGIN)
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    _post_login(client, "patient1", PASSWORD)
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key and new_key != "x" * 32


def test_wrong_password_shows_an_error_and_keeps_the_username(client, patient_user):
    response = _post_login(client, "patient1", "wrong")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Please enter a correct username and password" in body
    assert 'value="patient1"' in body


def test_repeated_failures_lock_the_account_from_that_address(client, patient_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "patient1", "wrong")
    response = _post_login(client, "patient1", PASSWORD)
    assert response.status_code == 429
    assert "locked" in response.content.decode().lower()
    assert client.get(HOME).status_code == 302


def test_lockout_is_per_address(client, patient_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "patient1", "wrong", ip="10.0.0.5")
    response = _post_login(client, "patient1", PASSWORD, ip="10.0.0.9")
    assert response.status_code == 302


def test_lockout_ends_after_the_cool_off(client, patient_user):
    with time_machine.travel(time.time(), tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _post_login(client, "patient1", "wrong")
        assert _post_login(client, "patient1", PASSWORD).status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME.total_seconds() + 60)
        assert _post_login(client, "patient1", PASSWORD).status_code == 302


def test_idle_session_is_signed_out(client, patient_user):
    with time_machine.travel(time.time(), tick=False) as traveller:
        _post_login(client, "patient1", PASSWORD)
        assert client.get(HOME).status_code == 200
        traveller.shift(settings.SESSION_IDLE_MINUTES * 60 + 1)
        response = client.get(HOME)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
        assert client.get(HOME).status_code == 302


def test_activity_keeps_the_session_alive_until_the_absolute_limit(client, patient_user):
    step = (settings.SESSION_IDLE_MINUTES - 1) * 60
    with time_machine.travel(time.time(), tick=False) as traveller:
        _post_login(client, "patient1", PASSWORD)
        elapsed = 0
        while elapsed + step < settings.SESSION_MAX_HOURS * 3600:
            traveller.shift(step)
            elapsed += step
            assert client.get(HOME).status_code == 200, f"signed out after {elapsed} s"
        traveller.shift(step)
        response = client.get(HOME)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN])
def test_staff_who_need_two_factor_reach_nothing_before_the_code(client, role):
    user = make_user("staff", role)
    _post_login(client, "staff", PASSWORD)
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_verify"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("accounts:two_factor_verify"), {"token": _code(device)})
    assert response.status_code == 302
    assert client.get(reverse("patients:list")).status_code == 200


def test_a_wrong_code_is_refused(client):
    make_user("doc", Role.CLINICIAN)
    _post_login(client, "doc", PASSWORD)
    response = client.post(reverse("accounts:two_factor_verify"), {"token": "000000"})
    assert response.status_code == 400
    assert client.get(HOME).status_code == 302


def test_clinician_without_authenticator_must_set_one_up(client):
    user = make_user("newdoc", Role.CLINICIAN, with_totp=False)
    _post_login(client, "newdoc", PASSWORD)
    response = client.get(HOME)
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))
    page = client.get(reverse("accounts:two_factor_setup"))
    assert page.status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()  # showing the key creates nothing
    key = client.session["two_factor_setup_key"]
    response = client.post(reverse("accounts:two_factor_setup"), {"token": _code(TOTPDevice(key=key))})
    assert response.status_code == 200  # the backup codes, shown once
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(HOME).status_code == 200


def test_intake_needs_two_factor_unless_the_clinic_turns_it_off(client):
    from kap_clinic.kernel.clinic.models import ClinicSettings

    assert ClinicSettings.load().require_2fa_for_intake  # REQUIRE_2FA_FOR_INTAKE is on unless set otherwise
    make_user("intake1", Role.INTAKE, with_totp=False)
    _post_login(client, "intake1", PASSWORD)
    assert client.get(HOME)["Location"].startswith(reverse("accounts:two_factor_setup"))
    ClinicSettings.objects.filter(pk=ClinicSettings.load().pk).update(require_2fa_for_intake=False)
    assert client.get(HOME).status_code == 200


def test_weak_password_is_refused_on_change(client_for, patient_user):
    response = client_for(patient_user).post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode() or "too common" in response.content.decode()


def test_sign_out_needs_post(client_for, patient_user):
    client = client_for(patient_user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get(HOME).status_code == 302


def test_behind_the_proxy_one_client_cannot_lock_out_another(client, patient_user, settings):
    """Failures from one client (same proxy, forged X-Forwarded-For prefix) do not lock the account for another."""
    settings.PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "patient1", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="198.51.100.77, 203.0.113.5",
        )
    response = client.post(
        LOGIN,
        {"username": "patient1", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.77",
    )
    assert response.status_code == 302


def test_password_spraying_from_one_address_is_refused_whatever_the_usernames(client, patient_user, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 4
    for n in range(4):
        assert _post_login(client, f"someone{n}", "Spring2026!", ip="203.0.113.9").status_code == 200
    refused = _post_login(client, "patient1", PASSWORD, ip="203.0.113.9")
    assert refused.status_code == 429
    assert "from this address" in refused.content.decode()
    # Another address signs in as usual.
    assert _post_login(client, "patient1", PASSWORD, ip="203.0.113.10").status_code == 302
