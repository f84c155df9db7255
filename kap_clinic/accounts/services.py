from django.conf import settings
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User
from .throttle import Throttle


def totp_device_for_setup(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator, created on first request; a confirmed one is never reused."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, request, device: TOTPDevice, token: str) -> bool:
    """Confirm a new authenticator with a correct code; the session counts as verified from then on."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    otp_login(request, device)
    return True


def totp_verify(*, request, user: User, token: str) -> bool:
    """Verify a code against the user's confirmed authenticators (throttled by django-otp)."""
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
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
