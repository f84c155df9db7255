"""Public holidays as clinic closures: the country and state come from the clinic settings; the import is idempotent
and keeps closures the clinic entered itself. The clinic's phone number is a setting too."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.models import Channel
from kap_clinic.kernel.notifications.occasions import render_message
from sessions.models import ClinicClosure
from sessions.scheduling.closures import closures_import_public_holidays
from tests.clinic.test_settings import _settings_post

pytestmark = pytest.mark.django_db


def _region(country="US", subdivision=""):
    clinic = ClinicSettings.load()
    clinic.holiday_country, clinic.holiday_subdivision = country, subdivision
    clinic.save()


def test_each_public_holiday_becomes_one_closure_and_running_again_adds_nothing(admin_user):
    created = closures_import_public_holidays(year=2027, by=admin_user)
    days = {closure.day: closure.reason for closure in created}
    assert days[date(2027, 7, 4)] == "Independence Day"
    assert days[date(2027, 7, 5)] == "Independence Day (observed)"
    assert days[date(2027, 11, 25)] == "Thanksgiving Day"
    assert date(2027, 2, 12) not in days  # Lincoln's Birthday is New York's, not the country's
    assert ClinicClosure.objects.count() == len(created)
    assert closures_import_public_holidays(year=2027, by=admin_user) == []
    assert ClinicClosure.objects.count() == len(created)


def test_the_state_in_the_clinic_settings_adds_its_own_holidays(admin_user):
    _region("US", "NY")
    closures_import_public_holidays(year=2027, by=None)
    assert ClinicClosure.objects.get(day=date(2027, 2, 12)).reason == "Lincoln's Birthday"


def test_a_closure_the_clinic_entered_keeps_its_reason(admin_user):
    ClinicClosure.objects.create(day=date(2027, 12, 25), reason="Staff party")
    created = closures_import_public_holidays(year=2027, by=admin_user)
    assert date(2027, 12, 25) not in {closure.day for closure in created}
    assert ClinicClosure.objects.get(day=date(2027, 12, 25)).reason == "Staff party"


def test_only_an_admin_imports_holidays(clinician):
    with pytest.raises(PermissionDenied):
        closures_import_public_holidays(year=2027, by=clinician)
    assert not ClinicClosure.objects.exists()


def test_an_unknown_country_is_refused_by_the_import(admin_user):
    ClinicSettings.objects.filter(pk=ClinicSettings.load().pk).update(holiday_country="ZZ")
    with pytest.raises(ValidationError, match="not known"):
        closures_import_public_holidays(year=2027, by=admin_user)


def test_the_command_imports_a_year_and_reports_what_it_added(capsys):
    _region("GB", "")
    call_command("import_holidays", "--year", "2027")
    out = capsys.readouterr().out
    assert "Christmas Day" in out and "public holidays added as closures" in out
    assert ClinicClosure.objects.get(day=date(2027, 12, 28)).reason == "Boxing Day (observed)"
    count = ClinicClosure.objects.count()
    call_command("import_holidays", "--year", "2027")
    assert "0 public holidays added" in capsys.readouterr().out
    assert ClinicClosure.objects.count() == count
    with pytest.raises(CommandError):
        call_command("import_holidays", "--year", "1800")


def test_admins_set_the_region_and_phone_on_the_settings_page_and_bad_codes_are_refused(client_for, admin_user):
    client = client_for(admin_user)
    page = client.get(reverse("clinic:settings")).content.decode()
    assert 'name="holiday_country" value="US"' in page and 'name="phone"' in page
    response = client.post(
        reverse("clinic:settings"), _settings_post(holiday_country="ca", holiday_subdivision="on", phone="416-555-0100")
    )
    assert response.status_code == 302
    clinic = ClinicSettings.load()
    assert (clinic.holiday_country, clinic.holiday_subdivision, clinic.phone) == ("CA", "ON", "416-555-0100")
    response = client.post(reverse("clinic:settings"), _settings_post(holiday_country="ZZ"))
    assert response.status_code == 400
    assert "Not a country whose public holidays are known." in response.content.decode()
    response = client.post(reverse("clinic:settings"), _settings_post(holiday_country="US", holiday_subdivision="XX"))
    assert response.status_code == 400
    assert ClinicSettings.load().holiday_country == "CA"


def test_patients_are_asked_to_call_the_clinics_own_number(settings, patient):
    settings.REMS_SETTING_PHONE = "518-555-0142"
    ctx = {"due_at": date(2027, 3, 9), "portal_url": "https://clinic.test/", "overdue": False}
    text = render_message("checkin_reminder", ctx, patient=patient, channel=Channel.EMAIL).text
    assert "please call the clinic at 518-555-0142" in text
    clinic = ClinicSettings.load()
    clinic.phone = "(212) 555-0142"
    clinic.save()
    text = render_message("checkin_reminder", ctx, patient=patient, channel=Channel.EMAIL).text
    assert "please call the clinic at (212) 555-0142" in text


def test_admins_close_the_clinic_on_public_holidays_from_the_closures_page(client_for, admin_user, clinician):
    client = client_for(admin_user)
    page = client.get(reverse("admin:treatment_sessions_clinicclosure_changelist")).content.decode()
    assert 'data-testid="import-holidays"' in page
    url = reverse("admin:treatment_sessions_clinicclosure_import_holidays")
    year = timezone.localdate().year + 1
    response = client.post(url, {"year": year}, follow=True)
    assert "public holidays of" in response.content.decode()
    count = ClinicClosure.objects.filter(day__year=year).count()
    assert count >= 10 and ClinicClosure.objects.filter(day__year=year, reason="Christmas Day").exists()
    assert client.post(url, {"year": 1999}, follow=True).status_code == 200
    assert not ClinicClosure.objects.filter(day__year=1999).exists()
    assert client.get(url).status_code == 405
    response = client_for(clinician).post(url, {"year": year})
    assert response.status_code in (302, 403) and ClinicClosure.objects.filter(day__year=year).count() == count


def test_the_patients_schedule_page_gives_the_clinics_number(client_for, patient_user, patient):
    clinic = ClinicSettings.load()
    clinic.phone = "(212) 555-0142"
    clinic.save()
    page = client_for(patient_user).get(reverse("homes:portal_schedule")).content.decode()
    assert 'please call the clinic at <a href="tel:(212) 555-0142">(212) 555-0142</a>' in page
