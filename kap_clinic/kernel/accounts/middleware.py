import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp import user_has_device

from . import services
from .signals import AUTH_STARTED_AT, LAST_SEEN_AT

LAST_SEEN_RESOLUTION = 30  # seconds


class SessionLifetimeMiddleware:
    """Signs a user out after SESSION_IDLE_MINUTES without a request or SESSION_MAX_HOURS in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.get(AUTH_STARTED_AT, now)
            last_seen = request.session.get(LAST_SEEN_AT, now)
            reason = None
            if now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
                reason = f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes without activity."
            elif now - started > settings.SESSION_MAX_HOURS * 3600:
                reason = f"Your session reached its {settings.SESSION_MAX_HOURS}-hour limit. Please sign in again."
            if reason:
                logout(request)
                messages.info(request, reason)
                return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.path})}")
            # Written only when it changes enough to matter: a session saved on every request is a database write
            # per page view; the idle limit keeps a resolution of LAST_SEEN_RESOLUTION seconds.
            if AUTH_STARTED_AT not in request.session:
                request.session[AUTH_STARTED_AT] = started
            if LAST_SEEN_AT not in request.session or now - last_seen >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """A staff session signed in with the password alone reaches only the second-factor pages and sign-out.

    With a confirmed authenticator (or backup codes) that is the code page: setting up another device needs a
    verified session, or the admin's reset link opened in this session. Without one, staff whose role requires
    TOTP reach only the set-up page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.is_clinic_staff and not user.is_verified():
            has_device = user_has_device(user)
            if has_device or user.requires_two_factor:
                may_enrol = not has_device or services.two_factor_reset_granted(request) is not None
                open_names = {"logout", "two_factor_reset"}
                open_names |= {"two_factor_setup"} if may_enrol else set()
                open_names |= {"two_factor_verify"} if has_device else set()
                match = request.resolver_match or _resolve(request.path_info)
                open_path = request.path_info.startswith(settings.STATIC_URL)
                if not open_path and not (match and match.namespace == "accounts" and match.url_name in open_names):
                    target = "accounts:two_factor_verify" if has_device else "accounts:two_factor_setup"
                    return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def _resolve(path):
    try:
        return resolve(path)
    except Resolver404:
        return None
