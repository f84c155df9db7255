"""A password alone never gives a verified staff session (security issue, item 1)."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from kap_clinic.kernel.accounts.models import TwoFactorReset
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.outbox.tasks import release_outbox_emails
from tests.conftest import PASSWORD, make_user, sign_in

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
HOME = reverse("homes:home")
SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")


def _code_for_key(key: str) -> str:
    device = TOTPDevice(key=key)
    return f"{TOTP(device.bin_key).token():06d}"


def _code(device: TOTPDevice) -> str:
    return _code_for_key(device.key)


def _password_only(client, username):
    response = client.post(LOGIN, {"username": username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 302
    return client


def _setup_key(client) -> str:
    assert client.get(SETUP).status_code == 200
    return client.session["two_factor_setup_key"]


def test_password_only_session_cannot_enrol_a_second_authenticator(client, clinician):
    """The reported attack: a stolen password, /accounts/two-factor/setup/, the attacker's phone, a verified session."""
    _password_only(client, "clinician1")
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    response = client.post(SETUP, {"token": _code_for_key(default_key())})
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=clinician).count() == 1
    assert client.get(reverse("patients:list"))["Location"].startswith(VERIFY)
    assert mail.outbox == []


def test_password_only_session_reaches_the_code_page_and_sign_out_only(client, clinician):
    _password_only(client, "clinician1")
    assert client.get(VERIFY).status_code == 200
    for url in (HOME, reverse("accounts:backup_codes"), reverse("accounts:password_change"), reverse("admin:index")):
        assert client.get(url)["Location"].startswith(VERIFY), url
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(HOME)["Location"].startswith(LOGIN)


def test_intake_staff_who_set_up_an_authenticator_need_its_code_even_when_the_clinic_does_not_require_it(client):
    from kap_clinic.kernel.clinic.models import ClinicSettings

    ClinicSettings.objects.filter(pk=ClinicSettings.load().pk).update(require_2fa_for_intake=False)
    make_user("intake9", Role.INTAKE, with_totp=True)
    _password_only(client, "intake9")
    assert client.get(HOME)["Location"].startswith(VERIFY)
    assert client.get(SETUP)["Location"].startswith(VERIFY)


def test_showing_the_setup_page_never_creates_a_device(client, clinician):
    newcomer = make_user("newdoc", Role.CLINICIAN, with_totp=False)
    _password_only(client, "newdoc")
    for _ in range(3):
        assert client.get(SETUP).status_code == 200
    assert not TOTPDevice.objects.filter(user=newcomer).exists()
    sign_in(client, clinician)
    assert client.get(SETUP).status_code == 200  # the replace page of a verified session
    assert TOTPDevice.objects.filter(user=clinician).count() == 1


