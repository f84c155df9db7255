import os
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import settings as hypothesis_settings

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.audit.triggers import sqlite_triggers_lifted
from kap_clinic.kernel.reference_data import seed_reference_data
from patients.services import patient_create

PASSWORD = "correct-horse-battery-staple-42"

# Properties are checked on what they compute, never on how long an example takes: a busy machine (two test
# processes on two cores) must not turn a slow example into a failure.
hypothesis_settings.register_profile("clinic", deadline=None)
hypothesis_settings.load_profile("clinic")

# CI sets this so that a missing Redis or Chromium fails the run instead of skipping tests.
REQUIRE_SERVICES = os.environ.get("KAP_REQUIRE_SERVICES", "") == "1"


def pytest_collection_modifyitems(items):
    """Under `pytest -n` (pytest-xdist, as `make test` runs), the tests that start a real Celery worker share one
    broker: they run one after another in the same process (`--dist loadgroup`), never two at once."""
    for item in items:
        if item.get_closest_marker("worker") is not None:
            item.add_marker(pytest.mark.xdist_group("real-worker"))


def skip_or_fail(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


def registration_form(client, data: dict) -> dict:
    """`data` with the one-time token of a freshly opened "Register a patient" form, as a browser would post it."""
    token = client.get(reverse("patients:create")).context["form"].initial["form_token"]
    return {**data, "form_token": token}


def make_user(username: str, role: str, *, with_totp: bool | None = None) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, role=role, first_name=username.title(), last_name="Tester"
    )
    if with_totp if with_totp is not None else user.requires_two_factor:
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


def sign_in(client, user: User) -> None:
    """Signed in as a person would be after password and, where the role needs it, a TOTP code."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()


@pytest.fixture
def admin_user(db):
    return make_user("admin1", Role.ADMIN)


@pytest.fixture
def clinician(db):
    return make_user("clinician1", Role.CLINICIAN)


@pytest.fixture
def other_clinician(db):
    return make_user("clinician2", Role.CLINICIAN)


@pytest.fixture
def front_desk(db):
    return make_user("intake1", Role.INTAKE)


@pytest.fixture
def patient_user(db):
    return make_user("patient1", Role.PATIENT)


@pytest.fixture
def other_patient_user(db):
    return make_user("patient2", Role.PATIENT)


@pytest.fixture
def patient(db, patient_user, clinician):
    """Patient A: has a portal account and is in `clinician`'s care."""
    return patient_create(
        created_by=None,
        given_name="Ada",
        family_name="Quill",
        date_of_birth=date(1980, 5, 17),
        primary_clinician=clinician,
        user=patient_user,
    )


@pytest.fixture
def other_patient(db, other_patient_user, other_clinician):
    """Patient B: another portal account, in `other_clinician`'s care."""
    return patient_create(
        created_by=None,
        given_name="Bram",
        family_name="Holt",
        date_of_birth=date(1975, 2, 3),
        primary_clinician=other_clinician,
        user=other_patient_user,
    )


@pytest.fixture
def client_for(client):
    """`client_for(user)`: the test client signed in as that user (fully verified)."""

    def _client_for(user):
        client.logout()
        sign_in(client, user)
        return client

    return _client_for


@pytest.fixture(autouse=True)
def _sqlite_flush_despite_append_only_audit_log(request):
    """Let a transactional test's flush run on SQLite, whose audit log refuses DELETE.

    PostgreSQL's flush is a TRUNCATE, which the row-level append-only trigger does not see; SQLite's
    flush is a DELETE, which its trigger aborts. Lift the trigger, empty the table, put it back.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")  # torn down (flushed) after this fixture
    yield
    if connection.vendor != "sqlite":
        return
    # Audit log and seals, signed session records, screenings and REMS forms: their triggers refuse the flush's
    # DELETEs. Lift them, flush here, put them back (the flush that follows this fixture finds nothing to delete).
    with sqlite_triggers_lifted(connection):
        call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)


# Whether this process's test database holds the reference rows, committed, under every test's transaction.
_reference_rows = {"committed": False}


@pytest.fixture(autouse=True)
def _reference_data(request, django_db_blocker):
    """Put back the reference rows every clinic starts with (role groups, reminder rules, preparation texts,
    protocols, clinic hours, consent documents) where missing.

    A transactional test (browser, worker) ends with a flush that empties every table, seeded rows included; whichever
    test runs next must not depend on the order tests happen to run in. The rows are written once, committed, before
    the first test that runs in a transaction (and again after each flush): every such test rolls back to them, so
    seeding per test (some sixty queries) is not needed.
    """
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    transactional = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        _reference_rows["committed"] = False  # the flush at the end of this test removes them
        seed_reference_data()
        yield
        return
    if not _reference_rows["committed"]:
        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            seed_reference_data()
        _reference_rows["committed"] = True
    request.getfixturevalue("db")
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles and rate limits count in the cache (process memory in tests): each test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
