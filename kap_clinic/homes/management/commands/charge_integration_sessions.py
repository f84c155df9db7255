"""Hand billing every held integration session it has neither charged nor recorded as waiting for a price.

Held sessions are charged as they are held (`kap_clinic.homes.receivers`). A session held while its psychotherapy code
had no price used to be left uncharged with no alert; run this once after upgrading (and at any time after: it is
safe to repeat) so each such session is charged once now, or recorded as waiting for its price with one alert for
billing staff. Sessions under 16 minutes bill nothing and are left as they are.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from aftercare.models import IntegrationSession
from billing.models import Charge, UnpricedService

from ...receivers import charge_integration_session


class Command(BaseCommand):
    help = "Charge held integration sessions that have no charge yet (each once); unpriced ones wait for a price."

    def handle(self, *args, **options):
        charged = Charge.objects.filter(integration_session_id__isnull=False).values("integration_session_id")
        waiting = UnpricedService.objects.filter(integration_session_id__isnull=False, resolved_at__isnull=True).values(
            "integration_session_id"
        )
        held = (
            IntegrationSession.objects.filter(status=IntegrationSession.Status.COMPLETED)
            .exclude(pk__in=charged)
            .exclude(pk__in=waiting)
            .order_by("pk")
        )
        handed = list(held.values_list("pk", flat=True))
        for session in IntegrationSession.objects.filter(pk__in=handed).order_by("pk").iterator():
            with transaction.atomic():
                charge_integration_session(sender=IntegrationSession, session=session)
        added = Charge.objects.filter(integration_session_id__in=handed).count()
        now_waiting = UnpricedService.objects.filter(integration_session_id__in=handed, resolved_at__isnull=True)
        self.stdout.write(
            f"{added} integration session charge(s) added; {now_waiting.count()} session(s) now waiting for a price."
        )
