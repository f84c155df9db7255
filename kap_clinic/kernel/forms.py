"""A service's refusal, shown to the person who asked: one way for every view.

Services raise `ValidationError` with plain sentences, either a list or a dict keyed by field name. A view with a
form hands it to its service through `form_submit(form, service, **given)`, or calls
`apply_validation_error(form, error)` itself: each message keyed by a field the form shows lands under that field,
every other message at the top of the form. A view without a form (a button that posts and redirects) calls
`message_validation_error(request, error)`: one flash message a sentence.

`PeriodForm` is the one "From / To" pair every report, export and log filter asks for.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

from .validation import BoundedInput


def apply_validation_error(form, error: ValidationError, *, field: str | None = None) -> None:
    """Put `error`'s messages on `form`: under the fields they name when the form has them, else under `field`
    (the form's top, when None)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else field, errors)
    else:
        form.add_error(field, error.error_list)


@dataclass(frozen=True)
class Submitted:
    """What `form_submit` did: `done` when the service took the form's values, with what it returned."""

    done: bool
    result: Any = None


def form_submit(
    form,
    service: Callable[..., Any],
    /,
    *,
    only: Iterable[str] | None = None,
    refusals_under: str | None = None,
    **given,
) -> Submitted:
    """Hand a valid form's values to a service: `service(**given, **form.cleaned_data)` runs when the form is valid,
    and a `ValidationError` it raises lands on the form (`apply_validation_error`), which keeps what was typed for the
    page that shows it again. The form's fields are the service's keyword arguments: a field added to the form is a
    new argument of the service.

    `only` names the values the service takes when it takes fewer than the form has (a preview of what the full form
    would book, say); a value the form works out from several fields (one moment from a date and a time) is put in
    `cleaned_data` by the form's `clean()` and named here. `refusals_under` names the field that shows a refusal that
    names no field of the form (`apply_validation_error`'s `field`), for a form whose one field is the answer to it.
    """
    if not form.is_valid():
        return Submitted(done=False)
    values = form.cleaned_data if only is None else {name: form.cleaned_data[name] for name in only}
    try:
        return Submitted(done=True, result=service(**given, **values))
    except ValidationError as exc:
        apply_validation_error(form, exc, field=refusals_under)
        return Submitted(done=False)


def message_validation_error(request, error: ValidationError) -> None:
    """One error message a sentence of `error`, shown on the next page."""
    for message in error.messages:
        messages.error(request, message)


class PeriodForm(BoundedInput, forms.Form):
    """A period from one day to another, both included; the end may not come before the start. A subclass whose
    period may be left open sets `period_required = False`."""

    period_required = True

    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].required = self.fields["end"].required = self.period_required

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", "The end date is before the start date.")
        return cleaned
