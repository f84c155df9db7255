import importlib
import os
from datetime import date

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from patients.services import patient_create

PASSWORD = "correct-horse-battery-staple-42"

# CI sets this so that a missing Redis or Chromium fails the run instead of skipping tests.
REQUIRE_SERVICES = os.environ.get("KAP_REQUIRE_SERVICES", "") == "1"


def skip_or_fail(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


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
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    migration = importlib.import_module("kap_clinic.kernel.audit.migrations.0001_append_only_log")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        cursor.execute(f"DELETE FROM {migration.TABLE}")  # noqa: S608 - a constant table name
        for statement in migration.SQLITE_UP:
            cursor.execute(statement)
        # Signed session records: their append-only triggers refuse the same DELETE.
        record = importlib.import_module("sessions.migrations.0006_session_record")
        for statement in record._sqlite_down():
            cursor.execute(statement)
        for table in record.APPEND_ONLY_TABLES:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - constant table names
        for statement in record._sqlite_up():
            cursor.execute(statement)
    # Audit seals, signed screenings and REMS forms: lift their triggers, flush here, put them back (the flush that
    # follows this fixture then finds nothing left to delete).
    from django.apps import apps
    from django.core.management import call_command

    seals = importlib.import_module("kap_clinic.kernel.audit.migrations.0002_hash_chain")
    screenings = importlib.import_module("screening.migrations.0003_signed_screening_is_read_only")
    rems = importlib.import_module("sessions.migrations.0007_signed_rems_form_is_read_only")
    with connection.cursor() as cursor:
        for statement in [*seals.SQLITE_DOWN, *screenings.sqlite_down(), *rems.sqlite_down()]:
            cursor.execute(statement)
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    with connection.cursor() as cursor:
        for statement in [*seals.SQLITE_UP, *screenings.sqlite_up(), *rems.sqlite_up(rems.form_columns(apps))]:
            cursor.execute(statement)


REFERENCE_DATA_MIGRATIONS = (
    # (module with a `seed(apps, schema_editor)`, model whose rows it creates)
    ("sessions.migrations.0003_booking_exclusions_and_protocols", "treatment_sessions.Protocol"),
    ("sessions.migrations.0008_consent_documents", "treatment_sessions.ConsentDocument"),
    ("kap_clinic.kernel.notifications.migrations.0003_aftercare_and_staff_alerts", "notifications.ReminderRule"),
    ("kap_clinic.kernel.notifications.migrations.0004_preparation_texts", "notifications.PreparationText"),
)


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Put back the rows migrations seed (protocols, clinic hours, reminder rules, role groups) when missing.

    A transactional test (browser, worker) ends with a flush that empties every table, seeded rows included; whichever
    test runs next must not depend on the order tests happen to run in.
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
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.apps import apps
    from django.contrib.auth.models import Group

    from kap_clinic.kernel.accounts.roles import sync_role_groups

    for module, label in REFERENCE_DATA_MIGRATIONS:
        if not apps.get_model(label).objects.exists():
            importlib.import_module(module).seed(apps, None)
    if not Group.objects.exists():
        sync_role_groups()
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles and rate limits count in the cache (process memory in tests): each test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
