"""Where reminders leave the building: email through Django's mail backend, SMS through a pluggable backend.

Every send carries an idempotency key (reminder id + attempt number). A backend that keeps its own record of what
it accepted (locmem, file) can answer `was_accepted(key)` after a crash; one that cannot (console, SMTP, the SMS
provider) answers None, and the reminder is flagged for staff rather than sent again blind.
"""

import base64
import fcntl
import json
import logging
import smtplib
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)
KEY_HEADER = "X-Reminder-Key"


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str = ""


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    reason: str = ""
    provider_id: str = ""
    permanent: bool = False  # a refusal that another try will not change (no configuration, a bad address)


class EmailChannel:
    """Django's configured EMAIL_BACKEND, text with an HTML alternative."""

    name = "email"

    def describe(self) -> str:
        return settings.EMAIL_BACKEND

    def send(self, message: Message, key: str) -> SendResult:
        if not settings.EMAIL_BACKEND or not settings.DEFAULT_FROM_EMAIL:
            return SendResult(False, "Email is not configured (EMAIL_BACKEND / DEFAULT_FROM_EMAIL).", permanent=True)
        email = EmailMultiAlternatives(
            message.subject, message.text, settings.DEFAULT_FROM_EMAIL, [message.to], headers={KEY_HEADER: key}
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        try:
            count = email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused:
            return SendResult(False, "The mail server refused the address.", permanent=True)
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(False, f"Mail server error: {type(exc).__name__}")
        if count != 1:
            return SendResult(False, "The mail backend did not accept the message.")
        return SendResult(True, provider_id=key)

    def was_accepted(self, key: str) -> bool | None:
        backend = settings.EMAIL_BACKEND
        if backend == "django.core.mail.backends.locmem.EmailBackend":
            return any(m.extra_headers.get(KEY_HEADER) == key for m in getattr(mail, "outbox", []))
        if backend == "django.core.mail.backends.filebased.EmailBackend":
            folder = Path(settings.EMAIL_FILE_PATH)
            needle = f"{KEY_HEADER}: {key}\n"
            return any(needle in p.read_text(errors="replace") for p in folder.glob("*") if p.is_file())
        return None


class SmsBackend:
    def send(self, to: str, text: str, key: str) -> SendResult:
        raise NotImplementedError

    def was_accepted(self, key: str) -> bool | None:
        return None


class ConsoleSmsBackend(SmsBackend):
    """Development: prints the text message; keeps no record, so a crash mid-send is flagged for staff."""

    def send(self, to, text, key):
        sys.stdout.write(f"SMS to {to} [{key}]: {text}\n")
        sys.stdout.flush()
        return SendResult(True, provider_id=key)


class LocmemSmsBackend(SmsBackend):
    """Tests: keeps every accepted message in `LocmemSmsBackend.outbox` (shared by threads of one process)."""

    outbox: list[dict] = []
    _lock = threading.Lock()

    def send(self, to, text, key):
        with self._lock:
            type(self).outbox.append({"to": to, "text": text, "key": key})
        return SendResult(True, provider_id=key)

    def was_accepted(self, key):
        with self._lock:
            return any(m["key"] == key for m in type(self).outbox)


class FileSmsBackend(SmsBackend):
    """Appends one JSON line per message to SMS_FILE_PATH under an exclusive lock: countable across processes."""

    def _path(self) -> Path:
        return Path(settings.SMS_FILE_PATH)

    def send(self, to, text, key):
        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": to, "text": text, "key": key}) + "\n"
        with open(path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line)
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
        return SendResult(True, provider_id=key)

    def was_accepted(self, key):
        try:
            lines = self._path().read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return False
        return any(json.loads(line).get("key") == key for line in lines if line.strip())


class TwilioSmsBackend(SmsBackend):
    """Twilio's Messages REST API over urllib. Twilio cannot be asked about our key, so a crash is flagged for staff."""

    API = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"
    TIMEOUT_SECONDS = 20

    def send(self, to, text, key):
        sid, token, sender = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM_NUMBER
        if not (sid and token and sender):
            return SendResult(False, "Twilio is not configured (TWILIO_* settings).", permanent=True)
        body = urllib.parse.urlencode({"To": to, "From": sender, "Body": text}).encode()
        request = urllib.request.Request(self.API.format(sid=urllib.parse.quote(sid)), data=body, method="POST")  # noqa: S310
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=self.TIMEOUT_SECONDS) as response:  # noqa: S310 - fixed https URL
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return SendResult(False, f"SMS provider refused: HTTP {exc.code}", permanent=400 <= exc.code < 500)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return SendResult(False, f"SMS provider unreachable: {type(exc).__name__}")
        return SendResult(True, provider_id=str(answer.get("sid", "")))


def sms_backend() -> SmsBackend | None:
    path = getattr(settings, "SMS_BACKEND", "")
    return import_string(path)() if path else None


class SmsChannel:
    name = "sms"

    def describe(self) -> str:
        return getattr(settings, "SMS_BACKEND", "") or "(none)"

    def send(self, message: Message, key: str) -> SendResult:
        backend = sms_backend()
        if backend is None:
            return SendResult(False, "Text messages are not configured (SMS_BACKEND).", permanent=True)
        return backend.send(message.to, message.text, key)

    def was_accepted(self, key: str) -> bool | None:
        backend = sms_backend()
        return None if backend is None else backend.was_accepted(key)


def channel_for(name: str):
    return {"email": EmailChannel, "sms": SmsChannel}[name]()
