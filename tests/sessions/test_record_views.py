"""The session record page and its step endpoints: access, audit, re-shown errors, read-only once signed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from sessions.models import DoseAdministration, PreDoseCheck, VitalSign
from sessions.record.discharge import discharge_record, record_sign
from sessions.record.monitoring import scale_score_record, vital_sign_record

from .record_helpers import ALL_MET, book_session, check, checked_and_dosed

pytestmark = pytest.mark.django_db

STEP_URLS = (
    "record_check",
    "record_bp_acknowledge",
    "record_dose",
    "record_risk_acknowledge",
    "record_dosing_end",
    "record_top_up",
    "record_vitals",
    "record_score",
    "record_adverse_event",
    "record_adverse_event_resolve",
    "record_discharge",
    "record_sign",
    "record_amend",
)


@pytest.fixture
def session(patient, clinician, time_machine):
    booked = book_session(patient, clinician)
    time_machine.move_to(booked.starts_at + timedelta(minutes=5), tick=False)
    return booked


def url(name, session):
    return reverse(f"sessions:{name}", kwargs={"pk": session.pk})


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


CHECKLIST = {
    "check-is_consent_confirmed": "on",
    "check-is_fasting_confirmed": "on",
    "check-escort_name": "Sam Quill",
    "check-sbp": "124",
    "check-dbp": "78",
    "check-hr": "72",
    "check-spo2": "98",
    "check-rr": "14",
    "check-rescreen_code": "phq9_item9",
    "check-phq9_item9": "0",
    "check-is_possibly_pregnant": "0",
}


def test_record_page_shows_the_steps_and_records_the_read(client_for, clinician, session):
    response = client_for(clinician).get(url("record_detail", session))

    assert response.status_code == 200
    page = response.content.decode()
    for heading in ("Pre-dose checks", "Dose", "Monitoring", "Discharge", "Signature and amendments"):
        assert heading in page
    assert "No solid food or milk for 6 hours" in page  # the IV protocol's preparation instructions
    assert "0.5 mg/kg × 70.0 kg = 35.0 mg" in page
    read = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=clinician).get()
    assert read.object_pk == str(session.pk)


def test_intake_staff_and_admins_may_read_the_record(client_for, front_desk, admin_user, session):
    assert client_for(front_desk).get(url("record_detail", session)).status_code == 200
    assert client_for(admin_user).get(url("record_detail", session)).status_code == 200


def test_plan_page_links_each_session_to_its_record(client_for, clinician, session):
    page = client_for(clinician).get(reverse("sessions:plan_detail", kwargs={"pk": session.plan_id})).content.decode()

    assert url("record_detail", session) in page


def test_todays_sessions_on_the_clinician_home_link_to_the_record(client_for, clinician, session):
    page = client_for(clinician).get(reverse("homes:home")).content.decode()

    assert "My sessions today" in page
    assert url("record_detail", session) in page


def test_other_clinician_gets_404_on_the_record_page(client_for, other_clinician, session):
    assert client_for(other_clinician).get(url("record_detail", session)).status_code == 404


@pytest.mark.parametrize("name", STEP_URLS)
def test_other_clinician_gets_404_on_every_step(client_for, other_clinician, session, name):
    response = client_for(other_clinician).post(url(name, session), CHECKLIST)

    assert response.status_code == 404
    assert not PreDoseCheck.objects.exists()


@pytest.mark.parametrize("name", ("record_detail", *STEP_URLS))
def test_the_patient_is_refused_the_record_and_its_steps(client_for, patient_user, session, name):
    client = client_for(patient_user)
    response = client.get(url(name, session)) if name == "record_detail" else client.post(url(name, session))

    assert response.status_code in (403, 404)


def test_checklist_and_dose_posts_save_and_return_to_the_record(client_for, front_desk, clinician, session):
    response = client_for(front_desk).post(url("record_check", session), CHECKLIST)
    assert response.status_code == 302
    assert response["Location"] == url("record_detail", session) + "#check"
    assert PreDoseCheck.objects.get(session=session).is_complete

    client = client_for(clinician)
    response = client.post(
        url("record_dose", session),
        {"dose-dose": "0.5", "dose-dosed_at": local(timezone.now()), "dose-infusion_minutes": "40"},
    )
    assert response.status_code == 302
    assert DoseAdministration.objects.get(session=session).dose_mg_given == Decimal("35.0")


def test_a_refused_dose_shows_the_page_again_with_what_was_typed(client_for, clinician, session):
    check(session, clinician)

    response = client_for(clinician).post(
        url("record_dose", session), {"dose-dose": "1.5", "dose-override_reason": "short"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "outside IV ketamine induction&#x27;s range" in page
    assert 'value="1.5"' in page
    assert "short</textarea>" in page
    assert not DoseAdministration.objects.exists()


def test_the_record_page_shows_why_dosing_is_blocked(client_for, clinician, session):
    check(session, clinician, sbp=185, dbp=100)

    page = client_for(clinician).get(url("record_detail", session)).content.decode()

    assert 'data-testid="bp-hold"' in page
    assert "185/100 is on hard hold" in page
    assert url("record_bp_acknowledge", session) in page
    assert url("record_dose", session) not in page
    assert "I override the hard hold" in page


def test_a_raised_but_not_held_pressure_is_acknowledged_without_an_override_box(client_for, clinician, session):
    check(session, clinician, sbp=150, dbp=95)

    page = client_for(clinician).get(url("record_detail", session)).content.decode()

    assert "Acknowledge the raised blood pressure" in page
    assert "I override the hard hold" not in page


def test_intake_staff_are_not_offered_the_bp_override(client_for, front_desk, session):
    check(session, front_desk, sbp=150, dbp=95)

    page = client_for(front_desk).get(url("record_detail", session)).content.decode()

    assert 'data-testid="bp-flag"' in page
    assert url("record_bp_acknowledge", session) not in page
    assert client_for(front_desk).post(url("record_bp_acknowledge", session)).status_code == 403


def test_intake_staff_check_the_patient_in_but_a_clinician_records_the_dose(client_for, front_desk, session):
    """Least privilege: intake staff record the check-in and vitals; the dose is a clinician's act."""
    check(session, front_desk)
    client = client_for(front_desk)

    page = client.get(url("record_detail", session)).content.decode()
    assert url("record_dose", session) not in page
    assert 'data-testid="dose-by-clinician"' in page
    response = client.post(url("record_dose", session), {"dose-dose": "0.5", "dose-dosed_at": local(timezone.now())})
    assert response.status_code == 403
    assert not DoseAdministration.objects.exists()


