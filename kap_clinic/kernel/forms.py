"""A service's refusal, shown to the person who asked: one way for every view.

Services raise `ValidationError` with plain sentences, either a list or a dict keyed by field name. A view with a
form calls `apply_validation_error(form, error)`: each message keyed by a field the form shows lands under that
field, every other message at the top of the form. A view without a form (a button that posts and redirects)
calls `message_validation_error(request, error)`: one flash message a sentence.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError


def apply_validation_error(form, error: ValidationError, *, field: str | None = None) -> None:
    """Put `error`'s messages on `form`: under the fields they name when the form has them, else under `field`
    (the form's top, when None)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else field, errors)
    else:
        form.add_error(field, error.error_list)


def message_validation_error(request, error: ValidationError) -> None:
    """One error message a sentence of `error`, shown on the next page."""
    for message in error.messages:
        messages.error(request, message)
