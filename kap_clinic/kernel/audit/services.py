"""Audit entries beyond the create/update/delete that django-auditlog records on its own.

Each model holding patient data registers with auditlog in its models.py and says which patient it
belongs to through `get_additional_data()`; reads of a chart are recorded here, in the request's
transaction, with the actor and address that AuditlogMiddleware supplies.

Every page or file that shows a patient's data records a read (the clinic's accounting of disclosures: who saw
which patient's record, when, from where): a page about one record calls `record_chart_view`, a page listing
patients calls `record_reads` with the rows it shows. `tests/audit/test_read_coverage.py` walks every URL of the
authorization matrix and fails for a patient-data page that records no read.
"""

from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.db.models.signals import pre_save
from django.utils.encoding import smart_str


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


def record_reads(*, rows: Iterable[Model]) -> list[LogEntry]:
    """Record that the signed-in user saw the patients these rows belong to: one read entry per patient, one insert.

    A list names patients (search results, a schedule, a work queue): a name beside an appointment or a flag is a
    read of that patient's record. Each row says whose it is through `get_additional_data()` (a patient names
    itself; rows naming no patient are passed over); the entry names the first row shown for each patient and is
    marked as seen in a list.
    """
    by_patient: dict[int, Model] = {}
    for row in rows:
        additional_data = getattr(row, "get_additional_data", None)
        patient_id = (additional_data() or {}).get("patient_id") if additional_data else None
        if patient_id is not None:
            by_patient.setdefault(patient_id, row)
    if not by_patient:
        return []
    cid = get_cid()
    content_types = ContentType.objects.get_for_models(*{type(row) for row in by_patient.values()})  # one query at most
    # The signal a single save sends, sent once: AuditlogMiddleware's receiver fills in the actor and the address,
    # which are the request's and so the same for every entry; each entry takes the values it set.
    request_fields = LogEntry(action=LogEntry.Action.ACCESS, cid=cid)
    before = {field.attname: getattr(request_fields, field.attname) for field in LogEntry._meta.concrete_fields}
    pre_save.send(sender=LogEntry, instance=request_fields, raw=False, using=LogEntry.objects.db, update_fields=None)
    from_request = {
        name: getattr(request_fields, name) for name, value in before.items() if getattr(request_fields, name) != value
    }
    from_request.pop("timestamp", None)  # each entry keeps its own moment
    entries = [
        LogEntry(
            content_type=content_types[type(row)],
            object_pk=str(row.pk),
            object_id=row.pk,
            object_repr=smart_str(row),
            action=LogEntry.Action.ACCESS,
            additional_data={**row.get_additional_data(), "patient_id": patient_id, "listed": True},
            cid=cid,
            **from_request,
        )
        for patient_id, row in by_patient.items()
    ]
    return LogEntry.objects.bulk_create(entries)
