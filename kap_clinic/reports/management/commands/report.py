"""`manage.py report KIND [--patient MRN] [--user USERNAME] [--from DATE] [--to DATE] [--route ROUTE]
[--clinician USERNAME] [--format pdf|csv|fhir] --output PATH`: a report written to a file, for admins who schedule
reports. `--route` and `--clinician` narrow the clinic outcomes as the reports page's filters do."""

import importlib
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.audit.services import record_chart_view
from patients.models import Patient
from sessions.models import Route

from ...kinds import KINDS, TablesReport


def _date(text: str | None, option: str) -> str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise CommandError(f"{option} takes a date as YYYY-MM-DD, not {text!r}.") from None


class Command(BaseCommand):
    help = "Write a report (" + ", ".join(KINDS) + ") to a file."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="The report: " + ", ".join(KINDS))
        parser.add_argument("--patient", metavar="MRN", help="The patient, by MRN")
        parser.add_argument("--user", metavar="USERNAME", help="The user (audit report)")
        parser.add_argument("--from", dest="start", metavar="DATE", help="First day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", metavar="DATE", help="Last day (YYYY-MM-DD)")
        parser.add_argument("--route", choices=Route.values, help="One route's sessions (clinic outcomes)")
        parser.add_argument(
            "--clinician", metavar="USERNAME", help="One clinician's patients and sessions (clinic outcomes)"
        )
        parser.add_argument("--format", choices=("pdf", "csv", "fhir"), default="pdf")
        parser.add_argument("--output", required=True, metavar="PATH", help="The file to write")

    def handle(self, *args, kind, patient, user, start, end, route, clinician, format, output, **options):
        params: dict = {"format": format}
        patient_row = None
        if patient:
            patient_row = Patient.objects.filter(mrn__iexact=patient.strip()).first()
            if patient_row is None:
                raise CommandError(f"No patient has the MRN {patient!r}.")
            params["patient"] = patient_row.pk
        if user:
            user_row = User.objects.filter(username=user).first()
            if user_row is None:
                raise CommandError(f"No user is called {user!r}.")
            params["user"] = user_row.pk
        for name, text, option in (("start", start, "--from"), ("end", end, "--to")):
            if value := _date(text, option):
                params[name] = value
        if (route or clinician) and kind != "outcomes":
            raise CommandError("--route and --clinician narrow the clinic outcomes report only.")
        if route:
            params["route"] = route
        if clinician:
            found = User.objects.filter(username=clinician, role=Role.CLINICIAN).first()
            if found is None:
                raise CommandError(f"No clinician is called {clinician!r}.")
            params["clinician_id"] = found.pk
        if format == "fhir":
            content = self._fhir(patient_row)
        else:
            content = self._report(kind, params, format)
        path = Path(output)
        path.write_bytes(content)
        if patient_row is not None:  # the file discloses the patient's record: recorded as a read, as on screen
            record_chart_view(obj=patient_row)
        self.stdout.write(f"Wrote {path} ({len(content)} bytes).")

    def _report(self, kind: str, params: dict, format: str) -> bytes:
        report = KINDS.get(kind)
        if report is None:
            raise CommandError(f"Unknown report {kind!r}: choose one of {', '.join(KINDS)}.")
        if format not in report.formats:
            raise CommandError(f"The {report.title.lower()} comes as {' or '.join(report.formats)}, not {format}.")
        if report.slug == "patient_summary" and "patient" not in params:
            raise CommandError("The treatment summary needs --patient MRN.")
        if report.slug == "audit" and "patient" not in params and "user" not in params:
            raise CommandError("The audit report needs --patient MRN or --user USERNAME.")
        if isinstance(report, TablesReport):
            if "start" not in params or "end" not in params:
                raise CommandError(f"The {report.title.lower()} report needs --from and --to.")
            if "patient" in params or "user" in params:
                raise CommandError(f"The {report.title.lower()} report covers the clinic: no --patient or --user.")
            if params["end"] < params["start"]:
                raise CommandError("--to is before --from.")
        return report.render(params, format).read()

    def _fhir(self, patient) -> bytes:
        if patient is None:
            raise CommandError("The FHIR export needs --patient MRN.")
        try:
            # Loaded only when asked for: the FHIR export is an optional part of the reports.
            fhir = importlib.import_module("kap_clinic.reports.fhir")
        except ModuleNotFoundError as exc:
            if exc.name != "kap_clinic.reports.fhir":
                raise
            raise CommandError("The FHIR export is not available in this installation.") from None
        bundle = fhir.patient_bundle_json(patient)
        return bundle.encode("utf-8") if isinstance(bundle, str) else bytes(bundle)
