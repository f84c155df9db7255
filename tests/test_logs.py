"""Secrets stay out of the logs: a canary token in each credential-bearing URL never reaches a log line.

Three writers are checked: Django's own handlers in this process (django.request's "Not Found: /path" lines),
and two real servers started on loopback with the project's configuration, whose output is read back: gunicorn
with gunicorn.conf.py (its access log) and runserver (django.server's request lines). Each must still log the
request, with the secret replaced by [redacted].
"""

import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from kap_clinic.kernel.logs import REDACTED, redact
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
CANARY = "CANARYtoken7f3a9b2c4d5e6f708192a3b4c5d6e7f8"


def secret_paths() -> list[str]:
    return [
        reverse("sessions:calendar_feed", kwargs={"token": CANARY}),
        reverse("session_confirm", args=[CANARY]),
        reverse("invite_accept", args=[CANARY]),
    ]


def test_redact_keeps_the_shape_and_drops_the_secret():
    assert (
        redact(f"GET /treatment/calendar/{CANARY}.ics HTTP/1.1") == f"GET /treatment/calendar/{REDACTED}.ics HTTP/1.1"
    )
    assert redact(f"Not Found: /reminders/confirm/{CANARY}:1x:ab/") == f"Not Found: /reminders/confirm/{REDACTED}/"
    assert redact(f"/accounts/password/reset/MQ/{CANARY}/") == f"/accounts/password/reset/MQ/{REDACTED}/"
    assert redact(f"GET /accounts/two-factor/reset/{CANARY}/ HTTP/1.1") == (
        f"GET /accounts/two-factor/reset/{REDACTED}/ HTTP/1.1"
    )
    assert redact("GET /treatment/my-schedule/calendar/ HTTP/1.1") == "GET /treatment/my-schedule/calendar/ HTTP/1.1"


@pytest.mark.django_db
def test_djangos_log_handlers_never_write_the_token(client, settings):
    """The handlers configured in settings.LOGGING, their output captured: each request logged, no canary."""
    handlers = [
        handler
        for name in ("", "django.server")
        for handler in logging.getLogger(name).handlers
        if type(handler) is logging.StreamHandler
    ]
    assert len(handlers) == 2
    buffer = io.StringIO()
    saved = [handler.setStream(buffer) for handler in handlers]
    try:
        for path in secret_paths():
            response = client.get(path)
            assert response.status_code >= 400
            # A response that was not already kept out of the log (a 404 for an unknown link, a 500) is logged.
            logging.getLogger("django.request").warning("Not Found: %s", path)
        logging.getLogger("django.server").info('"%s" %s %s', f"GET {secret_paths()[0]} HTTP/1.1", "200", "512")
    finally:
        for handler, stream in zip(handlers, saved, strict=True):
            handler.setStream(stream)
    written = buffer.getvalue()
    assert CANARY not in written
    assert written.count(REDACTED) >= len(secret_paths()) + 1
    assert f"Not Found: /accounts/invite/{REDACTED}/" in written  # logged by Django itself, redacted
    assert f"/treatment/calendar/{REDACTED}.ics" in written


@pytest.mark.django_db
def test_a_two_factor_reset_link_opened_by_someone_else_is_logged_without_its_token(client, admin_user, clinician):
    """The link an admin's reset emails is a credential too: opened in another staff member's session it is refused
    (404), and Django's "Not Found" line for it names the page, not the token."""
    from kap_clinic.kernel.accounts.models import TwoFactorReset
    from tests.conftest import sign_in

    TwoFactorReset.objects.create(
        user=clinician,
        token_hash=TwoFactorReset.hash_token(CANARY),
        created_by=admin_user,
        expires_at="2999-01-01T00:00Z",
    )
    handler = next(h for h in logging.getLogger("").handlers if type(h) is logging.StreamHandler)
    buffer = io.StringIO()
    saved = handler.setStream(buffer)
    try:
        sign_in(client, admin_user)
        response = client.get(reverse("accounts:two_factor_reset", args=[CANARY]))
    finally:
        handler.setStream(saved)
    assert response.status_code == 404
    written = buffer.getvalue()
    assert CANARY not in written, written
    assert f"Not Found: /accounts/two-factor/reset/{REDACTED}/" in written, written


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _server_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CACHE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="kap_clinic.settings_test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",  # no tables: the feed answers 500, logged too
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.mark.parametrize("server", ["gunicorn", "runserver"])
def test_a_real_server_logs_the_request_but_not_the_token(tmp_path, server):
    port = _free_port()
    log_file = tmp_path / "server.log"
    venv_bin = Path(sys.executable).parent
    if server == "gunicorn":
        gunicorn = venv_bin / "gunicorn"
        if not gunicorn.exists():
            skip_or_fail("gunicorn is not installed")
        command = [
            str(gunicorn),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ]
    else:
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with log_file.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=_server_env(tmp_path), stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            if not _wait_for(port, proc):
                skip_or_fail(f"{server} did not start: {log_file.read_text()[-2000:]}")
            # The two-factor reset link too: it sends a signed-out visitor to sign in, the link kept in `next`.
            for path in [*secret_paths(), reverse("accounts:two_factor_reset", args=[CANARY])]:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20)  # noqa: S310 - loopback
                except urllib.error.HTTPError:
                    pass  # 404 or 500: the request line is logged either way
            time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    written = log_file.read_text()
    assert CANARY not in written, written
    # The request lines themselves (gunicorn's access log, runserver's django.server), not only Django's warnings.
    assert f'"GET /treatment/calendar/{REDACTED}.ics' in written, written
    assert f'"GET /accounts/invite/{REDACTED}/' in written, written
    assert f'"GET /accounts/two-factor/reset/{REDACTED}/' in written, written
