"""Reads of patient data: lists record each patient shown in one insert; the back office records its reads too."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.urls import reverse

from kap_clinic.kernel.audit.admin_mixins import PatientReadAuditAdmin
from patients.models import Patient
from patients.services import patient_create

pytestmark = pytest.mark.django_db


def _reads(**filters):
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS, **filters)


def _register(n, clinician=None):
    return [
        patient_create(
            created_by=None,
            given_name="Lee",
            family_name=f"Reader{i:02d}",
            date_of_birth=date(1990, 1, 1),
            primary_clinician=clinician,
        )
        for i in range(n)
    ]


def test_a_list_page_records_one_read_per_patient_shown_in_one_insert(client_for, front_desk):
    """Accounting of disclosures: a name in search results is a read of that patient's record, by this person,
    from this address; a list of 25 costs one insert, not 25."""
    shown = _register(30)
    client = client_for(front_desk)
    inserts = []

    def count_inserts(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and "auditlog_logentry" in sql:
            inserts.append(sql)
        return execute(sql, params, many, context)

    from django.db import connection

    with connection.execute_wrapper(count_inserts):
        response = client.get(reverse("patients:list"), REMOTE_ADDR="10.4.4.4")

    page = response.context["page"]
    assert len(page.object_list) == 25
    entries = _reads(actor=front_desk)
    assert sorted(e.additional_data["patient_id"] for e in entries) == sorted(p.pk for p in page.object_list)
    assert {e.remote_addr for e in entries} == {"10.4.4.4"}
    assert all(e.additional_data["listed"] for e in entries)
    assert {e.object_repr for e in entries} <= {p.mrn for p in shown}
    assert len(inserts) == 1


def test_a_list_records_each_patient_once_however_many_rows_they_have(client_for, clinician, patient):
    """The schedule lists sessions: three sessions of one patient are one read of that patient."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from sessions.models import Protocol, Room
    from sessions.scheduling.enrollment import enrollment_create
    from sessions.scheduling.planning import plan_create

    enrollment_create(patient=patient, by=clinician, override_justification="Reads test patient, gate overridden.")
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="iv"),
        first_day=timezone.localdate() + timedelta(days=1),
        start_time=None,
        room=Room.objects.create(name="Room R"),
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=clinician,
    )
    first = plan.sessions.order_by("starts_at").first()
    week = timezone.localtime(first.starts_at).date().isoformat()
    response = client_for(clinician).get(reverse("sessions:schedule"), {"day": week, "span": "week"})

    assert response.status_code == 200
    assert _reads(actor=clinician, additional_data__patient_id=patient.pk).count() == 1


def test_a_list_showing_nobody_records_nothing(client_for, front_desk):
    client_for(front_desk).get(reverse("patients:list"))
    assert not _reads().exists()


def test_a_clinician_list_records_only_the_patients_they_may_see(client_for, clinician, other_clinician):
    mine, theirs = _register(2, clinician), _register(2, other_clinician)
    client_for(clinician).get(reverse("patients:list"))
    seen = set(_reads(actor=clinician).values_list("additional_data__patient_id", flat=True))
    assert seen == {p.pk for p in mine}
    assert seen.isdisjoint(p.pk for p in theirs)


def test_a_patient_reading_their_own_schedule_is_recorded(client_for, patient_user, patient):
    client_for(patient_user).get(reverse("homes:portal_schedule"))
    assert _reads(actor=patient_user, additional_data__patient_id=patient.pk).count() == 1


def test_an_edit_form_records_a_read_and_a_refused_one_records_nothing(
    client_for, front_desk, other_clinician, patient
):
    url = reverse("patients:edit", kwargs={"pk": patient.pk})
    assert client_for(other_clinician).get(url).status_code == 404
    assert not _reads(additional_data__patient_id=patient.pk).exists()
    assert client_for(front_desk).get(url).status_code == 200
    assert _reads(actor=front_desk, additional_data__patient_id=patient.pk).count() == 1


# ---- The back office ----------------------------------------------------------------------------------------------


