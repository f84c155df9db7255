"""Two PostgreSQL roles: the owner, which runs `migrate` and owns every table, and the runtime role the site and the
workers connect as (DATABASE_URL), which may read and write the clinic's data but not rewrite its history.

After every `migrate` (post_migrate) the owner grants the runtime role named by DATABASE_RUNTIME_ROLE:
- SELECT, INSERT, UPDATE, DELETE on every table, and the same by default on tables created later;
- only SELECT and INSERT on the append-only tables (the audit log, the controlled-substance log, signatures and
  amendments: each app registers its own with `append_only`), and only SELECT on the audit seals and on
  django_migrations;
- never TRUNCATE, REFERENCES or TRIGGER, and no CREATE in the schema. Not owning the tables, it cannot ALTER them,
  DISABLE TRIGGER or drop them; the triggers that keep signed records read-only hold for it too.

On other databases (SQLite) there are no roles and this does nothing.
"""

import re

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_append_only: list[str] = []  # model labels
_read_only: list[str] = ["audit.AuditSeal"]
READ_ONLY_TABLES = ("django_migrations",)


def append_only(model):
    """Register a model whose table the runtime role may only read and append to."""
    label = model._meta.label
    if label not in _append_only:
        _append_only.append(label)
    return model


def append_only_tables() -> list[str]:
    return [apps.get_model(label)._meta.db_table for label in _append_only]


def read_only_tables() -> list[str]:
    return [apps.get_model(label)._meta.db_table for label in _read_only] + list(READ_ONLY_TABLES)


def runtime_role_grant(*, role: str, password: str = "", using: str = "default") -> bool:
    """Give `role` the runtime privileges here (creating it when a password is given); False off PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    if not ROLE_NAME.match(role):
        raise ImproperlyConfigured(f"DATABASE_RUNTIME_ROLE {role!r} is not a plain lower-case role name.")
    q = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
        if role == owner:
            raise ImproperlyConfigured("DATABASE_RUNTIME_ROLE must differ from the role that runs migrate.")
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            if not password:
                raise ImproperlyConfigured(
                    f"The runtime role {role!r} does not exist: create it, or set DATABASE_RUNTIME_PASSWORD so that "
                    "migrate creates it."
                )
            cursor.execute(
                f"CREATE ROLE {q(role)} LOGIN PASSWORD %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION",
                [password],
            )
        else:
            if found[0] or found[1]:
                raise ImproperlyConfigured(f"The runtime role {role!r} is a superuser or bypasses row security.")
            if password:
                cursor.execute(f"ALTER ROLE {q(role)} LOGIN PASSWORD %s", [password])
        cursor.execute("SELECT pg_has_role(%s, current_user, 'USAGE')", [role])
        if cursor.fetchone()[0]:
            raise ImproperlyConfigured(f"The runtime role {role!r} is a member of the owner role {owner!r}.")

        r, s = q(role), q(schema)
        statements = [
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {s} FROM {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        ]
        for table in append_only_tables():
            statements += [f"REVOKE ALL ON {q(table)} FROM {r}", f"GRANT SELECT, INSERT ON {q(table)} TO {r}"]
        for table in read_only_tables():
            statements += [f"REVOKE ALL ON {q(table)} FROM {r}", f"GRANT SELECT ON {q(table)} TO {r}"]
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
        if cursor.fetchone()[0]:
            # Clusters older than PostgreSQL 15 let PUBLIC create in the public schema.
            cursor.execute(f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC")
    return True


def grant_after_migrate(sender, using="default", plan=None, **kwargs):
    """post_migrate: once per `migrate` (not after a test flush), when DATABASE_RUNTIME_ROLE is set."""
    role = getattr(settings, "DATABASE_RUNTIME_ROLE", "")
    if sender.label != "audit" or plan is None or not role:
        return
    runtime_role_grant(role=role, password=getattr(settings, "DATABASE_RUNTIME_PASSWORD", ""), using=using)
