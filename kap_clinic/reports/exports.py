"""The rows of each CSV download: the patient list, dosing sessions, check-ins and authorizations, each limited to the
patients the user may open, and the tables of the outcomes and operations reports.

Rows are streamed from the database as plain tuples (`values_list(...).iterator()`), never loaded as objects, so a
download of the whole clinic stays small in memory. Each export also says which patients it names, so the view can
record a read of each (the clinic's accounting of disclosures) before the file goes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from aftercare.models import CheckIn
from billing.models import PriorAuthorization
from kap_clinic.kernel.accounts.models import User
from kap_clinic.rules import instruments
from patients.models import Patient
from patients.selectors import patients_visible_to, visible_through
from sessions.models import DosingSession, Route

from .figures import Table


@dataclass
class Export:
    filename: str
    headers: list[str]
    rows: Iterable[Sequence]
    patients: QuerySet[Patient] | None = None  # whose data the rows show; None: no patient is named


def _stamp() -> str:
    return timezone.localdate().isoformat()


def _named(name: str) -> str:
    return f"{name}-{_stamp()}.csv"


def patient_list(user: User) -> Export:
    patients = patients_visible_to(user).order_by("family_name", "given_name", "pk")
    statuses = dict(Patient.STATUS_CHOICES)
    rows = patients.values_list(
        "mrn",
        "family_name",
        "given_name",
        "preferred_name",
        "date_of_birth",
        "status",
        "primary_clinician__first_name",
        "primary_clinician__last_name",
        "email",
        "phone",
        "referral_source",
        "created_at",
    )

    def lines() -> Iterator[list]:
        for (
            mrn,
            family,
            given,
            preferred,
            born,
            status,
            c_first,
            c_last,
            email,
            phone,
            referral,
            created,
        ) in rows.iterator():
            clinician = f"{c_first or ''} {c_last or ''}".strip()
            yield [mrn, family, given, preferred, born, statuses.get(status, status), clinician, email, phone,
                   referral, created]  # fmt: skip

    headers = ["MRN", "Family name", "Given name", "Preferred name", "Date of birth", "Program status",
               "Primary clinician", "Email", "Phone", "Referred by", "Registered"]  # fmt: skip
    return Export(_named("patients"), headers, lines(), patients)


def dosing_sessions(user: User, patient: Patient | None = None) -> Export:
    sessions = DosingSession.objects.filter(visible_through(user))
    if patient is not None:
        sessions = sessions.filter(patient=patient)
    rows = sessions.order_by("starts_at", "pk").values_list(
        "patient__mrn",
        "starts_at",
        "ends_at",
        "protocol__route",
        "phase",
        "kind",
        "status",
        "room__name",
        "clinician__first_name",
        "clinician__last_name",
        "planned_dose",
        "protocol__dose_unit",
        "dose_administration__dose_mg_given",
    )
    routes = dict(Route.choices)
    statuses = dict(DosingSession.Status.choices)
    kinds = dict(DosingSession.Kind.choices)

    def lines() -> Iterator[list]:
        for (
            mrn,
            starts,
            ends,
            route,
            phase,
            kind,
            status,
            room,
            c_first,
            c_last,
            planned,
            unit,
            given,
        ) in rows.iterator():
            unit_label = "mg/kg" if unit == "mg_per_kg" else "mg"
            clinician = f"{c_first} {c_last}".strip()
            yield [mrn, starts, ends, routes.get(route, route), phase, kinds.get(kind, kind),
                   statuses.get(status, status), room, clinician, planned, unit_label, given]  # fmt: skip

    headers = ["MRN", "Starts", "Ends", "Route", "Phase", "Kind", "Status", "Room", "Clinician", "Planned dose",
               "Dose unit", "Dose given (mg)"]  # fmt: skip
    name = "dosing-sessions" if patient is None else f"dosing-sessions-{patient.mrn}"
    patients = Patient.objects.filter(pk__in=sessions.values("patient_id"))
    return Export(_named(name), headers, lines(), patients)


def checkins(user: User) -> Export:
    visible = CheckIn.objects.filter(visible_through(user))
    rows = visible.order_by("opens_at", "pk").values_list(
        "patient__mrn", "opens_at", "due_at", "status", "completed_at", "responses__code", "responses__total",
        "responses__band",
    )  # fmt: skip
    statuses = dict(CheckIn.Status.choices)

    def lines() -> Iterator[list]:
        for mrn, opens, due, status, completed, code, total, band in rows.iterator():
            name = instruments.display_name(code) if code else ""
            yield [mrn, opens, due, statuses.get(status, status), completed, name, total,
                   (band or "").replace("_", " ")]  # fmt: skip

    headers = ["MRN", "Opens", "Due", "Status", "Completed", "Questionnaire", "Total", "Band"]
    patients = Patient.objects.filter(pk__in=visible.values("patient_id"))
    return Export(_named("check-ins"), headers, lines(), patients)


def authorizations(user: User) -> Export:
    visible = PriorAuthorization.objects.filter(visible_through(user))
    rows = visible.order_by("ends_on", "pk").values_list(
        "patient__mrn", "payer__name", "reference", "codes", "status", "starts_on", "ends_on", "units_authorized",
        "units_used",
    )  # fmt: skip
    statuses = dict(PriorAuthorization.Status.choices)

    def lines() -> Iterator[list]:
        for mrn, payer, reference, codes, status, starts, ends, authorized, used in rows.iterator():
            yield [mrn, payer, reference, " ".join(codes or []), statuses.get(status, status), starts, ends,
                   authorized, used]  # fmt: skip

    headers = ["MRN", "Payer", "Authorization number", "Codes", "Status", "First day", "Last day",
               "Units authorized", "Units used"]  # fmt: skip
    patients = Patient.objects.filter(pk__in=visible.values("patient_id"))
    return Export(_named("authorizations"), headers, lines(), patients)


def report_tables(name: str, report) -> Export:
    """A report's tables one after another in one sheet, under the report's title and period: each table under its
    title, with its header row and its note."""
    tables: list[Table] = report.tables
    width = max([2, *(len(table.headers) for table in tables)])

    def pad(cells: Sequence) -> list:
        return [*cells, *[""] * (width - len(cells))]

    def lines() -> Iterator[list]:
        for index, table in enumerate(tables):
            if index:
                yield pad([])
            yield pad([table.title])
            yield pad(table.headers)
            for row in table.rows:
                yield pad(row)
            if table.note:
                yield pad([table.note])

    return Export(_named(name), pad([report.title, str(report.period)]), lines(), None)
