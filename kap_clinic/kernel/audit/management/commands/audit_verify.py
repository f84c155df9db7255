from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from kap_clinic.kernel.audit.chain import chain_verify, seal_pending_entries


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain and report the first broken link (an entry changed or removed after it was "
        "written), or that it is intact. Exits non-zero on a break. Keep the printed head hash somewhere else: a later "
        "run that no longer reaches it means history was rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=1000, help="Entries read per query (default 1000).")
        parser.add_argument("--database", default="default")

    def handle(self, *args, chunk_size, database, **options):
        if connections[database].vendor != "postgresql":
            sealed = seal_pending_entries(using=database)
            self.stdout.write(f"Sealed {sealed} new entries (off PostgreSQL, entries are sealed when verified).")
        report = chain_verify(chunk_size=chunk_size, using=database)
        if report.broken is not None:
            raise CommandError(
                f"Audit chain broken at entry {report.broken.entry_id}: {report.broken.reason}. "
                f"{report.entries} entries before it are intact.",
                returncode=2,
            )
        self.stdout.write(
            f"Audit chain intact: {report.entries} entries, last entry {report.last_entry_id or '-'}, "
            f"head hash {report.head_hash}"
        )