def test_invalid_vitals_are_shown_again_with_a_400(client_for, clinician, session):
    checked_and_dosed(session, clinician)

    response = client_for(clinician).post(
        url("record_vitals", session), {"vitals-taken_at": local(timezone.now()), "vitals-sbp": "400"}
    )

    assert response.status_code == 400
    assert 'value="400"' in response.content.decode()
    assert not VitalSign.objects.exists()


def test_a_reading_saved_without_a_time_is_timed_when_it_is_saved(
    client_for, front_desk, clinician, session, time_machine
):
    given = checked_and_dosed(session, clinician)
    time_machine.move_to(given.dosed_at + timedelta(minutes=15), tick=False)
    client = client_for(front_desk)

    response = client.post(url("record_vitals", session), {"vitals-sbp": "132", "vitals-dbp": "84"})

    assert response.status_code == 302
    vital = VitalSign.objects.get()
    assert vital.taken_at == given.dosed_at + timedelta(minutes=15)
    assert vital.minutes_from_dose == 15


def test_early_discharge_is_refused_on_the_page(client_for, clinician, session):
    checked_and_dosed(session, clinician)
    data = {f"discharge-{name}": "on" for name in ALL_MET}

    response = client_for(clinician).post(url("record_discharge", session), data)

    assert response.status_code == 400
    assert "at least 60 minutes of monitoring" in response.content.decode()


@pytest.fixture
def signed(session, clinician, time_machine):
    given = checked_and_dosed(session, clinician)
    vital_sign_record(session=session, by=clinician, taken_at=given.dosed_at, sbp=128, dbp=82, hr=76)
    time_machine.move_to(given.dosed_at + timedelta(minutes=101), tick=False)
    scale_score_record(session=session, by=clinician, scale="moaas", score=5)
    discharge_record(session=session, by=clinician, criteria=ALL_MET)
    record_sign(session=session, by=clinician)
    return session


def test_a_signed_record_is_read_only_on_the_page(client_for, clinician, signed):
    page = client_for(clinician).get(url("record_detail", signed)).content.decode()

    assert 'data-testid="signed"' in page
    for name in STEP_URLS:
        if name != "record_amend":
            assert url(name, signed) not in page, name
    assert url("record_amend", signed) in page


def test_a_post_to_a_signed_record_is_refused_with_a_400(client_for, clinician, signed):
    response = client_for(clinician).post(
        url("record_vitals", signed), {"vitals-taken_at": local(timezone.now()), "vitals-hr": "70"}
    )

    assert response.status_code == 400
    assert "record is signed" in response.content.decode()
    assert signed.vital_signs.count() == 1


def test_an_amendment_is_added_to_a_signed_record(client_for, front_desk, signed):
    client = client_for(front_desk)

    response = client.post(url("record_amend", signed), {"amend-text": "Escort was the patient's sister."})

    assert response.status_code == 302
    page = client.get(url("record_detail", signed)).content.decode()
    assert "Escort was the patient&#x27;s sister." in page


def _add_vitals(session, by, count):
    dosed_at = session.dose_administration.dosed_at
    for i in range(count):
        at = dosed_at + timedelta(minutes=i)
        vital_sign_record(session=session, by=by, taken_at=at, sbp=120 + i, dbp=80)
        scale_score_record(session=session, by=by, scale="moaas", score=5, taken_at=at)


def test_record_page_queries_do_not_grow_with_the_timeline(
    client_for, clinician, session, time_machine, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    checked_and_dosed(session, clinician)
    time_machine.move_to(session.dose_administration.dosed_at + timedelta(minutes=50), tick=False)
    client = client_for(clinician)
    _add_vitals(session, clinician, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("record_detail", session)).status_code == 200

    _add_vitals(session, clinician, 30)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url("record_detail", session)).status_code == 200


def test_the_preparation_text_is_escaped_on_the_record_page(client_for, clinician, session):
    """Admins edit the text in the back office; the record page shows it as text, never as markup."""
    protocol = session.protocol
    protocol.preparation_instructions = 'Nothing by mouth <script>alert("x")</script> & bring an escort.'
    protocol.save(update_fields=["preparation_instructions"])
    page = client_for(clinician).get(url("record_detail", session)).content.decode()
    assert "<script>alert" not in page
    assert "Nothing by mouth &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; bring an escort." in page


@pytest.mark.parametrize(
    ("route", "label"),
    [("im", "Injection time"), ("iv", "Infusion start"), ("intranasal", "First device"), ("oral", "Dose taken")],
)
def test_the_dose_time_is_labelled_for_the_route(client_for, patient, clinician, time_machine, route, label):
    booked = book_session(patient, clinician, route=route)
    time_machine.move_to(booked.starts_at + timedelta(minutes=5), tick=False)
    check(booked, clinician)

    page = client_for(clinician).get(url("record_detail", booked)).content.decode()

    assert label in page
    assert "First device / infusion start" not in page
