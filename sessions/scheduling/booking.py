"""The booking core for every kind of appointment that takes a clinician's, a patient's or a room's time.

Dosing sessions and the appointments of the apps above (integration sessions in aftercare) share clinicians and
patients but live in tables that share no exclusion constraint. So every booking goes through here: it takes the
clinician's and the patient's row locks (bookings racing across tables queue on them), asks every registered
busy-time source what overlaps, and names each clash in one wording. An app registers its source in its
`AppConfig.ready()`; the database's exclusion constraints still guard each table on its own.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from patients.models import Patient

RACE_LOST = "That time was just taken by another booking. Choose another time."
DEADLOCK_DETECTED = "40P01"


@dataclass(frozen=True)
class Busy:
    """One booking that holds time: its kind (as patients and staff read it, e.g. "dosing session") and whose time."""

    kind: str
    pk: int
    clinician_id: int
    patient_id: int
    room_id: int | None = None


@dataclass(frozen=True)
class Clash:
    """Why a booking cannot stand: whose time (room, clinician or patient) is taken by which kind of booking."""

    whose: str
    kind: str
    message: str


# A source answers: which of its bookings overlap [starts_at, ends_at) for this clinician, patient or room?
BusySource = Callable[..., Iterable[Busy]]
_sources: dict[str, BusySource] = {}


def busy_source_register(kind: str, source: BusySource) -> None:
    """Register the bookings of one kind as holding time; called from an app's `AppConfig.ready()`.

    `source(*, starts_at, ends_at, clinician_id, patient_id, room_id)` returns the active bookings of that kind that
    overlap the range and share the clinician, the patient or the room.
    """
    _sources[kind] = source


def busy_sources() -> tuple[str, ...]:
    return tuple(_sources)


def lock_for_booking(*, clinician: User, patient: Patient) -> None:
    """Every booking takes the clinician's and then the patient's row lock before checking for clashes: the kinds of
    booking share no exclusion constraint, so two bookings racing across them queue here.

    FOR NO KEY UPDATE: it queues bookings of the same clinician or patient, but not the foreign-key checks of rows
    that merely point at them (a session booked *by* this clinician for someone else), which could deadlock."""
    User.objects.select_for_update(no_key=True).filter(pk=clinician.pk).first()
    Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()


def when_label(moment: datetime) -> str:
    """A booking's start as the clash messages name it, in the clinic's time: "Mon 07 Dec 10:00"."""
    return timezone.localtime(moment).strftime("%a %d %b %H:%M")


def booking_clashes(
    *,
    kind: str,
    pk: int | None,
    clinician: User,
    patient: Patient,
    starts_at: datetime,
    ends_at: datetime,
    room=None,
) -> list[Clash]:
    """Every registered booking that overlaps this one and shares its room, clinician or patient, as clashes in
    this order: the room, then the clinician, then the patient (each by source, in registration order).

    The booking itself (`kind`, `pk`) is left out, so a booking being moved does not clash with its old time."""
    busy: list[Busy] = []
    for source in _sources.values():
        busy.extend(
            source(
                starts_at=starts_at,
                ends_at=ends_at,
                clinician_id=clinician.pk,
                patient_id=patient.pk,
                room_id=room.pk if room is not None else None,
            )
        )
    busy = [other for other in busy if not (other.kind == kind and pk is not None and other.pk == pk)]
    when = when_label(starts_at)
    clashes = []
    if room is not None and any(other.room_id == room.pk for other in busy):
        clashes.append(Clash("room", "", f"{room} is already booked at {when}."))
    for whose, attr, own in (("clinician", "clinician_id", clinician.pk), ("patient", "patient_id", patient.pk)):
        for source_kind in _sources:
            if any(other.kind == source_kind and getattr(other, attr) == own for other in busy):
                article = "an" if source_kind[:1] in "aeiou" else "a"
                message = f"The {whose} already has {article} {source_kind} at {when}."
                clashes.append(Clash(whose, source_kind, message))
    return clashes


def booking_conflicts(**booking) -> list[str]:
    """The clash messages of `booking_clashes`."""
    return [clash.message for clash in booking_clashes(**booking)]


@contextmanager
def booking_race_lost_as_validation_error() -> Iterator[None]:
    """Around a booking's insert (in its own savepoint): another booking won the race between our check and the
    insert. PostgreSQL's exclusion constraint refused ours, or, when both inserted conflicting rows at the same
    moment, chose ours as the deadlock victim; either way the patient-facing answer is the same."""
    try:
        yield
    except IntegrityError as exc:
        raise ValidationError(RACE_LOST) from exc
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != DEADLOCK_DETECTED:
            raise
        raise ValidationError(RACE_LOST) from exc
