from .models import OutboxEmail


def outbox_problems() -> dict:
    """For the admin's home: emails (invitations, reset links) that failed, and those flagged after a crash."""
    failed = OutboxEmail.objects.filter(status=OutboxEmail.Status.FAILED)
    return {"failed": failed.count(), "attention": failed.filter(needs_attention=True).count()}
