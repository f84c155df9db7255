"""What patients are reminded of: the occasions the clinic's apps register.

The outbox knows no appointment or check-in. Each app that books something patients are reminded of registers an
`Occasion` for it when the app is ready (`register`): the dosing session by the sessions app, the integration
session and the check-in by aftercare. Planning, the send-time checks and delivery ask the registry only, so they
are written once for every kind of occasion. An occasion answers:

- `field`: the Reminder foreign key that points at its target, and `model`, the target's model;
- `events`: the reminder-rule events it is reminded under;
- `anchors(target)`: per event, the moment its offsets count from and the moment after which a reminder for it is
  of no use (a session's start; a check-in's opening, useful until it is due; its due time, until it closes);
- `not_needed(target)`: why no reminder is wanted any more ("" while one is);
- `too_late(event)`: what to say when a reminder comes after its moment has passed;
- `message(reminder, channel)`: the words, from templates, carrying no clinical detail (see `content.py`);
- `upcoming_for_patient(patient, now)`: the patient's targets still ahead, re-planned when their consent changes.

The target's `patient` gives the address and the consents the outbox reads.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import reverse

from kap_clinic.kernel.clinic.contact import clinic_phone

from .backends import Message
from .models import Channel


@dataclass(frozen=True)
class Anchor:
    at: datetime  # offsets count from here (a reminder remembers it: a moved target no longer matches)
    until: datetime  # a reminder due at or after this is of no use
    counts_after: bool = False  # offsets count after `at` (a nudge once something is overdue), not before it

    def offset(self, minutes: int) -> timedelta:
        """How long before the anchor a rule's reminder is due (negative: after it)."""
        return timedelta(minutes=-minutes if self.counts_after else minutes)


class Occasion(Protocol):
    field: str
    model: type[Model]
    noun: str
    events: tuple[str, ...]

    def anchors(self, target) -> dict[str, Anchor]: ...

    def not_needed(self, target) -> str: ...

    def too_late(self, event: str) -> str: ...

    def message(self, reminder, channel: str) -> Message: ...

    def upcoming_for_patient(self, patient, now: datetime) -> list: ...


_registered: dict[str, Occasion] = {}


def register(occasion: Occasion) -> None:
    """Add a kind of occasion (once per Reminder field; registering the same field again replaces it)."""
    _registered[occasion.field] = occasion


def registered() -> list[Occasion]:
    return list(_registered.values())


def occasion_of(reminder) -> Occasion:
    """The occasion whose foreign key the reminder has set."""
    return next(o for o in _registered.values() if getattr(reminder, f"{o.field}_id") is not None)


def occasion_for(target) -> Occasion:
    """The occasion a booked thing (a session, a check-in) is reminded as."""
    return next(o for o in _registered.values() if isinstance(target, o.model))


def portal_url() -> str:
    # The portal's home page lists the patient's sessions and check-ins: its address says nothing about treatment.
    return settings.SITE_URL.rstrip("/") + reverse("homes:home")


def render_message(template: str, ctx: dict, *, patient, channel: str) -> Message:
    """To the patient's phone, `notifications/sms/<template>.txt`; to their email, the `_subject.txt`, `_body.txt`
    and `_body.html` under `notifications/email/`."""
    to = patient.phone if channel == Channel.SMS else patient.email
    ctx = {"clinic_name": settings.CLINIC_NAME, "clinic_phone": clinic_phone(), **ctx}
    if channel == Channel.SMS:
        return Message(to=to, subject="", text=render_to_string(f"notifications/sms/{template}.txt", ctx).strip())
    return Message(
        to=to,
        subject=" ".join(render_to_string(f"notifications/email/{template}_subject.txt", ctx).split()),
        text=render_to_string(f"notifications/email/{template}_body.txt", ctx),
        html=render_to_string(f"notifications/email/{template}_body.html", ctx),
    )
