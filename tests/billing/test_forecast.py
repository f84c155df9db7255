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
from sessions.models import DoseAdministration, DosingSession
from sessions.scheduling.checks import PlannedSession

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
    from sessions.scheduling.enrollment import enrollment_create

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


# ---- Boosters, dose changes, sessions no authorization covers, moves that make nothing worse -------------------------


def _hard_stop(on: bool = True) -> None:
    settings_row = ClinicSettings.load()
    settings_row.authorization_hard_stop = on
    settings_row.save()


def _insured(patient, by):
    from billing.coverage import policy_create

    from .factories import payer

    return policy_create(
        patient=patient,
        by=by,
        payer=payer(),
        plan_name="Gold PPO",
        member_id="M-100",
        subscriber_name="Ada Quill",
        subscriber_relationship="self",
        effective_from=date(2026, 1, 1),
        rank="primary",
        is_active=True,
    )


def _spravato(day, dose="56") -> PlannedSession:
    return PlannedSession(starts_at=at(day), route="intranasal", dose=Decimal(dose), dose_unit="mg")


def test_the_booster_page_shows_the_forecast_before_booking(client_for, patient, front_desk, clinician):
    last = book(patient, clinician, date(2026, 12, 28), status="completed")  # booster due 28 days later, 25 Jan
    approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=date(2027, 1, 20))
    client = client_for(clinician)

    page = client.get(reverse("sessions:booster_book", kwargs={"pk": last.plan_id}))

    assert page.status_code == 200
    booster = page.context["booster"]
    assert timezone.localtime(booster.starts_at).date() > date(2027, 1, 20)
    html = page.content.decode()
    assert 'data-testid="booking-forecast"' in html and "progress-stacked" in html
    assert "1 session fall outside the authorized dates" in html
    assert "The clinic refuses" not in html  # a warning only while the hard stop is off
    assert not DosingSession.objects.filter(kind="booster").exists()  # nothing booked by looking

    booked = client.post(reverse("sessions:booster_book", kwargs={"pk": last.plan_id}), follow=True)
    assert booked.redirect_chain[-1][0] == reverse("sessions:plan_detail", kwargs={"pk": last.plan_id})
    assert DosingSession.objects.filter(kind="booster").count() == 1
    assert "fall outside the authorized dates" in booked.content.decode()  # and said at once after booking
    assert not AuthorizationOverride.objects.exists()


def test_the_hard_stop_refuses_a_booster_until_a_written_reason_which_is_recorded(
    client_for, patient, front_desk, clinician
):
    last = book(patient, clinician, date(2026, 12, 28), status="completed")
    authorization = approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=date(2027, 1, 20))
    _hard_stop()
    client = client_for(clinician)
    url = reverse("sessions:booster_book", kwargs={"pk": last.plan_id})

    assert "The clinic refuses this booking" in client.get(url).content.decode()
    refused = client.post(url, {"booking_override_reason": "   "})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "fall outside the authorized dates" in html and "Book anyway because" in html
    assert "Book this booster" in html  # the form again
    assert not DosingSession.objects.filter(kind="booster").exists()
    assert not AuthorizationOverride.objects.exists()

    booked = client.post(url, {"booking_override_reason": "Renewal requested, payer agreed by phone"})
    assert booked.status_code == 302
    booster = DosingSession.objects.get(kind="booster")
    override = AuthorizationOverride.objects.get()
    assert (override.authorization, override.by, override.patient) == (authorization, clinician, patient)
    assert override.reason == "Renewal requested, payer agreed by phone"
    assert any("outside the authorized dates" in p for p in override.problems)
    assert f"{timezone.localtime(booster.starts_at):%d %b %Y}" in override.problems[0]


def _spravato_series(patient, clinician, *days, dose="56"):
    return [book(patient, clinician, day, route="intranasal", dose=Decimal(dose)) for day in days]


def _change_dose(client, session, dose, **extra):
    url = reverse("sessions:session_dose", kwargs={"pk": session.pk})
    return client.post(url, {"dose": dose, "override_reason": "", **extra})


def test_a_dose_change_is_checked_against_the_milligrams_authorized(client_for, patient, front_desk, clinician):
    # The label's first dose is 56 mg; later ones 56 or 84 mg.
    _, first, second = _spravato_series(patient, clinician, date(2027, 1, 5), date(2027, 1, 8), date(2027, 1, 12))
    approved(patient, front_desk, codes=("J0013",), units=168, starts_on=JAN_4, ends_on=JAN_31)
    client = client_for(clinician)

    warned = client.post(
        reverse("sessions:session_dose", kwargs={"pk": second.pk}), {"dose": "84", "override_reason": ""}, follow=True
    )
    second.refresh_from_db()
    assert second.planned_dose == Decimal("84")  # a warning only while the hard stop is off
    assert "28 units more than the 168 authorized would be used" in warned.content.decode()

    _hard_stop()
    refused = _change_dose(client, first, "84")
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "56 units more than the 168 authorized would be used" in html  # the forecast of the dose typed
    assert "Book anyway because" in html and 'value="84"' in html
    first.refresh_from_db()
    assert first.planned_dose == Decimal("56") and not AuthorizationOverride.objects.exists()

    allowed = _change_dose(client, first, "84", booking_override_reason="Dose step agreed with the payer")
    assert allowed.status_code == 302
    first.refresh_from_db()
    assert first.planned_dose == Decimal("84")
    override = AuthorizationOverride.objects.get()
    assert override.reason == "Dose step agreed with the payer" and override.by == clinician


