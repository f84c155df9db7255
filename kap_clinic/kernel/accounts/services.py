"""Sign-in's second factor: enrolling, replacing and resetting authenticators, and backup codes.

A password alone never gives a verified staff session. An authenticator is added only
- as the account's first one (it has none, e.g. a new staff member),
- by a verified session that also enters the password again (replacing the old one), or
- through an admin's reset link: one-time, expiring, audited, and only in a session signed in with the
  account's own password (replacing every old device).
Each of these writes TOTPDevice / StaticDevice rows here, where the audit log sees them, and emails the user.
"""

import base64
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from kap_clinic.kernel.audit.services import record_security_event

from .mail import account_email_send
from .models import TwoFactorReset, User
from .roles import MANAGE_STAFF, STAFF_ROLES
from .throttle import Throttle

SETUP_KEY = "two_factor_setup_key"  # the key being enrolled, kept in the session until its first code is right
RESET_GRANT = "two_factor_reset_id"  # the admin's reset this session opened through its link
BACKUP_CODE_COUNT = 10
RESET_LINK_HOURS = 24


# --- Enrolment -------------------------------------------------------------------------------------------------


def enrolment_mode(request) -> str | None:
    """How this session may add an authenticator: "first", "reset", "replace", or None (it may not)."""
    user = request.user
    if not (user.is_authenticated and user.is_clinic_staff):
        return None
    if two_factor_reset_granted(request) is not None:
        return "reset"
    if not user_has_device(user):
        return "first"
    if user.is_verified():
        return "replace"
    return None


def totp_candidate(*, request) -> TOTPDevice:
    """The authenticator being set up, unsaved: its key lives in the session, so showing the page creates nothing."""
    key = request.session.get(SETUP_KEY)
    if not key:
        key = request.session[SETUP_KEY] = default_key()
    return TOTPDevice(user=request.user, name="Authenticator app", key=key, confirmed=True)


def totp_candidate_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode()


def totp_device_add(*, request, token: str, password: str = "") -> TOTPDevice:
    """Add the authenticator being set up once its code is right; the session is verified with it from then on.

    Raises PermissionDenied when this session may not add one, ValidationError for a wrong password or code.
    """
    user = request.user
    mode = enrolment_mode(request)
    if mode is None:
        raise PermissionDenied
    # Outside the transaction below, so that a wrong password is kept as a failed attempt towards the lockout.
    if mode == "replace" and not _password_ok(request, user, password):
        raise ValidationError({"password": "That is not your password."})
    device = totp_candidate(request=request)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if not (token.strip().isdigit() and totp.verify(int(token), tolerance=device.tolerance)):
        raise ValidationError({"token": "That code does not match. Check the key and try the newest code."})
    with transaction.atomic():
        _totp_device_save(request=request, device=device, totp=totp, mode=mode)
    return device


