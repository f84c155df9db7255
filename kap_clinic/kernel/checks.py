"""Configuration read from the environment, checked once by `manage.py check` (and at every start of the site).

kap_clinic/settings.py reads the environment leniently: a value it cannot read leaves the default in place and is
listed in ENV_PROBLEMS. These checks turn each such value, and each readable but unusable one (quiet hours at 25:99,
an unknown time zone, a negative proxy count, an SMS backend that cannot be imported), into an Error naming the
variable, so a bad deployment fails before it serves anyone rather than on every booking.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

from kap_clinic.rules.reminder_timing import parse_clock

# Settings that must be whole numbers of at least the given value.
AT_LEAST = {
    "PATIENT_INVITE_HOURS": 1,
    "PASSWORD_RESET_TIMEOUT": 1,
    "PASSWORD_RESET_PER_HOUR": 1,
    "SESSION_IDLE_MINUTES": 1,
    "SESSION_MAX_HOURS": 1,
    "AXES_FAILURE_LIMIT": 1,
    "PROXY_COUNT": 0,
    "LOGIN_IP_FAILURE_LIMIT": 1,
    "LOGIN_IP_WINDOW_MINUTES": 1,
    "WITNESS_FAILURE_LIMIT": 1,
    "WITNESS_WINDOW_MINUTES": 1,
    "EMAIL_TIMEOUT": 1,
    "REMINDER_SENDING_LEASE_SECONDS": 1,
    "REMINDER_REQUEUE_SECONDS": 1,
    "REMINDER_MAX_ATTEMPTS": 1,
    "REMINDER_RETRY_BASE_SECONDS": 1,
    "REMINDER_CONFIRM_LINK_DAYS": 1,
    "AUTHORIZATION_WARN_DAYS": 0,
    "AUTHORIZATION_WARN_UNITS_PERCENT": 1,
}


@register(Tags.compatibility)
def unreadable_environment(app_configs=None, **kwargs) -> list[Error]:
    """kap_clinic.E001: an environment value settings.py could not read (the default stood in for it)."""
    return [
        Error(
            f"{name}={value!r} is not {expected}.",
            hint=f"Fix or unset {name} in the environment; until then the default is used.",
            id="kap_clinic.E001",
        )
        for name, value, expected in getattr(settings, "ENV_PROBLEMS", [])
    ]


@register(Tags.compatibility)
def quiet_hours(app_configs=None, **kwargs) -> list[Error]:
    """kap_clinic.E002: reminder quiet hours that are not HH:MM times."""
    errors = []
    for name in ("REMINDER_QUIET_START", "REMINDER_QUIET_END"):
        value = getattr(settings, name, "")
        try:
            parse_clock(value)
        except (ValueError, AttributeError):
            errors.append(
                Error(
                    f"{name}={value!r} is not a time of day.",
                    hint="Use HH:MM on a 24-hour clock, e.g. 21:00.",
                    id="kap_clinic.E002",
                )
            )
    return errors


@register(Tags.compatibility)
def time_zone(app_configs=None, **kwargs) -> list[Error]:
    """kap_clinic.E003: a TIME_ZONE the time-zone database does not know."""
    value = settings.TIME_ZONE
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return [
            Error(
                f"TIME_ZONE={value!r} is not a known time zone.",
                hint="Use an IANA name such as America/New_York.",
                id="kap_clinic.E003",
            )
        ]
    return []


@register(Tags.compatibility)
def numbers(app_configs=None, **kwargs) -> list[Error]:
    """kap_clinic.E004: counts, limits and durations out of range; E005: an idle limit longer than the session."""
    errors = []
    for name, lowest in AT_LEAST.items():
        value = getattr(settings, name, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            errors.append(Error(f"{name}={value!r} must be a whole number of at least {lowest}.", id="kap_clinic.E004"))
    percent = getattr(settings, "AUTHORIZATION_WARN_UNITS_PERCENT", 80)
    if isinstance(percent, int) and percent > 100:
        errors.append(Error(f"AUTHORIZATION_WARN_UNITS_PERCENT={percent} is above 100.", id="kap_clinic.E004"))
    idle, longest = getattr(settings, "SESSION_IDLE_MINUTES", 0), getattr(settings, "SESSION_MAX_HOURS", 0)
    if isinstance(idle, int) and isinstance(longest, int) and idle > longest * 60 > 0:
        errors.append(
            Error(
                f"SESSION_IDLE_MINUTES={idle} is longer than SESSION_MAX_HOURS={longest}.",
                hint="The idle sign-out must come before the longest session ends.",
                id="kap_clinic.E005",
            )
        )
    return errors


@register(Tags.compatibility)
def sms_backend(app_configs=None, **kwargs) -> list[Error]:
    """kap_clinic.E006: an SMS_BACKEND that cannot be imported (empty is allowed: text messages then fail)."""
    path = getattr(settings, "SMS_BACKEND", "")
    if not path:
        return []
    try:
        import_string(path)
    except ImportError as exc:
        return [
            Error(
                f"SMS_BACKEND={path!r} cannot be imported ({exc}).",
                hint="Name a class such as kap_clinic.kernel.notifications.backends.TwilioSmsBackend, or unset it.",
                id="kap_clinic.E006",
            )
        ]
    return []
