"""Security-relevant changes land in the append-only audit log, whichever page or command makes them: sign-ins and
failures, lockouts, password changes, role, active and superuser changes, authenticators added or removed, clinic
settings (issue: the audit trail cannot be rewritten by the application). Secrets never reach the log."""

import json

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.clinic.models import ClinicSettings
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
NEW_PASSWORD = "a-fresh-and-long-passphrase-91"


def events(name: str):
    return LogEntry.objects.filter(additional_data__event=name).order_by("pk")


def about(user) -> LogEntry:
    return LogEntry.objects.get_for_object(user).order_by("pk")


def whole_log() -> str:
    rows = LogEntry.objects.values("object_repr", "changes", "changes_text", "serialized_data", "additional_data")
    return json.dumps(list(rows), default=str)


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_sign_in_and_sign_out_are_recorded_with_who_and_where(client, patient_user):
    client.post(LOGIN, {"username": "patient1", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    client.post(reverse("accounts:logout"), REMOTE_ADDR="10.0.0.5")

    signed_in, signed_out = events("sign_in").get(), events("sign_out").get()
    for entry in (signed_in, signed_out):
        assert entry.actor == patient_user
        assert entry.object_pk == str(patient_user.pk)
        assert entry.remote_addr == "10.0.0.5"
    assert signed_in.changes_text == "Signed in"


def test_failed_sign_ins_are_recorded_with_the_name_tried_but_never_the_password(client, patient_user):
    client.post(LOGIN, {"username": "patient1", "password": "not-my-password-77"}, REMOTE_ADDR="10.0.0.6")
    client.post(LOGIN, {"username": "nobody-here", "password": "not-my-password-77"}, REMOTE_ADDR="10.0.0.6")

    known, unknown = events("sign_in_failed")
    assert known.object_pk == str(patient_user.pk) and known.actor is None
    assert known.remote_addr == "10.0.0.6"
    assert unknown.object_pk == "" and unknown.additional_data["username"] == "nobody-here"
    assert "not-my-password-77" not in whole_log()
    assert not events("sign_in").exists()


def test_a_lockout_is_recorded(client, patient_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "patient1", "password": "wrong"}, REMOTE_ADDR="10.0.0.7")
    assert events("locked_out").filter(object_pk=str(patient_user.pk)).exists()


def test_a_password_change_is_recorded_without_either_hash(client_for, patient_user):
    old_hash = patient_user.password
    response = client_for(patient_user).post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    entry = events("password_changed").get()
    assert entry.object_pk == str(patient_user.pk) and entry.actor == patient_user
    patient_user.refresh_from_db()
    log = whole_log()
    assert old_hash not in log and patient_user.password not in log and NEW_PASSWORD not in log


def test_a_password_set_outside_the_site_is_recorded_too(patient_user):
    patient_user.set_password(NEW_PASSWORD)
    patient_user.save()
    patient_user.first_name = "Renamed"
    patient_user.save()  # no password change this time
    assert events("password_changed").count() == 1


def test_role_active_and_superuser_changes_are_recorded(admin_user, front_desk):
    front_desk.role = Role.CLINICIAN
    front_desk.save()
    front_desk.is_active = False
    front_desk.save()
    front_desk.is_superuser = True
    front_desk.save()

    changes = [entry.changes for entry in about(front_desk).filter(action=LogEntry.Action.UPDATE)]
    assert any(change.get("role") == ["intake", "clinician"] for change in changes)
    assert any(change.get("is_active") == ["True", "False"] for change in changes)
    assert any(change.get("is_superuser") == ["False", "True"] for change in changes)
    assert any(change.get("is_staff") == ["False", "True"] for change in changes)
    role_groups = [change["groups"] for change in changes if "groups" in change]
    assert any(group["operation"] in {"add", "remove"} for group in role_groups)
    assert "password" not in whole_log()


def test_a_new_user_and_its_role_group_are_recorded(admin_user):
    user = make_user("newcomer", Role.INTAKE)
    assert about(user).filter(action=LogEntry.Action.CREATE).exists()
    group = Group.objects.get(user=user)
    assert about(user).filter(changes__groups__objects=[str(group)]).exists()


def test_authenticator_added_confirmed_failed_and_removed_are_recorded_without_its_key(client):
    """The set-up page keeps the new key in the session and creates nothing until the first code is right; then the
    authenticator is added already confirmed, in one audited write."""
    from kap_clinic.kernel.accounts.services import SETUP_KEY

    user = make_user("newdoc", Role.CLINICIAN, with_totp=False)
    client.post(LOGIN, {"username": "newdoc", "password": PASSWORD})
    setup = reverse("accounts:two_factor_setup")
    assert client.get(setup).status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()  # showing the page adds nothing
    key = client.session[SETUP_KEY]
    candidate = TOTPDevice(user=user, key=key)
    wrong = "000000" if _code(candidate) != "000000" else "111111"
    assert client.post(setup, {"token": wrong}).status_code == 400
    assert not TOTPDevice.objects.filter(user=user).exists()  # a wrong first code adds nothing
    assert client.post(setup, {"token": _code(candidate)}).status_code in (200, 302)  # 200: the new backup codes
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.key == key
    client.post(reverse("accounts:logout"))
    client.post(LOGIN, {"username": "newdoc", "password": PASSWORD})
    client.post(reverse("accounts:two_factor_verify"), {"token": "000000" if _code(device) != "000000" else "111111"})
    device.refresh_from_db()
    device_pk = device.pk
    device.delete()

    history = LogEntry.objects.filter(content_type__model="totpdevice", object_pk=str(device_pk)).order_by("pk")
    actions = [entry.action for entry in history]
    assert actions[0] == LogEntry.Action.CREATE and actions[-1] == LogEntry.Action.DELETE
    assert history[0].changes.get("confirmed", [None, None])[-1] == "True"  # added and confirmed in one step
    assert any("throttling_failure_count" in (entry.changes or {}) for entry in history)  # the failed code
    log = whole_log()
    assert key not in log and device.key not in log
    assert "drift" not in log and "last_t" not in log


def test_clinic_settings_changes_are_recorded_with_who(client_for, admin_user):
    from tests.clinic.test_settings import _settings_post

    was = ClinicSettings.load().require_2fa_for_intake  # on by default now (REQUIRE_2FA_FOR_INTAKE_DEFAULT): flip it
    response = client_for(admin_user).post(
        reverse("clinic:settings"), _settings_post(require_2fa_for_intake=not was, screening_valid_days=21)
    )
    assert response.status_code == 302

    entry = LogEntry.objects.get_for_object(ClinicSettings.load()).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == admin_user
    assert entry.changes["require_2fa_for_intake"] == [str(was), str(not was)]
    assert entry.changes["screening_valid_days"] == ["30", "21"]
    assert "updated_at" not in entry.changes


def test_security_events_are_sealed_in_the_chain(client, patient_user):
    from kap_clinic.kernel.audit.chain import chain_verify

    from .conftest import seal_pending

    client.post(LOGIN, {"username": "patient1", "password": "wrong"})
    client.post(LOGIN, {"username": "patient1", "password": PASSWORD})
    seal_pending()
    report = chain_verify()
    assert report.intact and report.entries == LogEntry.objects.count()
    assert User.objects.filter(pk=patient_user.pk).exists()
