"""The reports the clinic can produce, by kind: each with its title, its form, who may ask for it, how many rows it
holds (to decide whether it runs in the background) and how it is rendered as PDF or CSV.

Parameters are plain values (ids and ISO dates) so a report can be queued as a background job and re-run.
"""

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.pdf import render_pdf
from patients.models import Patient
from patients.selectors import patients_visible_to
from sessions.models import Route

from . import forms, selectors
from .csv_export import write_csv
from .operations import operations_report, operations_rows_estimate
from .outcomes import clinic_outcomes, outcomes_rows_estimate
from .tables import Table

PAGE_SIZES = ("letter", "a4")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Output:
    """A rendered report: its bytes whole, or (for long CSV) `chunks` produced as they are written."""

    content: bytes
    content_type: str
    filename: str
    chunks: Iterable[bytes] | None = None

    def stream(self) -> Iterator[bytes]:
        """The bytes in pieces, read once; memory stays bounded however many rows a streamed report has."""
        if self.chunks is None:
            yield self.content
        else:
            yield from self.chunks

    def read(self) -> bytes:
        return b"".join(self.stream())


def _no_progress(done: int) -> None:
    """A caller that does not follow progress."""


def render_document(template: str, context: dict) -> bytes:
    """A report's PDF from its print template, with the clinic's name, paper size and production time."""
    page_size = str(getattr(settings, "REPORT_PAGE_SIZE", "letter")).lower()
    page_size = page_size if page_size in PAGE_SIZES else "letter"
    context = {
        "clinic_name": settings.CLINIC_NAME,
        "page_size": page_size,
        "generated_at": timezone.localtime(),
        **context,
    }
    return render_pdf(render_to_string(template, context))


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


def _period(params: dict) -> str:
    start, end = params.get("start"), params.get("end")
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start}"
    if end:
        return f"until {end}"
    return "all dates"


def _scope(params: dict) -> str:
    """The period, and the route or clinician a report was narrowed to, as its pages say under the title."""
    parts = [_period(params)]
    if params.get("route"):
        parts.append(dict(Route.choices).get(params["route"], params["route"]))
    if params.get("clinician_id"):
        clinician = User.objects.filter(pk=params["clinician_id"]).first()
        if clinician is not None:
            parts.append(f"patients of {clinician.get_full_name() or clinician.get_username()}")
    return ", ".join(parts)


def _patient(params: dict) -> Patient | None:
    return Patient.objects.filter(pk=params["patient"]).first() if params.get("patient") else None


def _user(params: dict) -> User | None:
    return User.objects.filter(pk=params["user"]).first() if params.get("user") else None


class Kind:
    """What every report kind shares: who may have which of its reports, for one report or many at once."""

    roles: tuple = ()

    def check(self, user: User, params: dict) -> None:
        """404 unless the user may have this report (beyond their role, which the caller checks)."""

    def permitted(self, user: User, many: list[dict]) -> list[bool]:
        """`check` for several reports' parameters at once: a kind whose check reads the database answers them
        together in one query, so a list of reports costs the same whatever its length."""
        answers = []
        for params in many:
            try:
                self.check(user, params)
            except Http404:
                answers.append(False)
            else:
                answers.append(True)
        return answers


class PatientSummary(Kind):
    """The patient treatment summary, for a referring doctor or a payer."""

    slug = "patient_summary"
    title = "Patient treatment summary"
    description = "One patient's diagnoses, screening, every dosing session, REMS forms, aftercare and outcome."
    form = forms.PatientSummaryForm
    roles = (Role.ADMIN, Role.CLINICIAN)
    formats = ("pdf",)

    def check(self, user: User, params: dict) -> None:
        """404 unless the user may read this patient's summary: clinicians their own patients, admins everyone's."""
        if not self.permitted(user, [params])[0]:
            raise Http404

    def permitted(self, user: User, many: list[dict]) -> list[bool]:
        """In one query: the patients named that the user may open, and (unless an admin) whose clinician they are."""
        wanted = {params.get("patient") for params in many if isinstance(params.get("patient"), int)}
        patients = patients_visible_to(user).filter(pk__in=wanted)
        if not user.has_role(Role.ADMIN):
            patients = patients.filter(primary_clinician=user)
        allowed = set(patients.values_list("pk", flat=True)) if wanted else set()
        return [params.get("patient") in allowed for params in many]

    def rows_total(self, params: dict) -> int:
        return selectors.patient_summary_rows(params["patient"])

    def render(self, params: dict, format: str, progress: Progress = _no_progress) -> Output:
        patient = Patient.objects.select_related("primary_clinician").get(pk=params["patient"])
        context = {**selectors.patient_summary(patient), "report_title": self.title}
        content = render_document("reports/pdf/patient_summary.html", context)
        progress(1)
        return Output(content, "application/pdf", f"treatment-summary-{patient.mrn}.pdf")


