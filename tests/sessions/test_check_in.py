"""Check-in happens on the session's day only, and a mistaken one can be undone.

Checking in cancels the session's reminders and uses a unit of the patient's prior authorization, so it is refused
before (or after) the session's own day in the clinic's time zone. Undoing it puts the session back to scheduled,
plans its reminders again and gives the unit back, on the same day and only while nothing has been recorded for it.
"""

from datetime import datetime, time, timedelta

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.models import PriorAuthorization
from kap_clinic.kernel.notifications.models import Reminder
from sessions.models import DosingSession
from sessions.scheduling.changes import session_check_in, session_check_in_undo
from tests.billing.factories import approved
from tests.sessions.record_helpers import book_session, check

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(patient, clinician):
    return book_session(patient, clinician)


def on_the_day(session, hour=7, minute=30):
    """The clinic clock on the session's day, before it starts."""
    day = timezone.localtime(session.starts_at).date()
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def authorization_for(session, by) -> PriorAuthorization:
    day = timezone.localtime(session.starts_at).date()
    return approved(session.patient, by, starts_on=day - timedelta(days=10), ends_on=day + timedelta(days=60))


def pending_reminders(session) -> int:
    return Reminder.objects.filter(session=session, status=Reminder.Status.PENDING).count()


def test_check_in_24_days_early_is_refused_and_changes_nothing(session, front_desk, admin_user, time_machine):
    authorization = authorization_for(session, admin_user)
    time_machine.move_to(session.starts_at - timedelta(days=24), tick=False)
    pending = pending_reminders(session)

    with pytest.raises(ValidationError, match="can only be checked in on the day of their session"):
        session_check_in(session=session, by=front_desk)

    session.refresh_from_db()
    authorization.refresh_from_db()
    assert session.status == DosingSession.Status.SCHEDULED
    assert pending_reminders(session) == pending
    assert authorization.units_used == 0


def test_check_in_on_the_day_uses_a_unit_and_the_day_after_is_refused(
    session, patient, clinician, front_desk, admin_user, time_machine
):
    authorization = authorization_for(session, admin_user)
    later = book_session_later(session, clinician)

    time_machine.move_to(on_the_day(session), tick=False)
    session_check_in(session=session, by=front_desk)
    authorization.refresh_from_db()
    assert authorization.units_used == 1

    time_machine.move_to(on_the_day(later) - timedelta(days=1), tick=False)
    with pytest.raises(ValidationError, match="booked for"):
        session_check_in(session=later, by=front_desk)


def book_session_later(session, clinician) -> DosingSession:
    """The plan's next session (a later day)."""
    return session.plan.sessions.filter(starts_at__gt=session.starts_at).order_by("starts_at").first()


def test_undo_puts_the_session_back_replans_reminders_gives_the_unit_back_and_is_audited(
    session, front_desk, admin_user, time_machine
):
    authorization = authorization_for(session, admin_user)
    time_machine.move_to(on_the_day(session, 6, 0), tick=False)
    pending = pending_reminders(session)
    session_check_in(session=session, by=front_desk)
    assert pending_reminders(session) == 0

    with set_actor(front_desk):
        session_check_in_undo(session=session, by=front_desk)

    session.refresh_from_db()
    authorization.refresh_from_db()
    assert session.status == DosingSession.Status.SCHEDULED
    assert authorization.units_used == 0
    assert pending_reminders(session) == pending
    undone = LogEntry.objects.get_for_object(session).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert undone.actor == front_desk
    assert undone.changes["status"] == ["checked_in", "scheduled"]


def test_undo_is_refused_once_something_is_recorded(session, clinician, front_desk, time_machine):
    time_machine.move_to(on_the_day(session), tick=False)
    session_check_in(session=session, by=front_desk)
    check(session, clinician)  # the pre-dose check, with its vital signs

    with pytest.raises(ValidationError, match="cannot be undone: the session's record already has"):
        session_check_in_undo(session=session, by=front_desk)
    session.refresh_from_db()
    assert session.status != DosingSession.Status.SCHEDULED


def test_undo_is_refused_on_another_day_and_for_a_session_not_checked_in(session, front_desk, time_machine):
    time_machine.move_to(on_the_day(session), tick=False)
    with pytest.raises(ValidationError, match="Only a checked-in session"):
        session_check_in_undo(session=session, by=front_desk)
    session_check_in(session=session, by=front_desk)

    time_machine.move_to(on_the_day(session) + timedelta(days=1), tick=False)
    with pytest.raises(ValidationError, match="can only be undone on the day of the session"):
        session_check_in_undo(session=session, by=front_desk)
    session.refresh_from_db()
    assert session.status == DosingSession.Status.CHECKED_IN


# ---- The plan page -----------------------------------------------------------------------------------------------


def test_the_plan_page_offers_check_in_on_the_day_only_and_undo_after_it(client_for, session, front_desk, time_machine):
    plan_url = reverse("sessions:plan_detail", kwargs={"pk": session.plan_id})
    check_in_url = reverse("sessions:session_check_in", kwargs={"pk": session.pk})
    undo_url = reverse("sessions:session_check_in_undo", kwargs={"pk": session.pk})

    time_machine.move_to(on_the_day(session) - timedelta(days=1), tick=False)
    assert check_in_url not in client_for(front_desk).get(plan_url).content.decode()

    time_machine.move_to(on_the_day(session), tick=False)
    client = client_for(front_desk)  # signed in again: a day has passed
    body = client.get(plan_url).content.decode()
    assert f'action="{check_in_url}" data-confirm="Check in the patient for session 1?"' in body
    assert 'data-confirm="Mark session' in body and 'data-confirm="Cancel session' in body
    assert "js/confirm.js" in body

    client.post(check_in_url)
    body = client.get(plan_url).content.decode()
    assert f'action="{undo_url}" data-confirm="Undo the check-in of session 1?' in body

    response = client.post(undo_url, follow=True)
    assert "Check-in undone." in response.content.decode()
    session.refresh_from_db()
    assert session.status == DosingSession.Status.SCHEDULED


def test_a_refused_check_in_says_why(client_for, session, front_desk, time_machine):
    time_machine.move_to(on_the_day(session) - timedelta(days=24), tick=False)
    response = client_for(front_desk).post(reverse("sessions:session_check_in", kwargs={"pk": session.pk}), follow=True)
    assert "a patient can only be checked in on the day of their session." in response.content.decode()


def test_undo_accepts_post_only(client_for, session, front_desk):
    url = reverse("sessions:session_check_in_undo", kwargs={"pk": session.pk})
    assert client_for(front_desk).get(url).status_code == 405
