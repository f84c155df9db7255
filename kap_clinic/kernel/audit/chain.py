"""The audit log's hash chain: each entry is sealed with sha256(previous seal's hash + the entry's content).

Anyone who rewrites an entry, or deletes an entry or its seal, breaks the chain from that point on; `chain_verify`
walks it (in chunks, in bounded memory) and names the first entry where it breaks. A database superuser could recompute
every later seal, so `audit_verify` prints the head hash: written down elsewhere now and then, it pins the past.

On PostgreSQL the database seals entries itself (a deferred constraint trigger, see migration 0002): when the
transaction that wrote an entry commits, it takes an advisory lock, reads the last seal and appends the next, so two
writers cannot fork the chain and the application cannot write a seal of its own. Elsewhere (SQLite: development and
the fast tests) `seal_pending_entries` seals in Python whatever is not sealed yet, oldest first, when `audit_verify`
runs: a development database protects nothing anyway, and its requests pay no extra query.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from auditlog.models import LogEntry
from django.db import connections, transaction
from django.db.models import Exists, OuterRef

from .models import AuditSeal

GENESIS = "0" * 64

# The entry's content, in the order and form that is hashed. The PostgreSQL expression below must list the same
# columns; migration 0002 holds a frozen copy of it for the trigger.
CONTENT_FIELDS = (
    "id",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "serialized_data",
    "action",
    "changes_text",
    "changes",
    "actor_id",
    "actor_email",
    "cid",
    "remote_addr",
    "remote_port",
    "timestamp",
    "additional_data",
)
POSTGRES_CONTENT = """jsonb_build_array(
    {e}.id, {e}.content_type_id, {e}.object_pk, {e}.object_id, {e}.object_repr, {e}.serialized_data, {e}.action,
    {e}.changes_text, {e}.changes, {e}.actor_id, {e}.actor_email, {e}.cid, host({e}.remote_addr), {e}.remote_port,
    to_char({e}."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), {e}.additional_data
)::text"""


def postgres_hash_sql(prev: str, entry_alias: str) -> str:
    """SQL for an entry's seal hash, given SQL for the previous hash and the entry row's alias."""
    content = POSTGRES_CONTENT.replace("{e}", entry_alias)
    return f"encode(sha256(convert_to({prev} || {content}, 'UTF8')), 'hex')"


def entry_content(values: dict) -> str:
    """The canonical text of one entry's content (Python side, for databases other than PostgreSQL)."""
    row = dict(values)
    row["timestamp"] = row["timestamp"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    ordered = [row[name] for name in CONTENT_FIELDS]
    return json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, values: dict) -> str:
    return hashlib.sha256((prev_hash + entry_content(values)).encode()).hexdigest()


def seal_pending_entries(*, using: str = "default") -> int:
    """Seal every entry not sealed yet, oldest first (not on PostgreSQL, where the database seals at commit)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return 0
    sealed = 0
    with transaction.atomic(using=using):
        if connection.vendor == "sqlite":
            # A write first, so SQLite takes its write lock before the last seal is read: no two writers fork.
            with connection.cursor() as cursor:
                cursor.execute("UPDATE audit_auditseal SET id = id WHERE 0")
        pending = (
            LogEntry.objects.using(using)
            .filter(~Exists(AuditSeal.objects.using(using).filter(entry_id=OuterRef("pk"))))
            .order_by("pk")
            .values(*CONTENT_FIELDS)
        )
        last = AuditSeal.objects.using(using).order_by("-pk").values_list("entry_hash", flat=True).first()
        prev = last or GENESIS
        for values in list(pending):
            digest = entry_hash(prev, values)
            AuditSeal.objects.using(using).create(entry_id=values["id"], prev_hash=prev, entry_hash=digest)
            prev = digest
            sealed += 1
    return sealed


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    entries: int
    last_entry_id: int | None
    head_hash: str
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def chain_verify(*, chunk_size: int = 1000, using: str = "default") -> ChainReport:
    """Walk the chain from its first seal and report the first broken link, if any."""
    expected_prev = GENESIS
    count = 0
    last_entry_id = None
    after = 0
    rows_of = _postgres_rows if connections[using].vendor == "postgresql" else _python_rows
    while True:
        rows = rows_of(after=after, limit=chunk_size, using=using)
        if not rows:
            break
        for seal_id, entry_id, prev_hash, sealed_hash, recomputed in rows:
            broken = _check_link(entry_id, prev_hash, sealed_hash, recomputed, expected_prev)
            if broken is not None:
                return ChainReport(count, last_entry_id, expected_prev, broken)
            expected_prev, after, last_entry_id = sealed_hash, seal_id, entry_id
            count += 1
    unsealed = (
        LogEntry.objects.using(using)
        .filter(~Exists(AuditSeal.objects.using(using).filter(entry_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if unsealed is not None:
        return ChainReport(count, last_entry_id, expected_prev, ChainBreak(unsealed, "the entry has no seal"))
    return ChainReport(count, last_entry_id, expected_prev, None)


def _check_link(entry_id, prev_hash, sealed_hash, recomputed, expected_prev) -> ChainBreak | None:
    if prev_hash != expected_prev:
        return ChainBreak(entry_id, "the seal does not follow the one before it (a seal or entry was removed)")
    if recomputed is None:
        return ChainBreak(entry_id, "the entry was deleted")
    if recomputed != sealed_hash:
        return ChainBreak(entry_id, "the entry was changed after it was written")
    return None


def _postgres_rows(*, after: int, limit: int, using: str) -> list[tuple]:
    # Recomputed here, with the verifier's own copy of the expression rather than a function stored in the database.
    recomputed = postgres_hash_sql("s.prev_hash", "e")
    sql = (
        f"SELECT s.id, s.entry_id, s.prev_hash, s.entry_hash, CASE WHEN e.id IS NULL THEN NULL ELSE {recomputed} END "  # noqa: S608 - constant SQL
        "FROM audit_auditseal s LEFT JOIN auditlog_logentry e ON e.id = s.entry_id "
        "WHERE s.id > %s ORDER BY s.id LIMIT %s"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [after, limit])
        return cursor.fetchall()


def _python_rows(*, after: int, limit: int, using: str) -> list[tuple]:
    seals = list(
        AuditSeal.objects.using(using)
        .filter(pk__gt=after)
        .order_by("pk")
        .values_list("pk", "entry_id", "prev_hash", "entry_hash")[:limit]
    )
    entries = {
        values["id"]: values
        for values in LogEntry.objects.using(using).filter(pk__in=[s[1] for s in seals]).values(*CONTENT_FIELDS)
    }
    return [
        (pk, entry_id, prev, sealed, entry_hash(prev, entries[entry_id]) if entry_id in entries else None)
        for pk, entry_id, prev, sealed in seals
    ]
