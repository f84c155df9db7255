"""Environment settings are read leniently and checked by `manage.py check`: a bad value fails the check with an
error naming the variable, not every booking or reminder."""

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from kap_clinic.kernel.notifications.planning import quiet_hours

ROOT = Path(__file__).resolve().parents[1]


def _ids(**overrides) -> list[str]:
    with override_settings(**overrides):
        return [message.id for message in run_checks() if message.id and message.id.startswith("kap_clinic.")]


def test_the_test_settings_pass_the_checks():
    assert _ids() == []


@pytest.mark.parametrize("value", ["25:99", "9pm", "", "21:0"])
def test_quiet_hours_that_are_not_times_fail_the_check(value):
    assert "kap_clinic.E002" in _ids(REMINDER_QUIET_START=value)
    assert "kap_clinic.E002" in _ids(REMINDER_QUIET_END=value)


def test_unreadable_quiet_hours_fall_back_to_the_defaults_where_reminders_are_planned():
    with override_settings(REMINDER_QUIET_START="25:99", REMINDER_QUIET_END="late"):
        quiet = quiet_hours()
    assert (quiet.start, quiet.end) == (time(21, 0), time(8, 0))


def test_an_unknown_time_zone_fails_the_check():
    assert "kap_clinic.E003" in _ids(TIME_ZONE="Mars/Olympus_Mons")


@pytest.mark.parametrize(
    "overrides",
    [
        {"PROXY_COUNT": -1},
        {"SESSION_IDLE_MINUTES": 0},
        {"AXES_FAILURE_LIMIT": 0},
        {"AUTHORIZATION_WARN_UNITS_PERCENT": 120},
    ],
)
def test_numbers_out_of_range_fail_the_check(overrides):
    assert "kap_clinic.E004" in _ids(**overrides)


def test_an_idle_limit_longer_than_the_session_fails_the_check():
    assert "kap_clinic.E005" in _ids(SESSION_IDLE_MINUTES=600, SESSION_MAX_HOURS=2)


def test_an_sms_backend_that_cannot_be_imported_fails_the_check():
    assert "kap_clinic.E006" in _ids(SMS_BACKEND="nowhere.NoBackend")
    assert "kap_clinic.E006" not in _ids(SMS_BACKEND="")


def test_environment_values_settings_could_not_read_are_reported():
    assert "kap_clinic.E001" in _ids(ENV_PROBLEMS=[("PROXY_COUNT", "two", "a whole number")])


def _check(**env):
    base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    base.update(DJANGO_SETTINGS_MODULE="kap_clinic.settings", DEBUG="true", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_manage_check_fails_on_a_bad_environment_value_and_names_it():
    result = _check(REMINDER_QUIET_START="25:99", PROXY_COUNT="two")
    assert result.returncode != 0
    assert "kap_clinic.E002" in result.stderr and "REMINDER_QUIET_START='25:99'" in result.stderr
    assert "kap_clinic.E001" in result.stderr and "PROXY_COUNT='two'" in result.stderr
    assert _check().returncode == 0


def test_manage_check_names_an_unknown_time_zone_instead_of_crashing():
    result = _check(TIME_ZONE="Mars/Olympus_Mons")
    assert result.returncode != 0
    assert "kap_clinic.E001" in result.stderr and "TIME_ZONE='Mars/Olympus_Mons'" in result.stderr
    assert "Traceback" not in result.stderr
