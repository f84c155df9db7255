"""Patients read one set of instructions: the reminder's preparation text and the portal's agree on the hours."""

import importlib

import pytest
from django.apps import apps

from kap_clinic.kernel.notifications import reference_data as texts
from kap_clinic.kernel.notifications.models import PreparationText
from sessions import reference_data
from sessions.models import Protocol

pytestmark = pytest.mark.django_db


def _migration(app_path: str, name: str):
    return importlib.import_module(f"{app_path}.migrations.{name}")


def test_the_reminder_and_the_portal_give_the_same_hours():
    for route in ("iv", "im", "sublingual", "oral"):
        reminder = PreparationText.objects.get(route=route).email_text
        portal = Protocol.objects.filter(route=route).first().preparation_instructions
        assert "24 hours" in reminder and "24 hours" in portal, route
        assert "rest of the day" not in reminder
    for route in ("sublingual", "oral"):
        reminder = PreparationText.objects.get(route=route).email_text
        portal = Protocol.objects.filter(route=route).first().preparation_instructions
        assert "4 hours" in reminder and "for 4 hours" in portal and "2 to 4" not in portal, route


def test_a_clinic_installed_earlier_gets_the_same_wording_and_its_own_texts_stay():
    PreparationText.objects.filter(route="iv").update(email_text="Please fast from midnight. " + texts.EARLIER_AFTER)
    PreparationText.objects.filter(route="im").update(email_text="The clinic's own words.")
    oral = Protocol.objects.filter(route="oral").first()
    Protocol.objects.filter(pk=oral.pk).update(
        preparation_instructions=reference_data.EARLIER_OFFICE_MEAL + " Come early."
    )

    _migration("kap_clinic.kernel.notifications", "0013_after_the_session_for_24_hours").forwards(apps, None)
    _migration("sessions", "0013_office_preparation_4_hours").forwards(apps, None)

    assert PreparationText.objects.get(route="iv").email_text == "Please fast from midnight. " + texts.AFTER
    assert PreparationText.objects.get(route="im").email_text == "The clinic's own words."
    oral.refresh_from_db()
    assert oral.preparation_instructions == reference_data.OFFICE_MEAL + " Come early."
