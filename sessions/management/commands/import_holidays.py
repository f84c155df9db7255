"""Close the clinic on the public holidays of a year, in the country and region set in the clinic settings."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sessions.models import ClinicClosure
from sessions.scheduling.closures import closures_import_public_holidays


class Command(BaseCommand):
    help = "Add a clinic closure for each public holiday of a year (this year unless --year is given)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="The year, e.g. 2027.")

    def handle(self, *args, year=None, **options):
        year = year or timezone.localdate().year
        if not 2000 <= year <= 2100:
            raise CommandError("Give a year between 2000 and 2100.")
        try:
            created = closures_import_public_holidays(year=year, by=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for closure in created:
            self.stdout.write(f"  closed {closure.day:%a %d %b %Y}: {closure.reason}")
        total = ClinicClosure.objects.filter(day__year=year).count()
        self.stdout.write(
            self.style.SUCCESS(f"{len(created)} public holidays added as closures; {total} closed days in {year}.")
        )