def test_first_authenticator_gives_backup_codes_and_an_email(client, django_capture_on_commit_callbacks):
    newcomer = make_user("newdoc", Role.CLINICIAN, with_totp=False)
    newcomer.email = "newdoc@example.org"
    newcomer.save()
    _password_only(client, "newdoc")
    key = _setup_key(client)
    assert client.post(SETUP, {"token": "123456" if _code_for_key(key) != "123456" else "654321"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETUP, {"token": _code_for_key(key)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert set(StaticToken.objects.filter(device__user=newcomer).values_list("token", flat=True)) == set(codes)
    assert TOTPDevice.objects.get(user=newcomer).key == key
    assert client.get(HOME).status_code == 200
    assert [m.to for m in mail.outbox] == [["newdoc@example.org"]]
    assert "authenticator was added" in mail.outbox[0].subject


def test_replacing_the_authenticator_needs_a_verified_session_and_the_password(
    client, clinician, django_capture_on_commit_callbacks
):
    clinician.email = "doc@example.org"
    clinician.save()
    old = TOTPDevice.objects.get(user=clinician)
    sign_in(client, clinician)
    key = _setup_key(client)
    response = client.post(SETUP, {"password": "not-my-password", "token": _code_for_key(key)})
    assert response.status_code == 400
    assert list(TOTPDevice.objects.filter(user=clinician)) == [old]
    assert AccessAttempt.objects.filter(username="clinician1", failures_since_start=1).exists()  # towards lockout
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETUP, {"password": PASSWORD, "token": _code_for_key(key)})
    assert response.status_code == 200  # and, since they had none yet, backup codes
    assert list(TOTPDevice.objects.filter(user=clinician).values_list("key", flat=True)) == [key]
    assert client.get(HOME).status_code == 200  # verified with the new device
    assert "authenticator was added" in mail.outbox[-1].subject


def test_a_backup_code_signs_in_once(client, clinician):
    device = StaticDevice.objects.create(user=clinician, name="Backup codes", confirmed=True)
    device.token_set.create(token="abcd2345")
    _password_only(client, "clinician1")
    assert client.post(VERIFY, {"token": "abcd 2345"}).status_code == 302
    assert client.get(HOME).status_code == 200
    client.post(reverse("accounts:logout"))
    _password_only(client, "clinician1")
    assert client.post(VERIFY, {"token": "abcd2345"}).status_code == 400
    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_new_backup_codes_need_the_password_again_and_replace_the_old_ones(client, clinician):
    StaticDevice.objects.create(user=clinician, name="Backup codes", confirmed=True).token_set.create(token="oldcode2")
    sign_in(client, clinician)
    assert "1 unused backup code" in client.get(reverse("accounts:backup_codes")).content.decode()
    assert client.post(reverse("accounts:backup_codes"), {"password": "wrong"}).status_code == 400
    assert StaticToken.objects.filter(token="oldcode2").exists()
    response = client.post(reverse("accounts:backup_codes"), {"password": PASSWORD})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert set(StaticToken.objects.filter(device__user=clinician).values_list("token", flat=True)) == set(codes)


def _issue_reset(client, admin_user, staff):
    sign_in(client, admin_user)
    response = client.post(reverse("accounts:staff_two_factor_reset", args=[staff.pk]))
    assert response.status_code == 302
    client.post(reverse("accounts:logout"))
    release_outbox_emails.apply()  # the link goes out through the email outbox, like every email
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/two-factor/reset/" in line)
    return link[link.index("/accounts/") :]


def test_an_admin_reset_lets_the_staff_member_replace_a_lost_phone_once(
    client, admin_user, clinician, django_capture_on_commit_callbacks
):
    clinician.email = "doc@example.org"
    clinician.save()
    lost = TOTPDevice.objects.get(user=clinician)
    StaticDevice.objects.create(user=clinician, name="Backup codes", confirmed=True).token_set.create(token="lostcode")
    path = _issue_reset(client, admin_user, clinician)
    assert mail.outbox[-1].to == ["doc@example.org"]
    reset = TwoFactorReset.objects.get(user=clinician)
    assert reset.token_hash not in mail.outbox[-1].body  # only a hash of the link's token is stored
    entries = LogEntry.objects.filter(object_pk=str(reset.pk), content_type__model="twofactorreset")
    assert entries.filter(actor=admin_user, changes__icontains="two-factor reset issued").exists()

    assert client.get(path)["Location"].startswith(LOGIN)  # the link alone is not enough: the password first
    _password_only(client, "clinician1")
    assert client.get(path)["Location"] == SETUP
    key = _setup_key(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETUP, {"token": _code_for_key(key)})
    assert response.status_code == 200  # new backup codes, shown once
    assert not TOTPDevice.objects.filter(pk=lost.pk).exists()
    assert not StaticToken.objects.filter(token="lostcode").exists()
    assert client.get(HOME).status_code == 200
    reset.refresh_from_db()
    assert reset.used_at is not None
    assert entries.filter(actor=clinician, changes__icontains="two-factor reset used").exists()
    assert "authenticator was added" in mail.outbox[-1].subject

    client.post(reverse("accounts:logout"))
    _password_only(client, "clinician1")
    assert client.get(path).status_code == 404  # used once


def test_a_reset_link_expires_and_works_only_for_its_own_account(client, admin_user, clinician, other_clinician):
    clinician.email = "doc@example.org"
    clinician.save()
    path = _issue_reset(client, admin_user, clinician)
    _password_only(client, "clinician2")
    assert client.get(path).status_code == 404
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    client.post(reverse("accounts:logout"))
    TwoFactorReset.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    _password_only(client, "clinician1")
    assert client.get(path).status_code == 404
    assert client.get(SETUP)["Location"].startswith(VERIFY)


def test_only_clinic_admins_issue_resets(client, clinician, other_clinician):
    sign_in(client, clinician)
    assert client.post(reverse("accounts:staff_two_factor_reset", args=[other_clinician.pk])).status_code == 403
    assert not TwoFactorReset.objects.exists()


def test_authenticator_keys_and_backup_codes_are_never_shown_in_the_django_admin(client, clinician):
    from kap_clinic.kernel.accounts.models import User

    root = User.objects.create_superuser(username="root", password=PASSWORD, email="root@example.org")
    TOTPDevice.objects.create(user=root, name="root", confirmed=True)
    device = TOTPDevice.objects.get(user=clinician)
    static = StaticDevice.objects.create(user=clinician, name="Backup codes", confirmed=True)
    static.token_set.create(token="secret22")
    sign_in(client, root)
    for url in (
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_static_staticdevice_change", args=[static.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert device.key not in body and "secret22" not in body, url
