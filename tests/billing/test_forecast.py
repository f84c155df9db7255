"""Units per code, and the forecast beside every booking: the warning at once, the hard stop and its override."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.coverage import authorization_forecasts
from billing.models import AuthorizationOverride
from billing.services import units_used_count
from kap_clinic.kernel.clinic.models import ClinicSettings
from sessions.models import DoseAdministration

from .factories import approved, at, book

pytestmark = pytest.mark.django_db

JAN_4, JAN_31 = date(2027, 1, 4), date(2027, 1, 31)


@pytest.fixture(autouse=True)
def clinic_day(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(at(date(2027, 1, 2), 8), tick=False)


def test_an_iv_session_does_not_use_a_spravato_g2082_authorization(patient, front_desk, clinician):
    spravato = approved(patient, front_desk, codes=("G2082",), units=8, starts_on=JAN_4, ends_on=JAN_31)
    book(patient, clinician, date(2027, 1, 5), status="completed")  # IV
    assert units_used_count(spravato) == 0
    book(patient, clinician, date(2027, 1, 8), status="completed", route="intranasal", dose=Decimal("56"))
    assert units_used_count(spravato) == 1


def test_j0013_counts_the_milligrams_given_and_the_visit_code_follows_the_dose(patient, front_desk, clinician):
    drug = approved(patient, front_desk, codes=("J0013",), units=500, starts_on=JAN_4, ends_on=JAN_31, reference="D")
    low_visit = approved(patient, front_desk, codes=("G2082",), units=8, starts_on=JAN_4, ends_on=JAN_31, reference="V")
    session = book(patient, clinician, date(2027, 1, 8), status="completed", route="intranasal", dose=Decimal("56"))
    assert units_used_count(drug) == 56  # the planned dose until the dose is recorded
    assert units_used_count(low_visit) == 1

    DoseAdministration.objects.create(
        session=session, dose_mg_given=Decimal("84"), dosed_at=session.starts_at, dosed_by=clinician
    )
    assert units_used_count(drug) == 84  # the dose given
    assert units_used_count(low_visit) == 0  # an 84 mg visit is G2083, not covered by a G2082 authorization


def _reschedule(client, session, day, **extra):
    url = reverse("sessions:session_reschedule", kwargs={"pk": session.pk})
    data = {"new_start": timezone.localtime(at(day, 9)).strftime("%Y-%m-%dT%H:%M"), **extra}
    return client.post(url, data, follow=True)


def test_rescheduling_shows_the_units_and_warns_at_once_outside_the_window(client_for, patient, front_desk, clinician):
    authorization = approved(patient, front_desk, units=2, starts_on=JAN_4, ends_on=JAN_31)
    book(patient, clinician, date(2027, 1, 5), status="completed")
    authorization.refresh_from_db()
    book(patient, clinician, date(2027, 1, 12))
    last = book(patient, clinician, date(2027, 1, 19))
    client = client_for(front_desk)

    page = client.get(reverse("sessions:session_reschedule", kwargs={"pk": last.pk})).content.decode()
    assert 'data-testid="booking-forecast"' in page and "progress-stacked" in page
    assert "1 used, 2 booked" in page and "of 2 units; 1 over" in page
    assert "1 unit more than the 2 authorized would be used" in page

    response = _reschedule(client, last, date(2027, 2, 2))  # after the last authorized day
    assert response.status_code == 200
    last.refresh_from_db()
    assert timezone.localtime(last.starts_at).date() == date(2027, 2, 2)
    page = response.content.decode()
    assert "fall outside the authorized dates" in page and "02 Feb 2027" in page


def test_the_hard_stop_refuses_until_a_written_override_which_is_recorded(client_for, patient, front_desk, clinician):
    settings_row = ClinicSettings.load()
    settings_row.authorization_hard_stop = True
    settings_row.save()
    authorization = approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=JAN_31)
    last = book(patient, clinician, date(2027, 1, 19))
    client = client_for(front_desk)

    refused = _reschedule(client, last, date(2027, 2, 2))
    assert refused.status_code == 400
    assert "fall outside the authorized dates" in refused.content.decode()
    assert "Book anyway because" in refused.content.decode()
    last.refresh_from_db()
    assert timezone.localtime(last.starts_at).date() == date(2027, 1, 19)
    assert not AuthorizationOverride.objects.exists()

    allowed = _reschedule(
        client, last, date(2027, 2, 2), booking_override_reason="Renewal approved by phone, letter due"
    )
    assert allowed.status_code == 200
    last.refresh_from_db()
    assert timezone.localtime(last.starts_at).date() == date(2027, 2, 2)
    override = AuthorizationOverride.objects.get()
    assert override.authorization == authorization and override.by == front_desk
    assert override.reason == "Renewal approved by phone, letter due"
    assert any("outside the authorized dates" in p for p in override.problems)


def test_expired_authorizations_drop_out_of_the_forecast(patient, front_desk, clinician, time_machine):
    approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=JAN_31)
    assert len(authorization_forecasts(patient_id=patient.pk, planned=[])) == 1
    time_machine.move_to(at(date(2027, 2, 1), 8) + timedelta(hours=1), tick=False)
    assert authorization_forecasts(patient_id=patient.pk, planned=[]) == []


def test_expired_and_ended_authorizations_drop_out_of_the_working_list(client_for, patient, front_desk, time_machine):
    from billing.services import authorization_transition

    running = approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=date(2027, 3, 31), reference="PA-RUN")
    ended = approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=JAN_31, reference="PA-ENDED")
    gone = approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=JAN_31, reference="PA-GONE")
    authorization_transition(authorization=gone, to="expired", by=front_desk)
    time_machine.move_to(at(date(2027, 2, 3), 9), tick=False)
    client = client_for(front_desk)
    url = reverse("billing:authorization_list")

    working = client.get(url).content.decode()
    assert running.reference in working and ended.reference not in working and gone.reference not in working
    assert gone.reference in client.get(url, {"status": "expired"}).content.decode()
    assert ended.reference not in client.get(url, {"ending_soon": "on"}).content.decode()


def _plan_data(clinician, **changes):
    from sessions.models import Protocol, Room

    data = {
        "protocol": Protocol.objects.get(route="iv").pk,
        "planned_dose": "0.5",
        "first_day": "2027-01-04",
        "start_time": "09:00",
        "room": Room.objects.get_or_create(name="Room A")[0].pk,
        "clinician": clinician.pk,
        "action": "preview",
    }
    data.update(changes)
    return data


def test_planning_shows_the_forecast_and_the_hard_stop_needs_a_written_reason(
    client_for, patient, front_desk, clinician
):
    from sessions.models import DosingSession
    from sessions.scheduling.services import enrollment_create

    enrollment_create(patient=patient, by=clinician, override_justification="Forecast test patient.")
    approved(patient, front_desk, units=4, starts_on=JAN_4, ends_on=JAN_31)
    client = client_for(clinician)
    url = reverse("sessions:plan_create", kwargs={"patient_pk": patient.pk})

    preview = client.post(url, _plan_data(clinician))
    assert preview.status_code == 200
    page = preview.content.decode()
    planned = len(preview.context["preview"])
    assert planned > 4
    assert 'data-testid="booking-forecast"' in page and f"{planned} in this booking of 4 units" in page
    assert f"{planned - 4} units more than the 4 authorized would be used" in page
    assert "The clinic refuses" not in page  # a warning only while the hard stop is off

    settings_row = ClinicSettings.load()
    settings_row.authorization_hard_stop = True
    settings_row.save()
    refused = client.post(url, _plan_data(clinician, action="confirm"))
    assert refused.status_code == 400
    assert "units more than the 4 authorized" in refused.content.decode()
    assert not DosingSession.objects.exists() and not AuthorizationOverride.objects.exists()

    booked = client.post(url, _plan_data(clinician, action="confirm", booking_override_reason="Payer agreed by phone"))
    assert booked.status_code == 302
    assert DosingSession.objects.filter(patient=patient).count() == planned
    override = AuthorizationOverride.objects.get()
    assert override.by == clinician and override.reason == "Payer agreed by phone"
