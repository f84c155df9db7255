"""The site and the workers connect as a runtime role that reads and writes the clinic's data but cannot rewrite its
history: on the audit log and the append-only tables it may only read and append, it may not TRUNCATE anything, and
not owning the tables it cannot alter them or switch their triggers off (issue: the audit trail cannot be rewritten
by the application). PostgreSQL only; the role comes from DATABASE_RUNTIME_ROLE (.ci/run creates it)."""

import io
import re
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from kap_clinic.kernel.audit.chain import chain_verify
from kap_clinic.kernel.audit.models import AuditSeal
from patients.models import Patient
from sessions.controlled.services import cs_lot_receive
from sessions.models import ControlledProduct, CSLogEntry
from tests.conftest import registration_form, skip_or_fail
from tests.screening.test_services import signed_off_screening

from .conftest import seal_pending

pytestmark = pytest.mark.django_db

APPEND_ONLY = (
    "auditlog_logentry",
    "treatment_sessions_cslogentry",
    "treatment_sessions_recordsignature",
    "treatment_sessions_recordamendment",
)
READ_ONLY = ("audit_auditseal", "django_migrations")
SIGNED_RECORDS = (
    "screening_screening",
    "screening_instrumentresponse",
    "treatment_sessions_remsmonitoringform",
    "treatment_sessions_remsevent",
    "treatment_sessions_doseadministration",
)


@pytest.fixture
def runtime_role(db):
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = settings.DATABASE_RUNTIME_ROLE
    if not role:
        skip_or_fail("DATABASE_RUNTIME_ROLE is not set (.ci/run creates kap_app and sets it).")
    return role


def _privileges(role: str, table: str) -> set[str]:
    kinds = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind FROM unnest(%s::text[]) AS kind WHERE has_table_privilege(%s, %s, kind)",
            [list(kinds), role, table],
        )
        return {row[0] for row in cursor.fetchall()}


REFUSAL = re.compile(r"permission denied|must be owner|append-only|is signed")


def _refused(sql: str, params=()) -> bool:
    """True when the database refuses the statement for want of privilege or by a trigger (not for a typo)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        assert REFUSAL.search(str(error)), error
        return True
    return False


def test_migrate_grants_the_runtime_role_only_what_the_site_needs(runtime_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s", [runtime_role])
        assert cursor.fetchone() == (False, False, False)
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", [runtime_role])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT has_schema_privilege(%s, current_schema(), 'CREATE')", [runtime_role])
        assert cursor.fetchone()[0] is False

    assert _privileges(runtime_role, "patients_patient") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    for table in APPEND_ONLY:
        assert _privileges(runtime_role, table) == {"SELECT", "INSERT"}, table
    for table in READ_ONLY:
        assert _privileges(runtime_role, table) == {"SELECT"}, table


def test_the_runtime_role_cannot_rewrite_history_while_the_site_works(
    runtime_role, client_for, clinician, front_desk, admin_user, patient
):
    screening = signed_off_screening(patient, clinician)
    product = ControlledProduct.objects.create(name="Ketamine", strength="ketamine HCl 50 mg/mL", mg_per_ml="50")
    cs_lot_receive(product=product, lot_number="KX1", expires_on=date(2099, 1, 1), quantity="500", by=admin_user)
    seal_pending()

    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(runtime_role)}")

    for table in (*APPEND_ONLY, *READ_ONLY[:1]):
        assert _refused(f"TRUNCATE {table}"), table
        assert _refused(f"UPDATE {table} SET id = id"), table  # noqa: S608 - constant table names
        assert _refused(f"DELETE FROM {table}"), table  # noqa: S608
        assert _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL"), table
    assert _refused("INSERT INTO audit_auditseal (entry_id, prev_hash, entry_hash) VALUES (0, '', '')")
    assert _refused("DROP TRIGGER audit_log_append_only ON auditlog_logentry")
    assert _refused(
        "CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger AS 'BEGIN RETURN NEW; END' "
        "LANGUAGE plpgsql"
    )
    assert _refused("CREATE TABLE shadow (id int)")
    for table in SIGNED_RECORDS:
        assert _refused(f"TRUNCATE {table}"), table
        assert _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL"), table
    assert _refused("UPDATE screening_screening SET sign_off_note = 'rewritten' WHERE id = %s", [screening.pk])
    assert _refused("DELETE FROM screening_screening WHERE id = %s", [screening.pk])
    assert LogEntry.objects.exists() and CSLogEntry.objects.count() == 1

    # The site's own writes: sign-in, a registration, a chart read, a stock receipt, and the seals of all their entries.
    entries_before = LogEntry.objects.count()
    desk = client_for(front_desk)
    response = desk.post(
        reverse("patients:create"),
        registration_form(desk, {"given_name": "Ida", "family_name": "Vale", "date_of_birth": "1970-01-01"}),
    )
    assert response.status_code == 302
    registered = Patient.objects.get(family_name="Vale")
    assert client_for(clinician).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk})).status_code == 200
    cs_lot_receive(product=product, lot_number="KX2", expires_on=date(2099, 1, 1), quantity="100", by=admin_user)
    seal_pending()

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == runtime_role
    assert LogEntry.objects.filter(object_pk=str(registered.pk), action=LogEntry.Action.CREATE).exists()
    assert LogEntry.objects.count() > entries_before
    assert CSLogEntry.objects.count() == 2
    assert AuditSeal.objects.count() == LogEntry.objects.count()
    assert chain_verify().intact


def test_granting_again_changes_nothing_and_a_superuser_or_the_owner_is_refused(runtime_role):
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command

    out = io.StringIO()
    call_command("grant_runtime_role", stdout=out)
    assert f"Granted the runtime privileges to {runtime_role}" in out.getvalue()
    assert _privileges(runtime_role, "auditlog_logentry") == {"SELECT", "INSERT"}

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, (SELECT rolname FROM pg_roles WHERE rolsuper LIMIT 1)")
        owner, superuser = cursor.fetchone()
    with pytest.raises(ImproperlyConfigured, match="superuser"):
        call_command("grant_runtime_role", role=superuser)
    with pytest.raises(ImproperlyConfigured, match="must differ"):
        call_command("grant_runtime_role", role=owner)
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        call_command("grant_runtime_role", role="kap_no_such_role")
