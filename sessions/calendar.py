"""The patient's own calendar: their dosing sessions for the portal schedule, and the private iCalendar feed
(docs/clinical-references.md#preparation, #interoperability).

The portal shows the patient their sessions with the route's preparation instructions (kap_clinic/homes puts
them beside the integration sessions). The feed is for
calendar apps, which cannot sign in: it is reached through a long random secret in its URL, and it carries
nothing clinical in any field (no drug, route, dose or diagnosis), only "Appointment at <clinic>" and a link
back to the portal, where the patient signs in to read how to prepare.

The feed carries every kind of appointment: dosing sessions from this app, and what higher apps register as feed
sources (`feed_source_register`: aftercare registers integration sessions), all written with the same neutral
wording, so nothing tells one kind from another.

Tokens are stored only as SHA-256 digests. The full link is handed to the patient once, when it is made;
a lost link is replaced by making a new one, which revokes the old. A calendar app's fetch is anonymous
and frequent, so it records `last_fetched_at` on the feed rather than an audit entry per request; making
and revoking a feed are audited like any other change.
"""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from patients.models import Patient
from patients.selectors import is_portal_user_of

from .models import CalendarFeed, DosingSession

Status = DosingSession.Status

# A cancelled session stays on the portal schedule this long after the time it was booked for.
RECENTLY_CANCELLED = timedelta(days=14)
# The feed carries this much of the past; calendar apps keep what they already hold.
FEED_PAST = timedelta(days=90)
FEED_STATUSES = (*DosingSession.ACTIVE_STATUSES, Status.CANCELLED)
# Calendar apps poll every 15 minutes to a few hours; anything faster than this is a script.
FEED_FETCHES_PER_MINUTE = 12
# 32 random bytes: 43 URL-safe characters, beyond guessing.
TOKEN_BYTES = 32


# ---- Portal schedule ------------------------------------------------------------------------------


def portal_sessions(
    patient: Patient, *, now: datetime | None = None
) -> tuple[list[DosingSession], list[DosingSession]]:
    """The patient's own dosing sessions still ahead (or under way) in order, and those cancelled lately."""
    now = now or timezone.now()
    sessions = DosingSession.objects.filter(patient=patient).select_related("protocol", "clinician")
    upcoming = list(sessions.upcoming().filter(ends_at__gt=now).order_by("starts_at", "pk"))
    cancelled = list(
        sessions.filter(status=Status.CANCELLED, starts_at__gte=now - RECENTLY_CANCELLED).order_by("starts_at", "pk")
    )
    return upcoming, cancelled


# ---- Feed tokens ----------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    """The full subscription address, for the patient to paste into a calendar app: /calendar/<token>.ics, which
    names no treatment (links made before it, under /treatment/calendar/, keep working)."""
    return settings.SITE_URL.rstrip("/") + reverse("calendar_feed", kwargs={"token": token})


def live_feed(patient: Patient) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).first()


def _check_own(patient: Patient, by: User) -> None:
    if not is_portal_user_of(by, patient):
        raise PermissionDenied("Only the patient manages their calendar link.")


@transaction.atomic
def calendar_feed_create(*, patient: Patient, by: User) -> tuple[CalendarFeed, str]:
    """A new calendar link for the patient, revoking any earlier one; returns the feed and its token's only copy."""
    _check_own(patient, by)
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one new link at a time per patient
    now = timezone.now()
    for old in CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True):
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed.objects.create(patient=patient, token_hash=token_digest(token), created_by=by)
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, patient: Patient, by: User) -> CalendarFeed | None:
    """Stop the patient's calendar link working; subscribed calendars get a 404 from then on."""
    _check_own(patient, by)
    feed = CalendarFeed.objects.select_for_update().filter(patient=patient, revoked_at__isnull=True).first()
    if feed is not None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
    return feed


