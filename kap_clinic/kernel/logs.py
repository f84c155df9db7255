"""Secrets stay out of the logs: URL paths that carry a credential are redacted before any log line is written.

A patient's calendar feed, a reminder's confirmation link, a portal invitation, a password-reset link and a staff
member's two-factor reset link each hold their secret in the URL path (calendar apps and email links cannot send it
any other way). Whoever reads the logs must not be able to use them. `redact` replaces the secret part with
`[redacted]`; `RedactSecretsFilter` applies it to every record Django's handlers write (django.request's "Not Found:
/path", runserver's request lines), and `gunicorn.conf.py` applies it to gunicorn's access log
(kap_clinic.gunicorn_logging).
"""

import logging
import re

from django.utils.log import AdminEmailHandler

REDACTED = "[redacted]"

# (what stays, the secret): add a row for every new URL whose path carries a credential.
_SECRET_PATHS = [
    (r"/treatment/calendar/", r"[^/\s\"'?#.]+"),  # the feed token; ".ics" stays
    (r"/calendar/", r"[^/\s\"'?#.]+(?=\.ics)"),
    (r"/reminders/confirm/", r"[^/\s\"'?#]+"),
    (r"/accounts/invite/", r"[^/\s\"'?#]+"),
    (r"/accounts/two-factor/reset/", r"[^/\s\"'?#]+"),  # an admin's two-factor reset link
    (r"/accounts/password/reset/[^/\s\"'?#]+/", r"[^/\s\"'?#]+"),  # uid stays, the token goes
]
_PATTERN = re.compile("|".join(f"({keep}){secret}" for keep, secret in _SECRET_PATHS))


def redact(text: str) -> str:
    """The text with every secret path segment replaced by [redacted] (URL-encoded slashes included)."""

    def keep_prefix(match: re.Match) -> str:
        prefix = next(group for group in match.groups() if group is not None)
        return prefix + REDACTED

    return _PATTERN.sub(keep_prefix, text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message with secrets redacted (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as is rather than lost
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class RedactingAdminEmailHandler(AdminEmailHandler):
    """Django's error mail to ADMINS, with secret URL segments redacted from the subject and the report (whose
    request section repeats the path)."""

    def send_mail(self, subject, message, *args, **kwargs):
        if kwargs.get("html_message"):
            kwargs["html_message"] = redact(kwargs["html_message"])
        super().send_mail(redact(subject), redact(message), *args, **kwargs)
