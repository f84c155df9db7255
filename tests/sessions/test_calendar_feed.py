"""The private calendar feed: standard iCalendar, stable across changes, revocable, and free of clinical detail."""

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from aftercare.services import integration_session_book, integration_session_cancel, integration_session_reschedule
from sessions import calendar
from sessions.models import CalendarFeed, DosingSession, Route
from sessions.scheduling.changes import session_cancel, session_reschedule
from tests.sessions.test_portal import book_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(patient, clinician):
    # A room name that tells the treatment: it must stay out of the feed.
    return book_plan(patient, clinician, room_name="Spravato room 3")


@pytest.fixture
def token(patient, patient_user):
    return calendar.calendar_feed_create(patient=patient, by=patient_user)[1]


def _url(token: str) -> str:
    return reverse("sessions:calendar_feed", kwargs={"token": token})


def _fetch(client, token: str) -> icalendar.Calendar:
    response = client.get(_url(token))
    assert response.status_code == 200, response.status_code
    return icalendar.Calendar.from_ical(response.content)


def _events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in cal.walk("VEVENT")}


def _uid(session: DosingSession) -> str:
    return str(session.calendar_uid)


def test_feed_is_an_icalendar_with_one_event_per_session(client, plan, token):
    response = client.get(_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]

    cal = icalendar.Calendar.from_ical(response.content)
    assert str(cal["VERSION"]) == "2.0"
    events = _events(cal)
    sessions = list(plan.sessions.order_by("starts_at"))
    assert len(sessions) == 12  # Spravato: twice weekly for four weeks, then weekly for four
    assert set(events) == {_uid(s) for s in sessions}
    for session in sessions:
        event = events[_uid(session)]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == session.starts_at and end == session.ends_at
        assert start.utcoffset() == timedelta(0)
        assert int(event["SEQUENCE"]) == 0
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["SUMMARY"]) == "Appointment at KAP Clinic"
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    # Times are written in UTC ("Z"), so no calendar app has to know the clinic's time zone.
    body = response.content.decode()
    assert len(re.findall(r"^DTSTART:\d{8}T\d{6}Z\r$", body, re.MULTILINE)) == len(sessions)
    assert len(re.findall(r"^DTEND:\d{8}T\d{6}Z\r$", body, re.MULTILINE)) == len(sessions)


def test_feed_holds_only_the_patients_own_sessions(client, plan, token, other_patient, other_clinician):
    theirs = book_plan(other_patient, other_clinician, room_name="Room B", route="iv")
    events = _events(_fetch(client, token))
    assert not {_uid(s) for s in theirs.sessions.all()} & set(events)
    assert len(events) == plan.sessions.count()


