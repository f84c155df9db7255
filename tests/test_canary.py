"""A patient's name must never leak into log lines or error pages, whatever happens."""

import logging
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from kap_clinic.homes import views as chart_views
from patients.services import patient_create
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

CANARY_GIVEN, CANARY_FAMILY = "Quillon", "Zephyrcanary"


@pytest.fixture
def canary(clinician):
    return patient_create(
        created_by=None,
        given_name=CANARY_GIVEN,
        family_name=CANARY_FAMILY,
        date_of_birth=date(1961, 7, 4),
        primary_clinician=clinician,
    )


def _assert_clean(text: str):
    assert CANARY_FAMILY not in text
    assert CANARY_GIVEN not in text


def test_canary_never_reaches_the_logs(client_for, clinician, canary, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(clinician)
    client.get(reverse("homes:patient_chart", kwargs={"pk": canary.pk}))
    client.post(reverse("patients:list"), {"q": CANARY_FAMILY})
    client.post(
        reverse("patients:edit", kwargs={"pk": canary.pk}),
        {"given_name": CANARY_GIVEN, "family_name": CANARY_FAMILY, "date_of_birth": "not a date"},
    )
    client.get(reverse("homes:patient_chart", kwargs={"pk": canary.pk + 999}))
    _assert_clean(caplog.text)


def test_canary_never_reaches_an_error_page_or_its_log(clinician, canary, caplog, monkeypatch):
    def failing_render(*args, **kwargs):
        raise RuntimeError(f"rendering failed for {args[1]}")

    monkeypatch.setattr(chart_views, "render", failing_render)
    caplog.set_level(logging.DEBUG)
    client = Client(raise_request_exception=False)
    sign_in(client, clinician)
    response = client.get(reverse("homes:patient_chart", kwargs={"pk": canary.pk}))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    _assert_clean(response.content.decode())
    _assert_clean(caplog.text)


def test_model_text_is_the_chart_number_not_the_name(canary):
    assert str(canary) == canary.mrn
    _assert_clean(repr(canary))
