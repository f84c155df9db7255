"""Mail to staff about their own account. One function, so that it can move to the outbox with the rest."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import User


def account_email_send(*, user: User, template: str, extra: dict | None = None) -> None:
    """Email a staff member about their own account (an authenticator added, a reset link): no clinical detail."""
    if not user.email:
        return
    ctx = {"clinic_name": settings.CLINIC_NAME, "first_name": user.first_name, "username": user.get_username()}
    ctx.update(extra or {})
    message = EmailMultiAlternatives(
        " ".join(render_to_string(f"accounts/email/{template}_subject.txt", ctx).split()),
        render_to_string(f"accounts/email/{template}_body.txt", ctx),
        to=[user.email],
    )
    message.send()
