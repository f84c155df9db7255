"""Clinic settings page: the thresholds an admin may change, and that the scoring uses them."""

import pytest
from django.urls import reverse

from kap_clinic.kernel.clinic.forms import ClinicSettingsForm
from kap_clinic.kernel.clinic.models import ClinicSettings
from screening import services

pytestmark = pytest.mark.django_db


def _settings_post(**changes):
    """The settings form's POST data: every field of the form at its current value, then the given changes. A
    checkbox that is off is left out, as a browser does."""
    current = ClinicSettings.load()
    data = {name: getattr(current, name) for name in ClinicSettingsForm.Meta.fields}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not False}


def test_the_pcl5_cut_off_is_a_clinic_setting_the_screening_uses(client_for, admin_user, front_desk, patient):
    """Issue item 18; docs/clinical-references.md#instruments: the PCL-5 provisional PTSD cut-off is 31-33 (older 38),
    chosen per population."""
    response = client_for(admin_user).post(reverse("clinic:settings"), _settings_post(pcl5_cutoff=31))
    assert response.status_code == 302
    assert ClinicSettings.load().pcl5_cutoff == 31

    screening = services.screening_start(patient=patient, by=front_desk)
    saved = services.response_save(
        screening=screening, code="pcl5", answers=[4] * 7 + [3] + [0] * 12, complete=True, by=front_desk
    )
    assert (saved.total, saved.band) == (31, "probable_ptsd")


def test_a_pcl5_cut_off_outside_the_scale_is_refused(client_for, admin_user):
    response = client_for(admin_user).post(reverse("clinic:settings"), _settings_post(pcl5_cutoff=81))
    assert response.status_code == 400
    assert ClinicSettings.load().pcl5_cutoff == 33


def test_the_settings_page_offers_the_dast10_threshold_at_its_new_default(client_for, admin_user):
    """DAST-10 3-5 is "moderate level: further investigation" (docs/clinical-references.md#clinical-review): the default
    review threshold is 3."""
    html = client_for(admin_user).get(reverse("clinic:settings")).content.decode()
    assert 'name="dast10_review_total" value="3"' in html
    assert 'name="pcl5_cutoff" value="33"' in html
