"""What a reminder may say: minimum necessary content, checked when text is written and again before it is sent.

A message can be read on a lock screen or in a shared mailbox list. No message names a drug, a route of
administration, a dose or a diagnosis. Text messages and email subjects also leave out anything that hints at the
route (nose sprays) or that the visit is treatment or therapy; eating and drinking instructions, the driver home and
arriving early are logistics and may appear in both channels.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError

NEVER = re.compile(
    r"ketamine|esketamine|spravato|\binfus|intravenous|\bIV\b|\bIM\b|intramuscular|intranasal|sublingual|buccal|"
    r"lozenge|troche|inject|\bdos(e|es|ed|ing)\b|\bmg\b|depress|suicid|PTSD|anxiety|psychiatr|diagnos|disorder",
    re.IGNORECASE,
)
NOT_ON_A_LOCK_SCREEN = re.compile(r"nasal|\bnose\b|spray|treatment|therap", re.IGNORECASE)


def without_links(text: str) -> str:
    """The text without its web addresses and the clinic's own name, which the clinic chose and reminders must carry:
    a signed link's random characters can spell "mg" or "IV" by chance."""
    return re.sub(r"https?://\S+", " ", text).replace(settings.CLINIC_NAME, " ")


def clinical_words(text: str, *, sms_or_subject: bool = False) -> list[str]:
    """The words in `text` that reveal clinical detail (lower case, each once)."""
    found = [m.group(0).lower() for m in NEVER.finditer(text)]
    if sms_or_subject:
        found += [m.group(0).lower() for m in NOT_ON_A_LOCK_SCREEN.finditer(text)]
    return sorted(set(found))


def validate_message_text(text: str, *, sms_or_subject: bool = False) -> None:
    words = clinical_words(text, sms_or_subject=sms_or_subject)
    if words:
        where = "a text message or subject" if sms_or_subject else "a reminder"
        raise ValidationError(f"Too much clinical detail for {where}: remove {', '.join(repr(w) for w in words)}.")


def validate_email_text(text: str) -> None:
    validate_message_text(text)


def validate_sms_text(text: str) -> None:
    validate_message_text(text, sms_or_subject=True)
