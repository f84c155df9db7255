from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from kap_clinic.kernel.notifications.backends import LocmemSmsBackend
from kap_clinic.kernel.reference_data import seed_reference_data
from sessions.models import Protocol, Room
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create

CLINIC_TZ = ZoneInfo("America/New_York")
MON_7_DEC = date(2026, 12, 7)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture(autouse=True)
def clean_outboxes():
    LocmemSmsBackend.outbox.clear()
    mail.outbox = []
    yield
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def clinic_clock(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=CLINIC_TZ), tick=False)
    return time_machine


@pytest.fixture
def consenting(patient):
    patient.email, patient.phone = "ada@example.org", "+1 555 0100"
    patient.consents_to_email = patient.consents_to_sms = True
    patient.save()
    return patient


@pytest.fixture
def room(db):
    return Room.objects.create(name="Room A")


def book_series(patient, clinician, room, *, route="iv", first_day=MON_7_DEC, start_time=time(9)):
    if not patient.enrollments.exists():
        enrollment_create(patient=patient, by=clinician, override_justification="Screened on paper before go-live.")
    protocol = Protocol.objects.get(route=route)
    return plan_create(
        patient=patient,
        protocol=protocol,
        first_day=first_day,
        start_time=start_time,
        room=room,
        clinician=clinician,
        planned_dose=protocol.default_dose,
        by=clinician,
    )


@pytest.fixture
def seeded(transactional_db):
    """Protocols, clinic hours and reminder rules (kap_clinic.kernel.reference_data): a transactional flush removed
    them."""
    seed_reference_data()


def sms_reminders_due_now(patient, clinician, room, count: int):
    """`count` SMS reminders of one session, all due (a second apart, oldest last), and no others: a batch for the
    race and crash tests. Returns the session."""
    from kap_clinic.kernel.notifications.models import Reminder, ReminderRule

    patient.consents_to_email = False
    patient.save()
    plan = book_series(patient, clinician, room, first_day=timezone.localdate() + timedelta(days=7))
    session = plan.sessions.order_by("starts_at").first()
    Reminder.objects.all().delete()
    rule = ReminderRule.objects.get(event="dosing_session", offset_minutes=2880)
    now = timezone.now()
    Reminder.objects.bulk_create(
        Reminder(
            session=session,
            patient_id=session.patient_id,
            rule=rule,
            channel="sms",
            scheduled_for=now - timedelta(seconds=i + 1),
            next_try_at=now - timedelta(seconds=i + 1),
            event_at=session.starts_at,
        )
        for i in range(count)
    )
    return session
