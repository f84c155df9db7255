"""Rows written once and kept as they are: the controlled-substance log, record signatures and amendments, consent
acceptances.

`AppendOnlyModel` refuses, with the model's own sentence, to save a row again or to delete it; a correction is a new
row. The database holds the same line for queryset updates and deletes (each table's trigger, and the runtime
role's privileges for the tables registered with `privileges.append_only`).
"""

from django.core.exceptions import ValidationError
from django.db import models


class AppendOnlyModel(models.Model):
    """A row that is inserted once, then never changed nor deleted. Its key is the database's to give."""

    changed_message = "This record cannot be changed."
    deleted_message = "This record cannot be deleted."

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ValidationError(self.changed_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(self.deleted_message)