def test_every_back_office_page_for_patient_data_records_its_reads():
    """A model that names its patient for the audit log holds patient data: its admin must record reads."""
    for model, model_admin in admin.site._registry.items():
        if model is LogEntry:
            continue  # the accounting itself
        if hasattr(model, "get_additional_data"):
            assert isinstance(model_admin, PatientReadAuditAdmin), f"{model.__name__}'s admin records no reads"


def test_opening_a_patient_in_the_back_office_records_a_read(client_for, admin_user, patient):
    client = client_for(admin_user)
    response = client.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    assert response.status_code == 200
    entry = _reads(actor=admin_user).get()
    assert (entry.additional_data["patient_id"], entry.object_repr) == (patient.pk, patient.mrn)


def test_a_back_office_list_records_one_read_per_patient_listed(client_for, admin_user, patient, other_patient):
    response = client_for(admin_user).get(reverse("admin:patients_patient_changelist"))
    assert response.status_code == 200
    seen = sorted(_reads(actor=admin_user).values_list("additional_data__patient_id", flat=True))
    assert seen == sorted(Patient.objects.values_list("pk", flat=True))


def test_a_long_list_is_recorded_in_inserts_of_a_bounded_size():
    """An export of every patient records a read of each, as many rows to a statement as the database takes (at most
    READS_PER_INSERT): every insert but the last is full."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kap_clinic.kernel.audit.services import READS_PER_INSERT, record_reads

    rows = [Patient(pk=n, mrn=f"KL-{n:07d}") for n in range(1, 2 * READS_PER_INSERT + 2)]
    inserted = []  # how many entries each insert carries

    def count_entries(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and "auditlog_logentry" in sql:
            inserted.append(sql.partition(" VALUES ")[2].count("("))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as ran, connection.execute_wrapper(count_entries):
        assert record_reads(rows=rows) == len(rows)
    assert len(ran) <= 1 + len(inserted)  # the content type (when not cached), then the inserts
    assert sum(inserted) == len(rows) and len(inserted) >= 3
    assert 50 <= inserted[0] <= READS_PER_INSERT
    assert set(inserted[:-1]) == {inserted[0]} and 0 < inserted[-1] <= inserted[0]
    entries = _reads(additional_data__listed=True)
    assert entries.count() == len(rows)
    assert set(entries.values_list("object_repr", flat=True)) == {row.mrn for row in rows}
    assert record_reads(rows=[]) == 0


def test_rows_given_as_plain_values_record_one_read_per_patient_in_one_insert(
    patient, other_patient, django_assert_num_queries
):
    """A page that reads plain values rather than records says whose each row is by its ids: the entry names the
    first row shown for each patient, as `record_reads` would have named it."""
    from kap_clinic.kernel.audit.services import record_reads, record_reads_of

    record_reads(rows=[patient])  # the patient's content type is looked up once, then kept
    rows = [(7, patient.pk, "Seven"), (8, other_patient.pk, "Eight"), (9, patient.pk, "Nine"), (10, None, "Ten")]
    with django_assert_num_queries(1):
        assert record_reads_of(model=Patient, rows=rows) == 2
    entries = _reads(additional_data__listed=True, object_id__in=[7, 8, 9, 10])
    assert sorted(entries.values_list("object_id", "object_pk", "object_repr", "additional_data")) == [
        (7, "7", "Seven", {"patient_id": patient.pk, "listed": True}),
        (8, "8", "Eight", {"patient_id": other_patient.pk, "listed": True}),
    ]
    assert {e.content_type.model_class() for e in entries} == {Patient}
    assert record_reads_of(model=Patient, rows=[]) == 0


def test_the_log_keeps_only_the_indexes_its_queries_use():
    """Each read entry is written to every index of the log: the unused ones django-auditlog made are gone."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("The log's own indexes are made on PostgreSQL only.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'auditlog_logentry'")
        columns = {definition.split(" USING btree ")[1] for (definition,) in cursor.fetchall()}
    assert columns == {
        "(id)",
        "(content_type_id)",
        "(object_id)",
        "(cid)",
        '("timestamp")',
        "(((additional_data -> 'patient_id'::text)), \"timestamp\" DESC, id DESC)",
        '(actor_id, "timestamp" DESC, id DESC)',
    }
