"""Small protections, each with its test: no caching of signed-in pages, database reconnects after a restart, an
honest 500 page, and error mail without secrets."""

import os

import pytest
from django.core import mail
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

import kap_clinic.urls
from kap_clinic.kernel.logs import REDACTED

CANARY = "CANARYtoken0a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.mark.django_db
def test_every_signed_in_page_says_no_store(client_for, clinician, patient, patient_user, client):
    for user, page in ((clinician, "homes:home"), (patient_user, "homes:portal_schedule")):
        response = client_for(user).get(reverse(page))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_the_database_connection_is_health_checked_before_reuse(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db(transaction=True)
def test_the_first_request_after_the_database_dropped_the_connection_succeeds(client):
    """A restart drops every kept-open connection; with health checks the next request reconnects (PostgreSQL)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    import psycopg2

    saved_max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 60  # as in production: the connection outlives the request
    connection.close()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    try:
        close_old_connections()  # what Django does as each request starts
        response = client.get(reverse("clinic:health"))
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = saved_max_age
        connection.close()
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(("admins", "told"), [([], False), ([("ops@clinic.example", "ops@clinic.example")], True)])
def test_the_500_page_says_the_team_was_told_only_when_error_mail_is_set_up(settings, admins, told):
    settings.ADMINS = admins
    mail.outbox = []
    response = Client(raise_request_exception=False).get(f"/treatment/calendar/{CANARY}.ics")
    assert response.status_code == 500
    page = response.content.decode()
    assert ("The clinic team has been told" in page) is told
    assert kap_clinic.urls.handler500 == "kap_clinic.kernel.errors.server_error"
    assert len(mail.outbox) == (1 if told else 0)
    if told:
        [message] = mail.outbox
        assert CANARY not in message.subject + message.body
        assert f"/treatment/calendar/{REDACTED}.ics" in message.subject


def test_production_shares_its_cache_through_redis():
    """The feed's rate limit and the sign-in throttle count across gunicorn workers: Redis whenever REDIS_URL is set."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "CACHE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="kap_clinic.settings",
        DEBUG="false",
        SECRET_KEY="p" * 20 + "r0duct10n-k3y-" + "z" * 30,
        ALLOWED_HOSTS="clinic.example.org",
        REDIS_URL="redis://127.0.0.1:6379/9",
    )
    code = "from django.conf import settings as s; c = s.CACHES['default']; print(c['BACKEND'], c['LOCATION'])"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/9"]