def feed_fetch_allowed(token: str, *, now: datetime | None = None) -> bool:
    """A per-link count of fetches in the current minute (the Django cache), at most FEED_FETCHES_PER_MINUTE."""
    minute = int((now or timezone.now()).timestamp() // 60)
    key = f"calendar-feed:{token_digest(token)[:32]}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) <= FEED_FETCHES_PER_MINUTE
    except ValueError:  # the key expired between add and incr
        return True


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed behind a token, or None when it is unknown, revoked, or its patient's portal account is closed.

    Records the fetch time with a plain UPDATE: no audit entry, which would say nothing but "a calendar app polled".
    """
    feed = (
        CalendarFeed.objects.select_related("patient")
        .filter(token_hash=token_digest(token), revoked_at__isnull=True, patient__user__is_active=True)
        .first()
    )
    if feed is not None:
        feed.last_fetched_at = timezone.now()
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=feed.last_fetched_at)
    return feed


# ---- iCalendar ------------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def event_uid(session: DosingSession) -> str:
    """Random (RFC 7986 5.3: a UUID) and stable for the life of the booking: a reschedule keeps the row, so
    calendars update the same event; it gives away neither the session's id nor how many sessions there are."""
    return str(session.calendar_uid)


@dataclass(frozen=True)
class FeedItem:
    """One appointment in the feed, as plain values: when it is and how it changed, and nothing of what it is."""

    uid: str  # random and stable for the life of the booking
    sequence: int  # raised at each move or cancellation, so calendars take the change
    created: datetime
    changed: datetime
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


FeedSource = Callable[[Patient, datetime], Iterable[FeedItem]]
_feed_sources: dict[str, FeedSource] = {}


def feed_source_register(name: str, source: FeedSource) -> None:
    """Add a kind of appointment to the patients' feeds: `source(patient, since)` gives the patient's appointments
    starting at or after `since` (cancelled ones included). Registering a name again replaces it."""
    _feed_sources[name] = source


def _dosing_items(patient: Patient, since: datetime) -> list[FeedItem]:
    return [
        FeedItem(
            uid=event_uid(session),
            sequence=session.calendar_sequence,
            created=session.created_at,
            changed=session.updated_at,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            cancelled=session.status == Status.CANCELLED,
        )
        for session in DosingSession.objects.filter(patient=patient, status__in=FEED_STATUSES, starts_at__gte=since)
    ]


feed_source_register("dosing_session", _dosing_items)


def feed_items(patient: Patient, *, now: datetime | None = None) -> list[FeedItem]:
    """Every appointment of the patient in the feed's window, in time order."""
    since = (now or timezone.now()) - FEED_PAST
    items = [item for source in _feed_sources.values() for item in source(patient, since)]
    return sorted(items, key=lambda item: (item.starts_at, item.uid))


def feed_ical(patient: Patient, *, now: datetime | None = None) -> bytes:
    """The patient's appointments as an RFC 5545 calendar with nothing clinical in it.

    Every field is built here from the clinic's name, the appointment's random id and times, and the portal's
    address: never from the kind of appointment, the protocol, the room (whose name may tell the treatment) or any
    note.
    """
    now = now or timezone.now()
    clinic = settings.CLINIC_NAME
    summary = f"Appointment at {clinic}"
    # The site's front page, not the schedule's own address (/treatment/...): no field names the treatment.
    portal = settings.SITE_URL.rstrip("/") + "/"

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{clinic}//Patient appointments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{clinic} appointments")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")  # an RFC 5545 duration, as the calendar apps that read it expect
    for item in feed_items(patient, now=now):
        cancelled = item.cancelled
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("sequence", item.sequence)
        # Without a METHOD, DTSTAMP is when the event last changed in the clinic's records (RFC 5545 3.8.7.2).
        event.add("dtstamp", _utc(item.changed))
        event.add("last-modified", _utc(item.changed))
        event.add("created", _utc(item.created))
        event.add("dtstart", _utc(item.starts_at))
        event.add("dtend", _utc(item.ends_at))
        event.add("summary", summary)
        event.add("description", f"Details and how to prepare, after signing in: {portal}")
        event.add("url", portal)
        event.add("class", "PRIVATE")
        event.add("transp", "OPAQUE")
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if not cancelled and item.starts_at > now:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", timedelta(days=-1))
            alarm.add("description", f"Tomorrow: {summary}")
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
