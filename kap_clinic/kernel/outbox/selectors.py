from django.db.models import Count, Q

from .models import OutboxEmail


def outbox_problems() -> dict:
    """For the admin's home: emails (invitations, reset links) that failed, and those flagged after a crash."""
    return OutboxEmail.objects.filter(status=OutboxEmail.Status.FAILED).aggregate(
        failed=Count("pk"), attention=Count("pk", filter=Q(needs_attention=True))
    )
