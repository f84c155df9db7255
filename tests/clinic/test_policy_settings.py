"""Clinic policy as data: relapse thresholds, the check-in cadence, REMS warnings and integration-session lengths are
clinic settings an admin changes at /clinic/settings/, and the services follow them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from aftercare import services
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.models import StaffAlert
from tests.aftercare.helpers import book
from tests.aftercare.test_services import _answer
from tests.clinic.test_settings import _settings_post

pytestmark = pytest.mark.django_db


def _change(client_for, admin_user, **changes):
    response = client_for(admin_user).post(reverse("clinic:settings"), _settings_post(**changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    return ClinicSettings.load()


def test_the_settings_page_offers_the_policy_at_its_defaults(client_for, admin_user):
    page = client_for(admin_user).get(reverse("clinic:settings")).content.decode()
    for name, value in [
        ("relapse_rise_points", 5),
        ("relapse_at", 10),
        ("checkin_weekly", 4),
        ("checkin_later_every_weeks", 3),
        ("checkin_horizon_weeks", 26),
        ("rems_warn_days", 2),
        ("integration_max_minutes", 240),
    ]:
        assert f'name="{name}" value="{value}"' in page


def test_a_smaller_relapse_rise_warns_sooner(client_for, admin_user, patient, patient_user):
    _answer(patient, patient_user, 6, ago_hours=40)
    _answer(patient, patient_user, 9, ago_hours=30)  # 3 above the lowest: no warning at the default of 5
    assert not StaffAlert.objects.filter(kind="relapse").exists()
    _change(client_for, admin_user, relapse_rise_points=3)
    last = _answer(patient, patient_user, 9, ago_hours=20)
    alert = StaffAlert.objects.get(kind="relapse")
    assert alert.key == f"checkin-{last.pk}-relapse" and "6 to 9" in alert.summary


def test_the_check_in_series_follows_the_clinic_cadence(client_for, admin_user, patient, clinician):
    _change(
        client_for,
        admin_user,
        checkin_weekly=2,
        checkin_later_every_weeks=4,
        checkin_horizon_weeks=10,
        checkin_due_after_days=2,
        checkin_closes_after_due_days=5,
    )
    ended = timezone.localdate()
    created = services.checkin_series_create(patient=patient, by=clinician, induction_ended_on=ended)
    opens = [timezone.localtime(checkin.opens_at).date() for checkin in created]
    assert opens == [ended + timedelta(weeks=weeks) for weeks in (1, 2, 6, 10)]
    first = created[0]
    assert first.due_at - first.opens_at == timedelta(days=2)
    assert first.closes_at - first.due_at == timedelta(days=5)
    # A cadence chosen on the series form still wins over the clinic's.
    again = services.checkin_series_create(patient=patient, by=clinician, induction_ended_on=ended, horizon_weeks=14)
    assert [timezone.localtime(c.opens_at).date() for c in again] == [ended + timedelta(weeks=14)]


def test_the_series_form_starts_from_the_clinic_cadence(client_for, admin_user, clinician, patient):
    _change(client_for, admin_user, checkin_weekly=6)
    page = client_for(clinician).get(reverse("aftercare:checkin_series_create", args=[patient.pk])).content.decode()
    assert 'name="weekly" value="6"' in page


def test_integration_sessions_keep_to_the_clinic_lengths(client_for, admin_user, patient, clinician):
    assert book(patient, clinician, duration=120, hour=9).pk
    _change(client_for, admin_user, integration_max_minutes=90, integration_default_minutes=60)
    with pytest.raises(ValidationError, match="between 15 and 90 minutes"):
        book(patient, clinician, duration=120, hour=14)
    assert book(patient, clinician, duration=90, hour=14).pk


@pytest.mark.parametrize(
    "changes",
    [
        {"relapse_at": 5, "relapse_remission_below": 5},
        {"integration_min_minutes": 60, "integration_max_minutes": 30},
        {"integration_default_minutes": 300},
        {"integration_min_minutes": 10},
        {"rems_warn_days": 7},
        {"checkin_later_every_weeks": 0},
        {"relapse_rise_points": 0},
    ],
)
def test_policy_values_that_make_no_sense_are_refused(client_for, admin_user, changes):
    response = client_for(admin_user).post(reverse("clinic:settings"), _settings_post(**changes))
    assert response.status_code == 400
    assert ClinicSettings.load().relapse_at == 10 and ClinicSettings.load().integration_max_minutes == 240