def _totp_device_save(*, request, device: TOTPDevice, totp: TOTP, mode: str) -> None:
    user = request.user
    if mode == "reset":
        now = timezone.now()
        claimed = TwoFactorReset.objects.filter(
            pk=request.session.get(RESET_GRANT), user=user, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if claimed != 1:
            raise PermissionDenied
        reset = TwoFactorReset.objects.get(pk=request.session[RESET_GRANT])
        record_security_event(obj=reset, event="two-factor reset used: old devices removed, a new one set up")
        for old in list(devices_for_user(user, confirmed=None)):
            old.delete()  # the lost phone and its backup codes stop working
    elif mode == "replace":
        for old in TOTPDevice.objects.filter(user=user):
            old.delete()
    device.last_t, device.drift = totp.t(), totp.drift  # this code cannot be used again to sign in
    device.save()
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()  # left over from the earlier set-up flow
    request.session.pop(SETUP_KEY, None)
    request.session.pop(RESET_GRANT, None)
    otp_login(request, device)
    account_email_send(user=user, template="device_added", key=f"device-added-{device.persistent_id}")


def _password_ok(request, user: User, password: str) -> bool:
    # Through authenticate(), so that wrong passwords count towards the lockout like at sign-in.
    again = authenticate(request, username=user.get_username(), password=password)
    return again is not None and again.pk == user.pk


# --- Verification ------------------------------------------------------------------------------------------------


def second_factor_verify(*, request, user: User, token: str) -> bool:
    """Verify a code from the user's authenticator, or one of their backup codes (used up by this)."""
    token = token.strip().replace(" ", "").lower()
    with transaction.atomic():
        devices = [
            *TOTPDevice.objects.filter(user=user, confirmed=True).select_for_update(),
            *StaticDevice.objects.filter(user=user, confirmed=True).select_for_update(),
        ]
        for device in devices:  # each is throttled by django-otp after failures
            if device.verify_token(token):
                otp_login(request, device)
                return True
    return False


def sign_in_throttle() -> Throttle:
    return Throttle("sign-in-ip", settings.LOGIN_IP_FAILURE_LIMIT, settings.LOGIN_IP_WINDOW_MINUTES * 60)


def witness_password_check(*, witness: User, password: str) -> bool:
    """A staff member confirms an action (witnessed waste) with their own password.

    Not through `authenticate()`: django-axes would count a mistyped witness password as a failed sign-in and lock
    the witness out of their own account. Guessing is limited per witness instead: after WITNESS_FAILURE_LIMIT
    wrong passwords within the window every check fails, the right password included, until the window ends.
    """
    throttle = Throttle("witness", settings.WITNESS_FAILURE_LIMIT, settings.WITNESS_WINDOW_MINUTES * 60)
    who = str(witness.pk)
    if throttle.is_blocked(who) or not witness.is_active:
        return False
    if witness.check_password(password or ""):
        throttle.reset(who)
        return True
    throttle.fail(who)
    return False


# --- Backup codes -------------------------------------------------------------------------------------------------


def backup_codes_remaining(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def backup_codes_generate(*, request, password: str) -> list[str]:
    """New backup codes for a verified session that entered the password again; the old ones stop working."""
    user = request.user
    if not (user.is_authenticated and user.is_clinic_staff and user.is_verified()):
        raise PermissionDenied
    if not _password_ok(request, user, password):  # a wrong one counts towards the lockout
        raise ValidationError({"password": "That is not your password."})
    with transaction.atomic():
        return _backup_codes_replace(user=user)


def _backup_codes_replace(*, user: User) -> list[str]:
    for old in StaticDevice.objects.filter(user=user):
        old.delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_after_enrolment(*, user: User) -> list[str]:
    """Backup codes for an account that has none yet (shown once, right after its authenticator is set up)."""
    if StaticToken.objects.filter(device__user=user).exists():
        return []
    return _backup_codes_replace(user=user)


# --- Admin reset ----------------------------------------------------------------------------------------------------


@transaction.atomic
def two_factor_reset_issue(*, user: User, by: User) -> TwoFactorReset:
    """Let a staff member who lost their authenticator set up a new one, through a link emailed to them.

    The link works once, for RESET_LINK_HOURS, in a session signed in with their own password; older open
    links stop working. Recorded in the audit log.
    """
    _check_manager(by, user)
    if not user.is_clinic_staff or not user.is_active:
        raise ValidationError("Only an active staff account can have its two-factor sign-in reset.")
    if not user.email:
        raise ValidationError("This account has no email address to send the reset link to.")
    now = timezone.now()
    TwoFactorReset.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    token = secrets.token_urlsafe(32)
    reset = TwoFactorReset.objects.create(
        user=user,
        token_hash=TwoFactorReset.hash_token(token),
        created_by=by,
        expires_at=now + timedelta(hours=RESET_LINK_HOURS),
    )
    record_security_event(obj=reset, event="two-factor reset issued by an admin")
    link = settings.SITE_URL.rstrip("/") + reverse("accounts:two_factor_reset", args=[token])
    account_email_send(
        user=user,
        template="two_factor_reset",
        key=f"two-factor-reset-{reset.pk}",
        extra={"link": link, "hours": RESET_LINK_HOURS},
    )
    return reset


def two_factor_reset_open(*, request, token: str) -> TwoFactorReset | None:
    """Open the reset a link names for this session, if it is the signed-in user's, unused and unexpired."""
    reset = TwoFactorReset.objects.filter(
        token_hash=TwoFactorReset.hash_token(token),
        user=request.user,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
    if reset is not None:
        request.session[RESET_GRANT] = reset.pk
    return reset


def two_factor_reset_granted(request) -> TwoFactorReset | None:
    pk = request.session.get(RESET_GRANT)
    if pk is None:
        return None
    return TwoFactorReset.objects.filter(
        pk=pk, user=request.user, used_at__isnull=True, expires_at__gt=timezone.now()
    ).first()


# --- Staff accounts -------------------------------------------------------------------------------------------------

STAFF_FIELDS = ("username", "first_name", "last_name", "email", "role", "is_active")


def _check_manager(by: User, staff: User | None = None) -> None:
    if not by.has_perm(MANAGE_STAFF):
        raise PermissionDenied
    if staff is not None and staff.is_superuser and not by.is_superuser:
        raise PermissionDenied


@transaction.atomic
def staff_create(*, by: User, password: str, **fields) -> User:
    """Create a staff account in one of the staff roles; superuser and staff status are never set here."""
    _check_manager(by)
    if fields.get("role") not in STAFF_ROLES:
        raise ValidationError({"role": "Choose a staff role."})
    values = {name: fields[name] for name in STAFF_FIELDS if name in fields}
    user = User(**values)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def staff_update(*, by: User, staff: User, **fields) -> User:
    """Change a staff account's names, email, role or whether it may sign in.

    Only these fields change; an admin cannot deactivate themselves or give up their own admin role, so the
    clinic keeps someone who can manage staff.
    """
    _check_manager(by, staff)
    if fields.get("role", staff.role) not in STAFF_ROLES:
        raise ValidationError({"role": "Choose a staff role."})
    if staff.pk == by.pk:
        if not fields.get("is_active", True):
            raise ValidationError({"is_active": "You cannot deactivate your own account."})
        if fields.get("role", staff.role) != staff.role:
            raise ValidationError({"role": "You cannot change your own role."})
    changed = [name for name in STAFF_FIELDS if name in fields and getattr(staff, name) != fields[name]]
    for name in changed:
        setattr(staff, name, fields[name])
    if changed:
        staff.save(update_fields=[*changed, "is_staff"])
    return staff
