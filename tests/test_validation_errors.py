"""A service's refusal lands on the form field it names, or at the top of the form, or as flash messages."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.test import RequestFactory

from kap_clinic.kernel.forms import apply_validation_error, form_submit, message_validation_error


class NoteForm(forms.Form):
    title = forms.CharField()
    body = forms.CharField()


def bound():
    form = NoteForm({"title": "A", "body": "B"})
    assert form.is_valid()
    return form


def test_field_errors_go_to_fields_the_form_has_and_the_rest_to_the_top():
    form = bound()

    apply_validation_error(
        form,
        ValidationError({"title": "Title taken.", "status": "Not while signed.", NON_FIELD_ERRORS: ["Locked."]}),
    )

    assert form.errors["title"] == ["Title taken."]
    assert form.non_field_errors() == ["Not while signed.", "Locked."]
    assert "status" not in form.errors


def test_a_list_of_messages_goes_to_the_top_of_the_form():
    form = bound()

    apply_validation_error(form, ValidationError(["One.", "Two."]))

    assert form.non_field_errors() == ["One.", "Two."]


def test_a_plain_message_can_be_put_under_a_chosen_field():
    form = bound()

    apply_validation_error(form, ValidationError("Say why."), field="body")
    apply_validation_error(form, ValidationError({"title": "Title taken.", "other": "Also."}), field="body")

    assert form.errors["body"] == ["Say why.", "Also."]
    assert form.errors["title"] == ["Title taken."]
    assert not form.non_field_errors()


def test_a_submitted_form_hands_its_values_to_the_service_with_what_the_view_gives():
    taken = {}

    def save(*, title, body, by):
        taken.update(title=title, body=body, by=by)
        return "saved"

    sent = form_submit(NoteForm({"title": "A", "body": "B"}), save, by="clinician")

    assert sent.done and sent.result == "saved"
    assert taken == {"title": "A", "body": "B", "by": "clinician"}


def test_an_invalid_form_never_reaches_the_service():
    def save(**values):
        raise AssertionError("called")

    form = NoteForm({"title": "A"})

    assert not form_submit(form, save).done
    assert form.errors["body"]


def test_only_the_values_named_are_handed_over():
    sent = form_submit(NoteForm({"title": "A", "body": "B"}), lambda *, title: title.lower(), only=["title"])

    assert sent.result == "a"


def test_a_refusal_lands_on_the_form_and_a_plain_one_can_go_under_a_chosen_field():
    def refuse(**values):
        raise ValidationError({"title": "Title taken.", "other": "Say why."})

    form = NoteForm({"title": "A", "body": "B"})

    assert not form_submit(form, refuse, refusals_under="body").done
    assert form.errors == {"title": ["Title taken."], "body": ["Say why."]}
    assert form.data["title"] == "A"


@pytest.mark.parametrize(
    "error, shown",
    [
        (ValidationError("Not now."), ["Not now."]),
        (ValidationError(["One.", "Two."]), ["One.", "Two."]),
        (ValidationError({"title": "Title taken.", NON_FIELD_ERRORS: "Locked."}), ["Title taken.", "Locked."]),
    ],
)
def test_without_a_form_each_message_is_flashed(error, shown):
    request = RequestFactory().post("/x/")
    request.session = {}
    request._messages = FallbackStorage(request)

    message_validation_error(request, error)

    assert [str(m) for m in get_messages(request)] == shown
