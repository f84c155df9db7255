from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kap_clinic.kernel.audit.privileges import runtime_role_grant


class Command(BaseCommand):
    help = (
        "Grant the runtime database role (DATABASE_RUNTIME_ROLE) its privileges: read and write the clinic's data, "
        "only read and append the audit log and the other append-only tables. Run as the owner; migrate does this "
        "after every run, this is for a restored backup or a role created later."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default=None, help="Role name (default: DATABASE_RUNTIME_ROLE).")
        parser.add_argument("--database", default="default")

    def handle(self, *args, role, database, **options):
        role = role or settings.DATABASE_RUNTIME_ROLE
        if not role:
            raise CommandError("Name the runtime role: --role or DATABASE_RUNTIME_ROLE.")
        if not runtime_role_grant(role=role, password=settings.DATABASE_RUNTIME_PASSWORD, using=database):
            self.stdout.write("Not PostgreSQL: nothing to grant.")
            return
        self.stdout.write(f"Granted the runtime privileges to {role}.")
