"""Database triggers that keep records append-only or, once signed, read-only: the statements that install them on
SQLite, and a way to lift them all for a moment.

On PostgreSQL the migrations install plpgsql triggers the runtime role cannot disable; on SQLite (the embedded
development database) they install the statements below. The audit log, its seals and signed session records'
signatures and amendments are append-only; signed screenings, session records and REMS forms are read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def sqlite_append_only(
    table: str, *, prefix: str | None = None, message: str = "the table is append-only"
) -> list[str]:
    """SQLite triggers refusing UPDATE and DELETE on `table`, named `<prefix>_no_update` / `<prefix>_no_delete`
    (prefix: the table's name unless given)."""
    prefix = prefix or table
    refuse = f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {prefix}_no_{op.lower()} BEFORE {op} ON {table} {refuse}"
        for op in ("UPDATE", "DELETE")
    ]


def sqlite_drop_append_only(table: str, *, prefix: str | None = None) -> list[str]:
    """The statements removing `sqlite_append_only(table, prefix=...)`'s triggers."""
    prefix = prefix or table
    return [f"DROP TRIGGER IF EXISTS {prefix}_no_{op};" for op in ("update", "delete")]


def sqlite_locked_rows(table: str, *, locked_when: str, message: str) -> list[str]:
    """SQLite triggers refusing INSERT, UPDATE and DELETE of a row of `table` while `locked_when` holds for it (an SQL
    condition with `%s` where the row, NEW or OLD, goes: typically "its parent is signed"). An UPDATE is refused when
    the row was or would become locked. Named `<table>_signed_ins` / `_signed_upd` / `_signed_del`."""
    refuse = f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_signed_ins BEFORE INSERT ON {table} WHEN {locked_when % 'NEW'} {refuse}",
        f"CREATE TRIGGER IF NOT EXISTS {table}_signed_upd BEFORE UPDATE ON {table} "
        f"WHEN {locked_when % 'OLD'} OR {locked_when % 'NEW'} {refuse}",
        f"CREATE TRIGGER IF NOT EXISTS {table}_signed_del BEFORE DELETE ON {table} WHEN {locked_when % 'OLD'} {refuse}",
    ]


def sqlite_drop_locked_rows(table: str) -> list[str]:
    """The statements removing `sqlite_locked_rows(table, ...)`'s triggers."""
    return [f"DROP TRIGGER IF EXISTS {table}_{suffix};" for suffix in ("signed_ins", "signed_upd", "signed_del")]


@contextmanager
def sqlite_triggers_lifted(connection) -> Iterator[None]:
    """SQLite only: every trigger dropped for the block and put back, as it was, afterwards.

    Emptying the database (a test's flush) deletes rows the append-only and read-only triggers refuse to let go.
    On other databases nothing is lifted: PostgreSQL's flush is a TRUNCATE, which row triggers do not see.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL")
        saved = cursor.fetchall()
        for name, _ in saved:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, sql in saved:
                cursor.execute(sql)
