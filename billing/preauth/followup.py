"""Following requests up and prompting renewals, as work items for staff (each once only: the key says which period).

- A request submitted, pended or appealed gets a follow-up item after the payer's number of days without an answer
  (`Payer.followup_days`, 7 unless set), and another each further period while it waits.
- An approved authorization ending within `PREAUTH_RENEWAL_DAYS` with sessions still booked that bill its codes gets
  a renewal item listing those sessions.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kap_clinic.rules.billing_codes import covers
from sessions.models import DosingSession

from ..coverage import _day_start, billed_codes, units_sessions
from ..models import PreauthWorkItem, PriorAuthorization
from ..services import AWAITING_STATUSES

Status = PriorAuthorization.Status


def _waiting_since(authorization: PriorAuthorization) -> date:
    last = authorization.status_changes.order_by("-changed_at", "-pk").first()
    moment = last.changed_at if last else authorization.created_at
    return timezone.localtime(moment).date()


@transaction.atomic
def follow_ups_create(*, today: date) -> list[PreauthWorkItem]:
    """A follow-up item for each request waiting N days or more for its payer's answer, once per N days."""
    made = []
    waiting = PriorAuthorization.objects.filter(status__in=AWAITING_STATUSES).select_related("payer")
    for authorization in waiting:
        every = max(1, authorization.payer.followup_days)
        since = _waiting_since(authorization)
        days = (today - since).days
        if days < every:
            continue
        period = days // every
        item, created = PreauthWorkItem.objects.get_or_create(
            key=f"follow-up-{authorization.pk}-{authorization.status}-{since.isoformat()}-{period}",
            defaults={
                "authorization": authorization,
                "kind": PreauthWorkItem.Kind.FOLLOW_UP,
                "summary": (
                    f"No answer from {authorization.payer.name} for {days} days "
                    f"({authorization.get_status_display().lower()} on {since:%d %b %Y}): follow up."
                ),
            },
        )
        if created:
            made.append(item)
    return made


def sessions_still_planned(authorization: PriorAuthorization, *, today: date) -> list[DosingSession]:
    sessions = DosingSession.objects.filter(
        patient_id=authorization.patient_id,
        status=DosingSession.Status.SCHEDULED,
        starts_at__gte=_day_start(today),
    ).order_by("starts_at")
    return [s for s in units_sessions(sessions) if covers(authorization.codes, billed_codes(s))]


@transaction.atomic
def renewals_prompt(*, today: date) -> list[PreauthWorkItem]:
    """A renewal item for each approved authorization ending soon with sessions still planned."""
    made = []
    ending = PriorAuthorization.objects.filter(
        status=Status.APPROVED,
        ends_on__gte=today,
        ends_on__lte=today + timedelta(days=settings.PREAUTH_RENEWAL_DAYS),
    ).select_related("payer")
    for authorization in ending:
        planned = sessions_still_planned(authorization, today=today)
        if not planned:
            continue
        listed = ", ".join(f"{timezone.localtime(s.starts_at):%d %b %Y}" for s in planned[:12])
        more = f" and {len(planned) - 12} more" if len(planned) > 12 else ""
        item, created = PreauthWorkItem.objects.get_or_create(
            key=f"renewal-{authorization.pk}-{authorization.ends_on.isoformat()}",
            defaults={
                "authorization": authorization,
                "kind": PreauthWorkItem.Kind.RENEWAL,
                "summary": (
                    f"Authorization {authorization.reference or '#' + str(authorization.pk)} "
                    f"({authorization.payer.name}) ends {authorization.ends_on:%d %b %Y}; "
                    f"{len(planned)} session{'s' if len(planned) != 1 else ''} still planned: {listed}{more}. "
                    "Request a renewal."
                )[:500],
            },
        )
        if created:
            made.append(item)
    return made
