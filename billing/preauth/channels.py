"""Payer channels: how a request packet reaches a payer. A channel gets the submission (its unique key) and the PDF,
and must take each key once only. The clinic's channels are named in the setting `PREAUTH_CHANNELS` (name → dotted
path of a callable); a payer's own channel (`Payer.preauth_channel`) overrides `PREAUTH_DEFAULT_CHANNEL`.

- "outbox": a work item for staff, "send by fax or payer portal", which they mark as sent;
- "test": records what it received (a `ChannelTestReceipt` row), for tests and rehearsals.
"""

import hashlib

from django.conf import settings
from django.utils.module_loading import import_string

from ..models import ChannelTestReceipt, PreauthSubmission, PreauthWorkItem


def _pages(pdf: bytes) -> int:
    return max(1, pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages"))


def outbox_channel(submission: PreauthSubmission, pdf: bytes) -> str:
    authorization = submission.authorization
    PreauthWorkItem.objects.get_or_create(
        key=f"send-{submission.key}",
        defaults={
            "authorization": authorization,
            "submission": submission,
            "kind": PreauthWorkItem.Kind.SEND,
            "summary": (
                f"Send the request packet to {authorization.payer.name}"
                + (f" (payer ID {authorization.payer.payer_code})" if authorization.payer.payer_code else "")
                + " by fax or payer portal, then mark it sent."
            ),
        },
    )
    return "Waiting for staff to send it by fax or payer portal."


def test_channel(submission: PreauthSubmission, pdf: bytes) -> str:
    ChannelTestReceipt.objects.get_or_create(
        key=submission.key,
        defaults={
            "authorization_id": submission.authorization_id,
            "payer_name": submission.authorization.payer.name,
            "pages": _pages(pdf),
            "packet_sha256": hashlib.sha256(pdf).hexdigest(),
        },
    )
    return "Received by the test channel."


test_channel.__test__ = False  # a channel, not a test


# How the clinic's pages name each channel; a channel the clinic adds is shown under its name in the setting.
CHANNEL_LABELS = {"outbox": "staff, by fax or payer portal", "test": "the test channel"}


def channel_label(name: str) -> str:
    return CHANNEL_LABELS.get(name, name)


def channel_names() -> tuple[str, ...]:
    return tuple(settings.PREAUTH_CHANNELS)


def channel_name_for(payer) -> str:
    name = (payer.preauth_channel or settings.PREAUTH_DEFAULT_CHANNEL).strip()
    if name not in settings.PREAUTH_CHANNELS:
        raise LookupError(f"No pre-authorization channel named {name!r}.")
    return name


def channel(name: str):
    return import_string(settings.PREAUTH_CHANNELS[name])
