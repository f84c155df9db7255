"""Production configuration: refuses to start without a real secret and passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STRONG_KEY = "p" * 20 + "r0duct10n-k3y-" + "z" * 30


def _manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "SECURE_SSL_REDIRECT",
            "SECURE_COOKIES",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    base.update(DJANGO_SETTINGS_MODULE="kap_clinic.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("key", ["", "short-key"])
def test_production_refuses_to_start_without_a_real_secret_key(key):
    result = _manage("check", DEBUG="false", SECRET_KEY=key, ALLOWED_HOSTS="clinic.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_fresh_checkout_checks_its_migrations_without_a_secret_but_does_nothing_else():
    assert _manage("makemigrations", "--check", "--dry-run").returncode == 0
    refused = _manage("migrate", "--plan")
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stderr
    deploy = _manage("check", "--deploy", ALLOWED_HOSTS="clinic.example.org")
    assert deploy.returncode != 0 and "SECRET_KEY" in deploy.stderr


def test_production_settings_pass_the_deploy_checks():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="clinic.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_production_sends_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_production_cookies_and_hsts():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print('RESULT', s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT)",
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="clinic.example.org",
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    assert line.split()[1:] == ["True", "True", "True", "True"], result.stderr


def test_no_template_uses_inline_scripts_or_styles():
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and " style=" not in text and "<style" not in text, path
        assert "cdn." not in text and "unpkg" not in text, path
