from celery import shared_task

from .mail import account_email_send
from .models import User


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_account_email(self, user_id: int, template: str) -> None:
    """Tell a staff member about a change to their account's sign-in (e.g. an authenticator was added)."""
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        account_email_send(user=user, template=template)