def test_lowering_a_dose_past_the_hard_stop_needs_no_reason_when_it_makes_nothing_worse(
    client_for, patient, front_desk, clinician
):
    _spravato_series(patient, clinician, date(2027, 1, 5))
    _, second = _spravato_series(patient, clinician, date(2027, 1, 8), date(2027, 1, 12), dose="84")
    approved(patient, front_desk, codes=("J0013",), units=112, starts_on=JAN_4, ends_on=JAN_31)  # 224 booked
    _hard_stop()

    response = _change_dose(client_for(clinician), second, "56")

    assert response.status_code == 302
    second.refresh_from_db()
    assert second.planned_dose == Decimal("56") and not AuthorizationOverride.objects.exists()


def test_a_dose_change_that_switches_the_visit_code_leaves_a_g2082_authorization_behind(
    client_for, patient, front_desk, clinician
):
    _insured(patient, front_desk)
    _, second = _spravato_series(patient, clinician, date(2027, 1, 5), date(2027, 1, 8))
    approved(patient, front_desk, codes=("G2082",), units=8, starts_on=JAN_4, ends_on=JAN_31)
    _hard_stop()
    client = client_for(clinician)

    refused = _change_dose(client, second, "84")  # over 56 mg the visit bills G2083

    assert refused.status_code == 400
    assert "No authorization covers these sessions" in refused.content.decode()
    second.refresh_from_db()
    assert second.planned_dose == Decimal("56")
    assert _change_dose(client, second, "84", booking_override_reason="G2083 request sent today").status_code == 302
    override = AuthorizationOverride.objects.get()
    assert override.authorization is None and "No authorization covers these sessions" in override.problems[0]


def test_an_insured_patients_spravato_sessions_need_an_authorization(patient, front_desk):
    _insured(patient, front_desk)
    planned = [_spravato(date(2027, 1, 5)), _spravato(date(2027, 1, 8))]

    (forecast,) = authorization_forecasts(patient_id=patient.pk, planned=planned)

    assert forecast.problems[0].startswith("No authorization covers these sessions: 2 sessions bill G2082, J0013")
    assert not forecast.blocking and not forecast.measured
    _hard_stop()
    assert authorization_forecasts(patient_id=patient.pk, planned=planned)[0].blocking
    # An IV session bills no code that needs one; a covering authorization ends the problem.
    iv = PlannedSession(starts_at=at(date(2027, 1, 5)), route="iv", dose=Decimal("0.5"), dose_unit="mg_per_kg")
    assert authorization_forecasts(patient_id=patient.pk, planned=[iv]) == []
    approved(patient, front_desk, codes=("G2082", "J0013"), units=200, starts_on=JAN_4, ends_on=JAN_31)
    (covered,) = authorization_forecasts(patient_id=patient.pk, planned=planned)
    assert covered.problems == () and covered.measured


def test_self_pay_patients_need_no_authorization(patient, front_desk):
    from billing.coverage import self_pay_set

    planned = [_spravato(date(2027, 1, 5))]
    _hard_stop()
    assert authorization_forecasts(patient_id=patient.pk, planned=planned) == []  # no policy on file: uninsured
    _insured(patient, front_desk)
    assert authorization_forecasts(patient_id=patient.pk, planned=planned)[0].blocking
    self_pay_set(patient=patient, by=front_desk, since=date(2027, 1, 1))
    assert authorization_forecasts(patient_id=patient.pk, planned=planned) == []


def test_the_sessions_booked_without_an_authorization_are_said_on_the_reschedule_page(
    client_for, patient, front_desk, clinician
):
    _insured(patient, front_desk)
    (session,) = _spravato_series(patient, clinician, date(2027, 1, 5))

    page = client_for(front_desk).get(reverse("sessions:session_reschedule", kwargs={"pk": session.pk}))

    assert "No authorization covers these sessions: 1 session bills G2082, J0013" in page.content.decode()


def test_moving_a_session_already_outside_the_window_warns_but_does_not_newly_block(
    client_for, patient, front_desk, clinician
):
    approved(patient, front_desk, units=5, starts_on=JAN_4, ends_on=JAN_31)
    outside = book(patient, clinician, date(2027, 2, 2))  # booked before the hard stop was turned on
    _hard_stop()
    client = client_for(front_desk)

    moved = _reschedule(client, outside, date(2027, 2, 3))
    assert moved.redirect_chain, moved.content.decode()[:500]
    outside.refresh_from_db()
    assert timezone.localtime(outside.starts_at).date() == date(2027, 2, 3)
    assert "fall outside the authorized dates" in moved.content.decode()  # still said
    assert not AuthorizationOverride.objects.exists()

    back = _reschedule(client, outside, date(2027, 1, 20))  # into the window: fine
    assert back.redirect_chain
    assert "fall outside the authorized dates" not in back.content.decode()

    refused = _reschedule(client, outside, date(2027, 2, 4))  # out again: newly outside, refused
    assert refused.status_code == 400
    outside.refresh_from_db()
    assert timezone.localtime(outside.starts_at).date() == date(2027, 1, 20)


def test_moving_a_session_inside_an_authorization_already_over_its_units_is_not_refused(
    client_for, patient, front_desk, clinician
):
    approved(patient, front_desk, units=1, starts_on=JAN_4, ends_on=JAN_31)
    book(patient, clinician, date(2027, 1, 5))
    second = book(patient, clinician, date(2027, 1, 12))  # 2 booked of 1 authorized
    _hard_stop()

    moved = _reschedule(client_for(front_desk), second, date(2027, 1, 14))

    assert moved.redirect_chain
    second.refresh_from_db()
    assert timezone.localtime(second.starts_at).date() == date(2027, 1, 14)
    assert "1 unit more than the 1 authorized" in moved.content.decode()
    assert not AuthorizationOverride.objects.exists()