def test_reschedule_keeps_the_uid_and_raises_the_sequence(client, plan, token, clinician):
    session = plan.sessions.order_by("starts_at")[2]
    before = _events(_fetch(client, token))[_uid(session)]

    new_start = timezone.localtime(session.starts_at) + timedelta(hours=2)
    moved = session_reschedule(session=session, new_start=new_start, by=clinician)
    assert session.pk in {s.pk for s in moved}

    after = _events(_fetch(client, token))
    assert len(after) == plan.sessions.count()
    event = after[_uid(session)]
    assert int(event["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert event.decoded("DTSTART") == before.decoded("DTSTART") + timedelta(hours=2)
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_cancelled_session_stays_in_the_feed_as_cancelled(client, plan, token, clinician):
    session = plan.sessions.order_by("starts_at")[0]
    session_cancel(session=session, by=clinician, reason="Patient unwell; BP high at pre-check", cancelled_by="patient")

    events = _events(_fetch(client, token))
    event = events[_uid(session)]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert not event.walk("VALARM")  # no reminder for an appointment that is off
    assert all(str(e["STATUS"]) == "CONFIRMED" for uid, e in events.items() if uid != _uid(session))


def test_no_field_carries_clinical_or_identifying_detail(client, patient, plan, token, clinician):
    session_cancel(
        session=plan.sessions.first(), by=clinician, reason="Esketamine held: BP 190/110", cancelled_by="clinic"
    )
    DosingSession.objects.filter(plan=plan).update(planner_notes=["Moved for ketamine infusion chair"])
    response = client.get(_url(token))
    # UIDs are random hex (checked on their own below): "Ada" may turn up in one by chance.
    body = "\n".join(line for line in response.content.decode().splitlines() if not line.startswith("UID:"))

    forbidden = [
        "ketamine",
        "esketamine",
        "spravato",
        "intranasal",
        Route.INTRANASAL.label,
        plan.protocol.name,
        plan.protocol.preparation_instructions[:40],
        f"{plan.planned_dose.normalize()} mg",
        str(plan.planned_dose),
        "Spravato room 3",
        "BP 190",
        "depress",
        "TRD",
        patient.given_name,
        patient.family_name,
        patient.full_name,
        patient.mrn,
        clinician.get_full_name(),
    ]
    for text in forbidden:
        assert text.lower() not in body.lower(), text
    assert not re.search(r"\bmg\b", body, re.IGNORECASE)

    portal = "http://127.0.0.1:8000/"
    for event in icalendar.Calendar.from_ical(response.content).walk("VEVENT"):
        assert str(event["SUMMARY"]) == "Appointment at KAP Clinic"
        assert str(event["DESCRIPTION"]).endswith(portal)
        assert str(event["URL"]) == portal
        assert "LOCATION" not in event and "CATEGORIES" not in event and "COMMENT" not in event


def test_upcoming_events_carry_a_plain_reminder(client, plan, token):
    event = next(iter(_events(_fetch(client, token)).values()))
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(days=-1)
    assert str(alarm["DESCRIPTION"]) == "Tomorrow: Appointment at KAP Clinic"


def test_only_a_digest_of_the_token_is_stored(patient, token):
    feed = CalendarFeed.objects.get(patient=patient)
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43
    for entry in LogEntry.objects.all():
        assert token not in str(entry.changes) and feed.token_hash not in str(entry.changes)


def test_unknown_token_is_not_found(client, plan, token):
    assert client.get(_url("x" * 43)).status_code == 404
    assert client.get(_url(token[:-1])).status_code == 404


def test_revoked_token_is_not_found(client, patient, patient_user, plan, token):
    calendar.calendar_feed_revoke(patient=patient, by=patient_user)
    assert client.get(_url(token)).status_code == 404


def test_after_rotation_the_old_token_stops_working_and_the_new_one_works(client, patient, patient_user, plan, token):
    _, new_token = calendar.calendar_feed_create(patient=patient, by=patient_user)
    assert new_token != token
    assert client.get(_url(token)).status_code == 404
    assert len(_events(_fetch(client, new_token))) == plan.sessions.count()


def test_a_closed_portal_account_stops_its_feed(client, patient_user, plan, token):
    patient_user.is_active = False
    patient_user.save(update_fields=["is_active"])
    assert client.get(_url(token)).status_code == 404


def test_a_fetch_records_when_and_writes_no_audit_entry(client, patient, plan, token):
    entries = LogEntry.objects.count()
    before = timezone.now()
    _fetch(client, token)
    feed = CalendarFeed.objects.get(patient=patient)
    assert feed.last_fetched_at is not None and feed.last_fetched_at >= before
    assert LogEntry.objects.count() == entries


def test_making_and_revoking_a_link_are_audited(patient, patient_user):
    calendar.calendar_feed_create(patient=patient, by=patient_user)
    calendar.calendar_feed_revoke(patient=patient, by=patient_user)
    feed = CalendarFeed.objects.get(patient=patient)
    actions = list(LogEntry.objects.get_for_object(feed).order_by("timestamp").values_list("action", flat=True))
    assert actions == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]


def test_fetches_beyond_the_limit_in_a_minute_are_refused(monkeypatch):
    monkeypatch.setattr(calendar, "FEED_FETCHES_PER_MINUTE", 3)
    minute = datetime(2030, 1, 7, 9, 0, 10, tzinfo=UTC)
    allowed = [calendar.feed_fetch_allowed("a-token", now=minute + timedelta(seconds=i)) for i in range(5)]
    assert allowed == [True, True, True, False, False]
    assert calendar.feed_fetch_allowed("another-token", now=minute)
    assert calendar.feed_fetch_allowed("a-token", now=minute + timedelta(minutes=1))


def test_a_rate_limited_fetch_is_told_when_to_come_back(client, monkeypatch, plan, token):
    monkeypatch.setattr(calendar, "FEED_FETCHES_PER_MINUTE", 0)
    response = client.get(_url(token))
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert CalendarFeed.objects.get(token_hash=calendar.token_digest(token)).last_fetched_at is None


def test_the_feed_path_is_kept_out_of_the_request_log(client, caplog, plan, token):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(_url("y" * 43)).status_code == 404
    assert "y" * 43 not in caplog.text


def test_only_the_patient_makes_or_revokes_their_link(patient, other_patient_user, clinician, front_desk):
    for person in (other_patient_user, clinician, front_desk):
        with pytest.raises(PermissionDenied):
            calendar.calendar_feed_create(patient=patient, by=person)
        with pytest.raises(PermissionDenied):
            calendar.calendar_feed_revoke(patient=patient, by=person)


def test_a_patient_has_at_most_one_live_feed(patient, patient_user):
    feed, _ = calendar.calendar_feed_create(patient=patient, by=patient_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFeed.objects.create(patient=patient, token_hash="0" * 64)
    assert feed.is_live


def test_event_uids_are_random_and_the_feed_names_no_treatment(client, plan, token):
    """UIDs are UUIDs (no row id, no count of sessions); the TTL is an RFC 5545 duration; and neither the feed nor
    the address the patient subscribes to carries the word "treatment"."""
    import uuid

    response = client.get(_url(token))
    body = response.content.decode()
    cal = icalendar.Calendar.from_ical(response.content)
    sessions = list(plan.sessions.all())
    uids = [str(event["UID"]) for event in cal.walk("VEVENT")]
    assert len(set(uids)) == len(sessions)
    for uid in uids:
        assert str(uuid.UUID(uid)) == uid
        assert not any(uid == str(s.pk) or f"-{s.pk}@" in uid for s in sessions)
    assert "X-PUBLISHED-TTL:PT1H" in body.replace("\r\n", "\n").splitlines()
    assert "treatment" not in body.lower()
    link = calendar.feed_url(token)
    assert "treatment" not in link.lower()
    assert link.endswith(f"/calendar/{token}.ics")
    assert client.get(link.removeprefix("http://127.0.0.1:8000")).content == response.content


def test_the_feed_rate_limit_counts_in_the_shared_cache(client, plan, token, settings):
    """The per-link limit lives in the Django cache (Redis in production, tests/test_hardening.py), so it holds across
    gunicorn workers: clearing the cache, as another worker would not, is the only way past it."""
    from django.core.cache import cache

    for _ in range(calendar.FEED_FETCHES_PER_MINUTE):
        assert client.get(_url(token)).status_code == 200
    assert client.get(_url(token)).status_code == 429
    cache.clear()
    assert client.get(_url(token)).status_code == 200


def test_the_feed_carries_integration_sessions_in_the_same_neutral_words(client, patient, plan, token, clinician):
    last = plan.sessions.order_by("-starts_at").first()
    starts = last.starts_at + timedelta(days=2)
    visit = integration_session_book(
        patient=patient, clinician=clinician, modality="mbct", starts_at=starts, duration_minutes=50, by=clinician
    )
    response = client.get(_url(token))
    events = _events(icalendar.Calendar.from_ical(response.content))
    assert len(events) == plan.sessions.count() + 1
    event = events[str(visit.calendar_uid)]
    assert event.decoded("DTSTART") == visit.starts_at and event.decoded("DTEND") == visit.ends_at
    assert str(event["SUMMARY"]) == "Appointment at KAP Clinic" and str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 0
    body = response.content.decode().lower()
    for text in ("integration", "therap", "mbct", "mindful", "psycho", clinician.last_name.lower()):
        assert text not in body, text

    integration_session_reschedule(integration_session=visit, starts_at=starts + timedelta(hours=2), by=clinician)
    event = _events(_fetch(client, token))[str(visit.calendar_uid)]
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == starts + timedelta(hours=2)
    integration_session_cancel(integration_session=visit, reason="Clinician unwell", by=clinician)
    event = _events(_fetch(client, token))[str(visit.calendar_uid)]
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2


def test_another_patients_integration_session_stays_out(client, plan, token, other_patient, other_clinician):
    visit = integration_session_book(
        patient=other_patient,
        clinician=other_clinician,
        modality="cbt",
        starts_at=plan.sessions.order_by("-starts_at").first().starts_at + timedelta(days=3),
        by=other_clinician,
    )
    assert str(visit.calendar_uid) not in _events(_fetch(client, token))
