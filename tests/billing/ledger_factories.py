"""Building completed sessions, charges and invoices for the patient-ledger tests."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from billing.models import Charge
from sessions.models import DosingSession, Protocol
from sessions.scheduling.changes import _set_status
from sessions.scheduling.planning import _save_booking
from tests.billing.factories import at, book

SERVICE_DAY = date(2027, 2, 1)  # a Monday


def complete(session: DosingSession) -> DosingSession:
    """Discharge the patient: the session becomes completed through the sessions app's status change (which
    announces it, as discharge does)."""
    with transaction.atomic():
        return _set_status(session, DosingSession.Status.COMPLETED, allowed_from=(DosingSession.Status.IN_PROGRESS,))


def spravato_session(patient, clinician, day: date, *, dose: str) -> DosingSession:
    """An intranasal esketamine session under way, in the patient's plan, with its own planned dose."""
    first = DosingSession.objects.filter(patient=patient).order_by("-sequence").first() or book(
        patient, clinician, day - timedelta(days=7)
    )
    nasal = Protocol.objects.get(route="intranasal")
    starts_at = at(day, 10)
    return _save_booking(
        DosingSession(
            plan=first.plan,
            patient=patient,
            protocol=nasal,
            sequence=first.sequence + 1,
            phase="induction",
            planned_dose=Decimal(dose),
            room=first.room,
            clinician=clinician,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=nasal.session_minutes),
            status=DosingSession.Status.IN_PROGRESS,
        )
    )


def loose_charge(patient, amount: str, *, code: str = "99213", day: date = SERVICE_DAY) -> Charge:
    """A charge not tied to a session (as staff's own lines would be)."""
    value = Decimal(amount)
    return Charge.objects.create(
        patient=patient,
        code=code,
        description="Office visit",
        service_date=day,
        units=Decimal(1),
        unit_price=value,
        list_amount=value,
        amount=value,
    )
