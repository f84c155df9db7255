"""Mail to staff about their own account, through the email outbox (kept when the broker is down)."""

from django.conf import settings
from django.template.loader import render_to_string

from kap_clinic.kernel.outbox.services import email_outbox_send

from .models import User


def account_email_send(*, user: User, template: str, key: str, extra: dict | None = None) -> None:
    """Email a staff member about their own account (an authenticator added, a reset link): no clinical detail.

    Written to the outbox in the caller's transaction, once per key; the outbox blanks the body once sent, so a
    reset link's token is kept nowhere after delivery and never travels through the broker.
    """
    if not user.email:
        return
    ctx = {"clinic_name": settings.CLINIC_NAME, "first_name": user.first_name, "username": user.get_username()}
    ctx.update(extra or {})
    email_outbox_send(
        to=user.email,
        subject=render_to_string(f"accounts/email/{template}_subject.txt", ctx),
        text=render_to_string(f"accounts/email/{template}_body.txt", ctx),
        kind=f"account_{template}"[:40],
        key=key,
    )
