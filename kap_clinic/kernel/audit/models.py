from django.db import models


class AuditSeal(models.Model):
    """One link of the audit log's hash chain: the hash of one log entry's content and of the link before it.

    On PostgreSQL the database writes these itself, when the transaction that wrote the entry commits (see the
    migration); elsewhere `chain.seal_pending_entries` does, when `audit_verify` runs. Rewriting an entry, or removing
    one or a seal, breaks the chain at that point, which `manage.py audit_verify` reports, even when a database
    superuser did it.
    """

    entry_id = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"seal #{self.pk} of audit entry #{self.entry_id}"