class AuditReport(Kind):
    """Who saw or changed what, for a patient or a user over a period (an accounting of disclosures)."""

    slug = "audit"
    title = "Audit report"
    description = "Every read and change of a patient's record, or everything a user did, with old and new values."
    form = forms.AuditReportForm
    roles = (Role.ADMIN,)
    formats = ("pdf", "csv")

    def check(self, user: User, params: dict) -> None:
        if not user.has_role(Role.ADMIN):
            raise Http404

    def _entries(self, params: dict):
        return selectors.audit_queryset(
            patient=_patient(params), user=_user(params), start=_date(params.get("start")), end=_date(params.get("end"))
        )

    def rows_total(self, params: dict) -> int:
        return self._entries(params).count()

    def _rows(self, params: dict, progress: Progress):
        done = 0
        last_entry = None
        for row in selectors.audit_rows(self._entries(params)):
            key = (row[0], row[1], row[3])
            if key != last_entry:
                done += 1
                last_entry = key
                if done % 100 == 0:
                    progress(done)
            yield row
        progress(done)

    def render(self, params: dict, format: str, progress: Progress = _no_progress) -> Output:
        patient, user = _patient(params), _user(params)
        subject = (
            f"{patient.full_name} ({patient.mrn})" if patient else f"user {user.get_username()}" if user else "everyone"
        )
        stem = f"audit-{patient.mrn if patient else user.get_username() if user else 'clinic'}"
        if format == "csv":
            lines = write_csv(self._rows(params, progress), selectors.AUDIT_HEADERS)
            return Output(b"", "text/csv; charset=utf-8", f"{stem}.csv", chunks=(line.encode() for line in lines))
        rows = [
            [timezone.localtime(row[0]).strftime("%Y-%m-%d %H:%M:%S"), *row[1:]] for row in self._rows(params, progress)
        ]
        context = {
            "report_title": self.title,
            "period": f"{subject}, {_period(params)}",
            "report": _Tables([_audit_table(rows)]),
            "landscape": True,  # nine columns, old and new values among them
        }
        return Output(render_document("reports/pdf/tables.html", context), "application/pdf", f"{stem}.pdf")


@dataclass
class _Tables:
    tables: list


def _audit_table(rows: list[list]) -> Table:
    return Table(
        title="Reads and changes",
        headers=selectors.AUDIT_HEADERS,
        rows=rows,
        note="Oldest first. A read names the record opened; a change lists each field with its old and new value.",
    )


