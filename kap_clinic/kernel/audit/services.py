"""Audit entries beyond the create/update/delete that django-auditlog records on its own.

Each model holding patient data registers with auditlog in its models.py and says which patient it
belongs to through `get_additional_data()`; reads of a chart are recorded here, in the request's
transaction, with the actor and address that AuditlogMiddleware supplies.

Every page or file that shows a patient's data records a read (the clinic's accounting of disclosures: who saw
which patient's record, when, from where): a page about one record calls `record_chart_view`, a page listing
patients calls `record_reads` with the rows it shows (or `record_reads_of` with their ids, when the page reads plain
values rather than records). `tests/audit/test_read_coverage.py` walks every URL of the
authorization matrix and fails for a patient-data page that records no read.
"""

from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import Model
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.encoding import smart_str

# A list's read entries go in as rows of plain values, up to this many to a statement (fewer where the database takes
# fewer parameters per statement): building a model instance per entry and saving it through bulk_create cost more
# than the insert itself on a list of 40 patients.
READS_PER_INSERT = 500


def _reads_per_insert(connection, columns: int) -> int:
    """How many entries of `columns` values go in one statement on this database."""
    limit = connection.features.max_query_params
    return min(READS_PER_INSERT, limit // columns) if limit else READS_PER_INSERT


def record_chart_view(*, obj) -> None:
    """Record that the signed-in user opened this patient record."""
    accessed.send(sender=obj.__class__, instance=obj)


def record_security_event(*, obj, event: str) -> None:
    """Record an account-security event that is not a saved field (an admin's two-factor reset, a password-reset
    link emailed), with the actor and address the middleware supplies."""
    LogEntry.objects.log_create(
        obj,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes={"security event": [None, event]},
        additional_data={"event": event},
    )


def record_reads(*, rows: Iterable[Model]) -> int:
    """Record that the signed-in user saw the patients these rows belong to: one read entry per patient, one insert.

    A list names patients (search results, a schedule, a work queue): a name beside an appointment or a flag is a
    read of that patient's record. Each row says whose it is through `get_additional_data()` (a patient names
    itself; rows naming no patient are passed over); the entry names the first row shown for each patient and is
    marked as seen in a list. Returns how many entries were written.
    """
    by_patient: dict[int, tuple[Model, dict]] = {}
    for row in rows:
        additional_data = getattr(row, "get_additional_data", None)
        data = (additional_data() or {}) if additional_data else {}
        if data.get("patient_id") is not None:
            by_patient.setdefault(data["patient_id"], (row, data))
    if not by_patient:
        return 0
    content_types = ContentType.objects.get_for_models(*{type(row) for row, _ in by_patient.values()})
    entries = [
        (content_types[type(row)].pk, str(row.pk), row.pk, smart_str(row), {**data, "listed": True})
        for row, data in by_patient.values()
    ]
    return _record_listed(entries)


def record_reads_of(*, model: type[Model], rows: Iterable[tuple[int, int, str]]) -> int:
    """Record that the signed-in user saw the patients of these rows of `model`, given as plain values: (the row's
    id, its patient's id, the row's name in the log, as its `str()` reads). As `record_reads` does: one entry per
    patient, naming the first row shown for them, in one insert; no record is built to say whose a row is. Returns
    how many entries were written."""
    first: dict[int, tuple[int, str]] = {}
    for pk, patient_id, name in rows:
        if patient_id is not None:
            first.setdefault(patient_id, (pk, name))
    if not first:
        return 0
    content_type = ContentType.objects.get_for_model(model)  # cached after the first
    entries = [
        (content_type.pk, str(pk), pk, name, {"patient_id": patient_id, "listed": True})
        for patient_id, (pk, name) in first.items()
    ]
    return _record_listed(entries)


def _record_listed(entries: list[tuple]) -> int:
    """Write the read entries of a list (content type id, object pk as text and as a number, name, additional data),
    all seen at one moment by the request's user from its address."""
    cid = get_cid()
    # The signal a single save sends, sent once: AuditlogMiddleware's receiver fills in the actor and the address,
    # which are the request's and so the same for every entry; each entry takes the values it set.
    request_fields = LogEntry(action=LogEntry.Action.ACCESS, cid=cid)
    before = {field.attname: getattr(request_fields, field.attname) for field in LogEntry._meta.concrete_fields}
    pre_save.send(sender=LogEntry, instance=request_fields, raw=False, using=LogEntry.objects.db, update_fields=None)
    shared = {
        name: getattr(request_fields, name) for name, value in before.items() if getattr(request_fields, name) != value
    }
    # A list is seen at one moment: its entries share it, the action and the request id.
    shared.update(timestamp=timezone.now(), action=LogEntry.Action.ACCESS, changes_text="", cid=cid)
    own = ("content_type_id", "object_pk", "object_id", "object_repr", "additional_data")
    _insert_entries(columns=own, rows=entries, shared=shared)
    return len(entries)


def _insert_entries(*, columns: tuple[str, ...], rows: list[tuple], shared: dict) -> None:
    """Insert audit entries as plain values: `columns` differ per row, `shared` are the same for all of them.

    Each value is prepared for the database by its field, as a save would; the log's triggers (append-only, the hash
    chain's seal) see these rows like any other insert.
    """
    connection = connections[router.db_for_write(LogEntry)]
    meta = LogEntry._meta
    own_fields = [meta.get_field(name) for name in columns]
    shared_fields = [meta.get_field(name) for name in shared]
    shared_values = [field.get_db_prep_save(shared[field.attname], connection) for field in shared_fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in [*own_fields, *shared_fields])
    placeholder = "(" + ", ".join(["%s"] * (len(own_fields) + len(shared_fields))) + ")"
    batch = _reads_per_insert(connection, len(own_fields) + len(shared_fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = []
            for row in chunk:
                params += [
                    field.get_db_prep_save(value, connection) for field, value in zip(own_fields, row, strict=True)
                ]
                params += shared_values
            rows_sql = ", ".join([placeholder] * len(chunk))
            # Names and placeholders only: every value goes in as a parameter.
            cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES {rows_sql}", params)  # noqa: S608