class TablesReport(Kind):
    """A clinic-wide report made of tables: `build(start=, end=, **filters)` returns an object with `.title` and
    `.tables` (a list of `Table`), printed by `reports/pdf/tables.html` or written as one CSV (each table under its
    title). `estimate(start=, end=, **filters)` counts, cheaply, the rows the report reads: over the clinic's
    threshold (REPORT_BACKGROUND_ROWS) the report runs in the background, and `build` (given `progress`) tells the
    rows done so far, in that count, stage by stage (a `build` without `progress` is followed all at once). Admins
    only unless said otherwise."""

    formats = ("pdf", "csv")

    def __init__(
        self,
        *,
        slug: str,
        title: str,
        description: str,
        build,
        estimate=None,
        form=forms.ClinicPeriodReportForm,
        roles=(Role.ADMIN,),
    ):
        self.slug, self.title, self.description = slug, title, description
        self.build, self.estimate, self.form, self.roles = build, estimate, form, roles
        self.tells_progress = "progress" in inspect.signature(build).parameters

    def check(self, user: User, params: dict) -> None:
        if not user.has_role(*self.roles):
            raise Http404

    def _arguments(self, params: dict) -> dict:
        filters = {key: value for key, value in params.items() if key not in ("format", "start", "end")}
        return {"start": _date(params.get("start")), "end": _date(params.get("end")), **filters}

    def rows_total(self, params: dict) -> int:
        return 0 if self.estimate is None else self.estimate(**self._arguments(params))

    def render(self, params: dict, format: str, progress: Progress = _no_progress) -> Output:
        arguments = self._arguments(params)
        if self.tells_progress:  # stage by stage, in the rows its estimate counted
            report = self.build(**arguments, progress=None if progress is _no_progress else progress)
        else:  # all at once, when it is built
            report = self.build(**arguments)
            progress(sum(len(table.rows) for table in report.tables))
        stem = f"{self.slug}-{params.get('start', '')}-{params.get('end', '')}".strip("-")
        if format == "csv":
            text = "".join(_tables_csv(report.tables))
            return Output(text.encode("utf-8"), "text/csv; charset=utf-8", f"{stem}.csv")
        context = {"report_title": report.title, "period": _scope(params), "report": report}
        return Output(render_document("reports/pdf/tables.html", context), "application/pdf", f"{stem}.pdf")


class ClinicOutcomesReport(TablesReport):
    """The clinic outcomes: admins for the whole clinic (or the clinician they choose), clinicians for their own
    patients only (the report's clinician filter set to them)."""

    def check(self, user: User, params: dict) -> None:
        super().check(user, params)
        if not user.has_role(Role.ADMIN) and params.get("clinician_id") != user.pk:
            raise Http404


def _tables_csv(tables: list[Table]):
    """Several tables in one CSV: each under a row naming it (and its note), a blank row between them."""
    if not tables:
        return write_csv([], [])
    rows: list[list] = []
    for index, table in enumerate(tables):
        if index:
            rows += [[], [table.title]]
        if table.note:
            rows.append([table.note])
        rows += [table.headers, *table.rows]
    return write_csv(rows, [tables[0].title])


KINDS: dict[str, object] = {
    kind.slug: kind
    for kind in (
        PatientSummary(),
        AuditReport(),
        ClinicOutcomesReport(
            slug="outcomes",
            title="Clinic outcomes",
            description="Enrollments, sessions per route, response and remission with their denominators, time to "
            "response, relapse warnings and boosters, adverse events, no-shows and cancellations, PHQ-9 and GAD-7 "
            "before and after induction. A clinician's report covers their own patients.",
            build=clinic_outcomes,
            estimate=outcomes_rows_estimate,
            form=forms.OutcomesForm,
            roles=(Role.ADMIN, Role.CLINICIAN),
        ),
        TablesReport(
            slug="operations",
            title="Operations and authorizations",
            description="Room and clinician use per week, sessions per route, reminders sent and failed, "
            "confirmations, and authorizations ending, nearly used up or booked beyond.",
            build=operations_report,
            estimate=operations_rows_estimate,
        ),
    )
}


def openable(user: User, jobs: list) -> list:
    """The jobs (anything with `.kind` and `.parameters`) whose report the user may still have, in their order: of a
    kind their role produces, passing its check (a patient still theirs, a clinician filter set to them). The same
    test whether one job is opened or a list of them shown, at most one query per kind however many jobs."""
    by_kind: dict[str, list] = {}
    for job in jobs:
        kind = KINDS.get(job.kind)
        if kind is not None and user.has_role(*kind.roles):
            by_kind.setdefault(job.kind, []).append(job)
    allowed = set()
    for slug, mine in by_kind.items():
        answers = KINDS[slug].permitted(user, [job.parameters for job in mine])
        allowed |= {id(job) for job, ok in zip(mine, answers, strict=True) if ok}
    return [job for job in jobs if id(job) in allowed]


def kinds_for(user: User) -> list:
    return [kind for kind in KINDS.values() if user.has_role(*kind.roles)]


def get_kind(slug: str):
    try:
        return KINDS[slug]
    except KeyError:
        raise Http404 from None
