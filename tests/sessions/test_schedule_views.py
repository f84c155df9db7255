"""Scheduling pages: plan preview and booking, reschedule, status buttons, the day/week schedule, and who may see them.

The clock is frozen on Tue 1 Dec 2026 10:00 in the clinic's time zone; the seeded clinic hours are Mon-Fri 08:00-18:00.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from patients.models import Patient
from patients.services import patient_create
from patients.status import Status
from sessions.models import ClinicClosure, ClinicHours, DosingSession, Protocol, Room, TreatmentPlan
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create

pytestmark = pytest.mark.django_db

CLINIC_TZ = ZoneInfo("America/New_York")
MON_7_DEC = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def clinic_clock(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=CLINIC_TZ), tick=False)


@pytest.fixture
def room(db):
    return Room.objects.create(name="Room A")


@pytest.fixture
def room_b(db):
    return Room.objects.create(name="Room B")


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def iv() -> Protocol:
    return Protocol.objects.get(route="iv")


def enroll(patient, clinician):
    return enrollment_create(
        patient=patient, by=clinician, override_justification="Screened on paper before the portal went live."
    )


def book_series(patient, clinician, room, *, first_day=MON_7_DEC, start_time=time(9)) -> TreatmentPlan:
    return plan_create(
        patient=patient,
        protocol=iv(),
        first_day=first_day,
        start_time=start_time,
        room=room,
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=clinician,
    )


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def enrolled(patient, clinician):
    enroll(patient, clinician)
    return patient


@pytest.fixture
def plan(enrolled, clinician, room):
    """The patient's IV series in Room A: Mon 7, Wed 9, Fri 11, Mon 14, Wed 16, Fri 18 Dec at 09:00."""
    return book_series(enrolled, clinician, room)


def sessions_of(plan) -> list[DosingSession]:
    return list(plan.sessions.order_by("sequence"))


# --- Plan: preview and confirm -----------------------------------------------------------------------------------


def plan_form(room, clinician, **changes) -> dict:
    data = {
        "protocol": iv().pk,
        "planned_dose": "0.5",
        "first_day": "2026-12-07",
        "start_time": "09:00",
        "room": room.pk,
        "clinician": clinician.pk,
        "action": "preview",
    }
    data.update(changes)
    return data


def test_plan_form_opens_with_tomorrow_and_the_signed_in_clinician(client_for, clinician, enrolled):
    response = client_for(clinician).get(reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk}))

    assert response.status_code == 200
    form = response.context["form"]
    assert form["first_day"].value() == date(2026, 12, 2)
    assert form["clinician"].value() == clinician.pk
    assert f'<option value="{clinician.pk}" selected>' in response.content.decode()


def test_preview_shows_the_proposed_dates_with_reasons_and_books_nothing(client_for, clinician, enrolled, room):
    ClinicClosure.objects.create(day=date(2026, 12, 18), reason="Staff training")
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    response = client_for(clinician).post(url, plan_form(room, clinician))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert [slot.start for slot in preview] == [datetime(2026, 12, day, 9, 0) for day in (7, 9, 11, 14, 16, 21)]
    html = response.content.decode()
    for shown in ("Mon 7 Dec 2026, 09:00–11:00", "Wed 9 Dec 2026, 09:00–11:00", "Mon 21 Dec 2026, 09:00–11:00"):
        assert shown in html
    assert "Moved from Fri 18 Dec: the clinic is closed that day." in html
    assert 'name="action" value="confirm"' in html
    assert "Book these 6 sessions" in html
    assert not TreatmentPlan.objects.exists()
    assert not DosingSession.objects.exists()


def test_confirm_books_the_series_and_goes_to_the_plan(client_for, clinician, enrolled, room):
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})
    client = client_for(clinician)

    response = client.post(url, plan_form(room, clinician, action="confirm"))

    plan = TreatmentPlan.objects.get(patient=enrolled)
    assert response.status_code == 302
    assert response.url == reverse("sessions:plan_detail", kwargs={"pk": plan.pk})
    assert flashed(response) == ["6 sessions booked."]
    assert [local(s.starts_at) for s in sessions_of(plan)] == [
        datetime(2026, 12, day, 9, 0) for day in (7, 9, 11, 14, 16, 18)
    ]
    enrolled.refresh_from_db()
    assert enrolled.status == Status.INDUCTION

    detail = client.get(response.url)
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Mon 7 Dec 2026, 09:00" in html and "Fri 18 Dec 2026, 09:00" in html
    assert html.count(">Reschedule</a>") == 6


def test_a_dose_outside_the_range_keeps_what_was_typed(client_for, clinician, enrolled, room):
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    response = client_for(clinician).post(url, plan_form(room, clinician, planned_dose="5", action="confirm"))

    assert response.status_code == 400
    assert response.context["form"].errors["planned_dose"] == ["IV ketamine induction allows 0.100–1.000 mg/kg."]
    html = response.content.decode()
    assert 'value="5"' in html
    assert 'value="2026-12-07"' in html
    assert 'value="09:00"' in html
    assert f'<option value="{room.pk}" selected>' in html
    assert not TreatmentPlan.objects.exists()


def test_a_series_with_no_usable_day_is_refused_on_the_form_with_the_reason(client_for, clinician, enrolled, room):
    ClinicHours.objects.all().delete()  # the clinic opens on no day: no session can be placed
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    for action in ("preview", "confirm"):
        response = client_for(clinician).post(url, plan_form(room, clinician, action=action))

        assert response.status_code == 400
        [refusal] = response.context["form"].non_field_errors()
        assert refusal.startswith("No usable slot for session 1 (induction) within 180 days of ")
        assert response.context["preview"] is None
        assert 'value="2026-12-07"' in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_a_first_day_in_the_past_is_refused(client_for, clinician, enrolled, room):
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    response = client_for(clinician).post(url, plan_form(room, clinician, first_day="2026-11-30"))

    assert response.status_code == 400
    assert response.context["form"].errors["first_day"] == ["Choose today or a later day."]
    assert 'value="2026-11-30"' in response.content.decode()


def test_a_taken_slot_on_confirm_books_nothing_and_says_which(
    client_for, clinician, other_clinician, enrolled, other_patient, room
):
    enroll(other_patient, other_clinician)
    book_series(other_patient, other_clinician, room, first_day=date(2026, 12, 14), start_time=time(10))
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    response = client_for(clinician).post(url, plan_form(room, clinician, action="confirm"))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Room A is already booked at Mon 14 Dec 09:00.",
        "Room A is already booked at Wed 16 Dec 09:00.",
        "Room A is already booked at Fri 18 Dec 09:00.",
    ]
    assert "Room A is already booked at Mon 14 Dec 09:00." in response.content.decode()
    assert 'value="0.5"' in response.content.decode()
    assert not TreatmentPlan.objects.filter(patient=enrolled).exists()
    enrolled.refresh_from_db()
    assert enrolled.status == Status.ENROLLED


def test_the_preview_marks_clashing_dates_before_booking(
    client_for, clinician, other_clinician, enrolled, other_patient, room
):
    enroll(other_patient, other_clinician)
    book_series(other_patient, other_clinician, room, first_day=date(2026, 12, 14), start_time=time(10))
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    response = client_for(clinician).post(url, plan_form(room, clinician, action="preview"))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="preview-clash"') == 3
    assert "Room A is already booked at Mon 14 Dec 09:00." in body
    assert "3 of these dates clash with other bookings" in body
    assert not TreatmentPlan.objects.filter(patient=enrolled).exists()


def test_the_clinician_chooses_the_number_of_induction_sessions(client_for, clinician, enrolled, room):
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})
    client = client_for(clinician)

    preview = client.post(url, plan_form(room, clinician, induction_sessions="4"))
    booked = client.post(url, plan_form(room, clinician, induction_sessions="4", action="confirm"))

    assert len(preview.context["preview"]) == 4
    assert "Book these 4 sessions" in preview.content.decode()
    assert booked.status_code == 302
    assert TreatmentPlan.objects.get(patient=enrolled).sessions.count() == 4


def test_an_induction_length_outside_the_protocols_bounds_is_refused_on_the_field(
    client_for, clinician, enrolled, room
):
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    response = client_for(clinician).post(url, plan_form(room, clinician, induction_sessions="20", action="confirm"))

    assert response.status_code == 400
    assert response.context["form"].errors["induction_sessions"] == [
        "Choose between 3 and 12 induction sessions for this protocol."
    ]
    assert not TreatmentPlan.objects.filter(patient=enrolled).exists()


def test_planning_without_an_enrollment_is_explained(client_for, clinician, patient, room):
    url = reverse("sessions:plan_create", kwargs={"patient_pk": patient.pk})

    response = client_for(clinician).post(url, plan_form(room, clinician, action="confirm"))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["Enroll the patient before planning treatment."]


# --- Reschedule ----------------------------------------------------------------------------------------------------


def test_reschedule_page_offers_the_current_start(client_for, clinician, plan):
    second = sessions_of(plan)[1]

    response = client_for(clinician).get(reverse("sessions:session_reschedule", kwargs={"pk": second.pk}))

    assert response.status_code == 200
    assert 'value="2026-12-09T09:00"' in response.content.decode()


def test_reschedule_moves_the_session_and_the_ones_it_pushes(client_for, clinician, plan):
    second = sessions_of(plan)[1]
    url = reverse("sessions:session_reschedule", kwargs={"pk": second.pk})

    response = client_for(clinician).post(url, {"new_start": "2026-12-09T11:00"})

    assert response.status_code == 302
    assert response.url == reverse("sessions:plan_detail", kwargs={"pk": plan.pk})
    assert flashed(response) == [
        "Moved session 2 to Wed 9 Dec 11:00. Later sessions moved to keep the interval: session 3 to Fri 11 Dec 11:00."
    ]
    assert [local(s.starts_at) for s in sessions_of(plan)][:4] == [
        datetime(2026, 12, 7, 9, 0),
        datetime(2026, 12, 9, 11, 0),
        datetime(2026, 12, 11, 11, 0),
        datetime(2026, 12, 14, 9, 0),
    ]


def test_reschedule_to_a_closed_day_is_refused_with_the_reason(client_for, front_desk, plan):
    ClinicClosure.objects.create(day=date(2026, 12, 10))
    second = sessions_of(plan)[1]
    url = reverse("sessions:session_reschedule", kwargs={"pk": second.pk})

    response = client_for(front_desk).post(url, {"new_start": "2026-12-10T09:00"})

    assert response.status_code == 400
    assert "the clinic is closed that day" in response.content.decode()
    assert 'value="2026-12-10T09:00"' in response.content.decode()
    second.refresh_from_db()
    assert local(second.starts_at) == datetime(2026, 12, 9, 9, 0)


# --- Status buttons -------------------------------------------------------------------------------------------------


def test_cancel_with_a_reason_and_who_cancelled_cancels(client_for, front_desk, plan):
    first = sessions_of(plan)[0]
    page = client_for(front_desk).get(reverse("sessions:plan_detail", kwargs={"pk": plan.pk})).content.decode()
    assert "The patient cancelled" in page and "The clinic cancelled" in page

    response = client_for(front_desk).post(
        reverse("sessions:session_cancel", kwargs={"pk": first.pk}), {"reason": "Fever", "cancelled_by": "patient"}
    )

    assert response.status_code == 302
    assert response.url == reverse("sessions:plan_detail", kwargs={"pk": plan.pk})
    first.refresh_from_db()
    assert (first.status, first.status_reason, first.cancelled_by) == (
        DosingSession.Status.CANCELLED,
        "Fever",
        "patient",
    )
    page = client_for(front_desk).get(reverse("sessions:plan_detail", kwargs={"pk": plan.pk})).content.decode()
    assert "Cancelled by the patient" in page
    record = client_for(front_desk).get(reverse("sessions:record_detail", kwargs={"pk": first.pk})).content.decode()
    assert "Cancelled by the patient" in record


@pytest.mark.parametrize(
    ("data", "error", "kept"),
    [
        ({"reason": "Clinician unwell"}, "Say who cancelled: the patient or the clinic.", 'value="Clinician unwell"'),
        ({"reason": "", "cancelled_by": "clinic"}, "Give a reason for the cancellation.", 'value="clinic"[^>]*checked'),
        ({"reason": "Fever", "cancelled_by": "nobody"}, "Select a valid choice", 'value="Fever"'),
    ],
)
def test_cancel_without_a_reason_or_who_cancelled_changes_nothing_and_shows_what_was_typed(
    client_for, front_desk, plan, data, error, kept
):
    first = sessions_of(plan)[0]

    response = client_for(front_desk).post(reverse("sessions:session_cancel", kwargs={"pk": first.pk}), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert error in page and re.search(kept, page)
    first.refresh_from_db()
    assert (first.status, first.cancelled_by) == (DosingSession.Status.SCHEDULED, None)


def test_check_in_then_back_to_the_schedule(client_for, front_desk, plan, time_machine):
    first = sessions_of(plan)[0]
    time_machine.move_to(at(MON_7_DEC, 8, 50), tick=False)  # the session's day
    back = reverse("sessions:schedule") + "?day=2026-12-07"

    response = client_for(front_desk).post(
        reverse("sessions:session_check_in", kwargs={"pk": first.pk}), {"next": back}
    )

    assert response.status_code == 302
    assert response.url == back
    first.refresh_from_db()
    assert first.status == DosingSession.Status.CHECKED_IN


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_status_buttons_never_redirect_off_site(client_for, front_desk, plan, target, time_machine):
    first = sessions_of(plan)[0]
    time_machine.move_to(at(MON_7_DEC, 8, 50), tick=False)  # the session's day

    response = client_for(front_desk).post(
        reverse("sessions:session_check_in", kwargs={"pk": first.pk}), {"next": target}
    )

    assert response.status_code == 302
    # Either the plan page, or (for "/\\evil.example/") a path on this site with the backslash escaped.
    assert url_has_allowed_host_and_scheme(response.url, allowed_hosts={"testserver"})
    assert response.url.startswith("/") and not response.url.startswith("//")


def test_no_show_before_the_start_is_refused_and_after_it_is_recorded(client_for, front_desk, plan, time_machine):
    first = sessions_of(plan)[0]
    url = reverse("sessions:session_no_show", kwargs={"pk": first.pk})

    time_machine.move_to(at(MON_7_DEC, 8, 30), tick=False)
    early = client_for(front_desk).post(url)
    assert early.status_code == 302
    assert flashed(early) == ["A session cannot be marked as a no-show before it starts."]
    first.refresh_from_db()
    assert first.status == DosingSession.Status.SCHEDULED

    time_machine.move_to(at(MON_7_DEC, 9, 20), tick=False)
    late = client_for(front_desk).post(url)
    assert late.status_code == 302
    first.refresh_from_db()
    assert first.status == DosingSession.Status.NO_SHOW


@pytest.mark.parametrize("name", ["session_cancel", "session_check_in", "session_check_in_undo", "session_no_show"])
def test_status_changes_accept_post_only(client_for, front_desk, plan, name):
    first = sessions_of(plan)[0]

    response = client_for(front_desk).get(reverse(f"sessions:{name}", kwargs={"pk": first.pk}))

    assert response.status_code == 405


def test_booster_button_books_one_booster(client_for, clinician, plan):
    plan.sessions.update(status=DosingSession.Status.COMPLETED)  # test setup: the induction series attended
    response = client_for(clinician).post(reverse("sessions:booster_book", kwargs={"pk": plan.pk}))

    assert response.status_code == 302
    assert flashed(response) == ["Booster booked for Fri 15 Jan 08:00."]
    assert plan.sessions.filter(kind=DosingSession.Kind.BOOSTER).count() == 1


def test_a_booster_with_no_usable_day_is_refused_with_the_reason_once(client_for, clinician, plan):
    plan.sessions.update(status=DosingSession.Status.COMPLETED)  # test setup: the induction series attended
    ClinicHours.objects.all().delete()  # the clinic opens on no day

    response = client_for(clinician).post(reverse("sessions:booster_book", kwargs={"pk": plan.pk}))

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert page.count("No usable slot for the booster within 180 days of Fri 15 Jan") == 1
    assert not plan.sessions.filter(kind=DosingSession.Kind.BOOSTER).exists()


def test_a_booster_asked_for_during_induction_is_refused_with_the_reason(client_for, clinician, plan):
    response = client_for(clinician).post(reverse("sessions:booster_book", kwargs={"pk": plan.pk}))

    assert response.status_code == 400  # the booster page again, saying why
    page = response.content.decode()
    reason = (
        "No booster during induction: 6 induction sessions are still ahead. "
        "Book a booster once the induction series is over."
    )
    assert page.count(reason) == 1
    assert "Book this booster" not in page
    assert not plan.sessions.filter(kind=DosingSession.Kind.BOOSTER).exists()


def test_book_a_booster_is_not_offered_while_the_plan_is_in_induction(client_for, clinician, plan):
    url = reverse("sessions:plan_detail", kwargs={"pk": plan.pk})
    in_induction = client_for(clinician).get(url).content.decode()
    # Test setup: the induction series is over (attended) and the patient moved on to maintenance.
    plan.sessions.update(status=DosingSession.Status.COMPLETED)
    Patient.objects.filter(pk=plan.patient_id).update(status="maintenance")
    in_maintenance = client_for(clinician).get(url).content.decode()

    assert "Book a booster" not in in_induction
    assert "Book a booster" in in_maintenance


# --- Schedule: day and week ------------------------------------------------------------------------------------------


def listed(response) -> dict[date, list[DosingSession]]:
    return {day: list(sessions) for day, sessions in response.context["by_day"]}


def test_day_view_lists_the_days_sessions(client_for, front_desk, plan):
    response = client_for(front_desk).get(reverse("sessions:schedule"), {"day": "2026-12-09"})

    assert response.status_code == 200
    days = listed(response)
    assert list(days) == [date(2026, 12, 9)]
    assert [s.sequence for s in days[date(2026, 12, 9)]] == [2]
    html = response.content.decode()
    assert plan.patient.mrn in html
    assert "09:00–11:00" in html
    assert "Wednesday 9 Dec 2026" in html


def test_week_view_starts_on_monday_and_lists_the_week(client_for, front_desk, plan):
    response = client_for(front_desk).get(reverse("sessions:schedule"), {"day": "2026-12-10", "span": "week"})

    assert response.status_code == 200
    assert response.context["day"] == MON_7_DEC
    days = listed(response)
    assert list(days) == [MON_7_DEC + timedelta(days=n) for n in range(7)]
    assert {d: [s.sequence for s in found] for d, found in days.items() if found} == {
        date(2026, 12, 7): [1],
        date(2026, 12, 9): [2],
        date(2026, 12, 11): [3],
    }
    assert response.content.decode().count(plan.patient.mrn) == 3


@pytest.fixture
def two_rooms(plan, other_patient, clinician, other_clinician, room_b):
    """A second patient's series in Room B with other_clinician, Mondays, Wednesdays and Fridays at 13:00."""
    enroll(other_patient, other_clinician)
    return book_series(other_patient, other_clinician, room_b, start_time=time(13))


def test_schedule_filters_by_room(client_for, front_desk, plan, two_rooms, room_b):
    response = client_for(front_desk).get(reverse("sessions:schedule"), {"day": "2026-12-07", "room": room_b.pk})

    shown = listed(response)[MON_7_DEC]
    assert [s.plan_id for s in shown] == [two_rooms.pk]
    assert response.context["room"] == room_b


def test_schedule_filters_by_clinician(client_for, front_desk, plan, two_rooms, clinician):
    response = client_for(front_desk).get(
        reverse("sessions:schedule"), {"day": "2026-12-07", "span": "week", "clinician": clinician.pk}
    )

    shown = [s for _, found in response.context["by_day"] for s in found]
    assert {s.plan_id for s in shown} == {plan.pk}
    assert len(shown) == 3


def test_schedule_shows_a_clinician_only_their_patients(client_for, clinician, plan, two_rooms):
    response = client_for(clinician).get(reverse("sessions:schedule"), {"day": "2026-12-07"})

    assert [s.plan_id for s in listed(response)[MON_7_DEC]] == [plan.pk]
    assert two_rooms.patient.mrn not in response.content.decode()


@pytest.mark.parametrize("query", [{"room": "abc"}, {"clinician": "x"}, {"room": "1.5", "clinician": ""}])
def test_schedule_ignores_a_filter_that_is_not_a_number(client_for, front_desk, plan, query):
    response = client_for(front_desk).get(reverse("sessions:schedule"), {"day": "2026-12-07", **query})

    assert response.status_code == 200
    assert [s.plan_id for s in listed(response)[MON_7_DEC]] == [plan.pk]
    assert response.context["room"] is None and response.context["clinician"] is None


def test_schedule_keeps_a_constant_number_of_queries(
    client_for, front_desk, clinician, room, plan, django_assert_max_num_queries
):
    def book_more():
        _book_more(clinician, room, (11, 13, 15))
        assert DosingSession.objects.count() == 24

    week = {"day": "2026-12-07", "span": "week"}
    response = _after_more_bookings(client_for(front_desk), week, book_more, django_assert_max_num_queries)
    assert sum(len(found) for _, found in response.context["by_day"]) == 12


def _after_more_bookings(client, params, book_more, django_assert_max_num_queries):
    """The schedule with `params` once more bookings are made, held to the queries it ran before them."""
    url = reverse("sessions:schedule")
    client.get(url, params)  # warm the per-process caches (content types, clinic settings)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    book_more()
    with django_assert_max_num_queries(len(few)):
        return client.get(url, params)


def _book_more(clinician, room, hours):
    for n, hour in enumerate(hours):
        other = patient_create(
            created_by=None,
            given_name=f"G{n}",
            family_name=f"Busy{n}",
            date_of_birth=date(1980, 1, 1),
            primary_clinician=clinician,
        )
        enroll(other, clinician)
        book_series(other, clinician, room, start_time=time(hour))


def test_the_week_shows_the_first_sessions_of_each_day_and_links_to_the_day_for_the_rest(
    client_for, front_desk, clinician, room, plan, monkeypatch
):
    monkeypatch.setattr("sessions.scheduling.views.WEEK_DAY_LIMIT", 2)
    _book_more(clinician, room, (11, 13, 15))  # four sessions on Mon, Wed and Fri

    response = client_for(front_desk).get(
        reverse("sessions:schedule"), {"day": "2026-12-07", "span": "week", "clinician": clinician.pk}
    )

    days = listed(response)
    assert {d: [s.times for s in found] for d, found in days.items() if found} == {
        d: ["09:00–11:00", "11:00–13:00"] for d in (date(2026, 12, 7), date(2026, 12, 9), date(2026, 12, 11))
    }
    html = response.content.decode()
    more = html.split('data-testid="more-2026-12-09"', 1)[1].split("</p>", 1)[0]
    assert "2 more on Wednesday 9 Dec" in more
    assert f"?day=2026-12-09&amp;span=day&amp;clinician={clinician.pk}" in more
    assert 'data-testid="more-2026-12-08"' not in html
    # The day it links to lists all four.
    day = client_for(front_desk).get(reverse("sessions:schedule"), {"day": "2026-12-09", "clinician": clinician.pk})
    assert len(listed(day)[date(2026, 12, 9)]) == 4
    assert 'data-testid="more-' not in day.content.decode()


def test_the_week_records_reads_only_of_the_patients_it_shows(
    client_for, front_desk, clinician, room, plan, monkeypatch
):
    monkeypatch.setattr("sessions.scheduling.views.WEEK_DAY_LIMIT", 1)
    _book_more(clinician, room, (11,))

    client_for(front_desk).get(reverse("sessions:schedule"), {"day": "2026-12-07", "span": "week"})

    read = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=front_desk)
    assert {e.additional_data["patient_id"] for e in read} == {plan.patient_id}
    # The entry names the patient's first booking shown, as the booking names itself.
    first = plan.sessions.order_by("starts_at").first()
    assert [(e.content_type.model_class(), e.object_id, e.object_repr) for e in read] == [
        (DosingSession, first.pk, str(first))
    ]


def test_a_bounded_week_keeps_a_constant_number_of_queries(
    client_for, front_desk, clinician, room, plan, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr("sessions.scheduling.views.WEEK_DAY_LIMIT", 2)
    week = {"day": "2026-12-07", "span": "week"}
    response = _after_more_bookings(
        client_for(front_desk), week, lambda: _book_more(clinician, room, (11, 13, 15)), django_assert_max_num_queries
    )
    assert sum(len(found) for _, found in response.context["by_day"]) == 6
    assert sum(found.more for _, found in response.context["by_day"]) == 6


def test_the_day_is_shown_a_page_at_a_time_in_time_order_and_the_pages_keep_the_filters(
    client_for, front_desk, clinician, room, plan, monkeypatch
):
    monkeypatch.setattr("sessions.scheduling.views.DAY_PAGE_SIZE", 3)
    _book_more(clinician, room, (11, 13, 15))  # four sessions on Wed 9 Dec
    client = client_for(front_desk)
    url = reverse("sessions:schedule")
    day = {"day": "2026-12-09", "clinician": clinician.pk}

    first = client.get(url, day)

    assert [s.times for s in listed(first)[date(2026, 12, 9)]] == ["09:00–11:00", "11:00–13:00", "13:00–15:00"]
    html = unescape(first.content.decode())
    assert "Sessions 1–3 of 4, in time order" in html
    assert f'href="?day=2026-12-09&clinician={clinician.pk}&page=2"' in html
    second = client.get(url, {**day, "page": 2})
    assert [s.times for s in listed(second)[date(2026, 12, 9)]] == ["15:00–17:00"]
    assert "Sessions 4–4 of 4, in time order" in second.content.decode()
    # Only the patients on the page shown are recorded as read.
    read = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=front_desk)
    assert read.count() == 4
    # A day that fits on one page has no page links.
    assert "Sessions 1–" not in client.get(url, {"day": "2026-12-08"}).content.decode()


def test_previous_and_next_keep_the_room_and_clinician(client_for, front_desk, plan, clinician, room):
    response = client_for(front_desk).get(
        reverse("sessions:schedule"), {"day": "2026-12-09", "span": "week", "room": room.pk, "clinician": clinician.pk}
    )

    html = unescape(response.content.decode())
    assert f'href="?day=2026-11-30&span=week&room={room.pk}&clinician={clinician.pk}"' in html
    assert f'href="?day=2026-12-14&span=week&room={room.pk}&clinician={clinician.pk}"' in html


def test_a_day_of_many_pages_keeps_a_constant_number_of_queries(
    client_for, front_desk, clinician, room, plan, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr("sessions.scheduling.views.DAY_PAGE_SIZE", 2)
    day = {"day": "2026-12-09", "page": 2}
    response = _after_more_bookings(
        client_for(front_desk), day, lambda: _book_more(clinician, room, (11, 13, 15)), django_assert_max_num_queries
    )
    assert len(listed(response)[date(2026, 12, 9)]) == 2


def test_schedule_shows_local_times_on_both_sides_of_the_dst_change(
    client_for, clinician, enrolled, room, time_machine
):
    time_machine.move_to(datetime(2026, 10, 20, 10, 0, tzinfo=CLINIC_TZ), tick=False)
    book_series(enrolled, clinician, room, first_day=date(2026, 10, 26))
    client = client_for(clinician)

    for day in ("2026-10-30", "2026-11-02"):
        response = client.get(reverse("sessions:schedule"), {"day": day})
        assert "09:00–11:00" in response.content.decode(), day
        assert len(listed(response)[date.fromisoformat(day)]) == 1


# --- Who may see what ---------------------------------------------------------------------------------------------


def test_other_clinician_gets_404_for_a_patient_in_someone_elses_care(client_for, other_clinician, plan):
    first = sessions_of(plan)[0]
    client = client_for(other_clinician)

    assert client.get(reverse("sessions:plan_detail", kwargs={"pk": plan.pk})).status_code == 404
    assert client.get(reverse("sessions:session_reschedule", kwargs={"pk": first.pk})).status_code == 404
    moved = client.post(
        reverse("sessions:session_reschedule", kwargs={"pk": first.pk}), {"new_start": "2026-12-07T10:00"}
    )
    assert moved.status_code == 404
    cancelled = client.post(
        reverse("sessions:session_cancel", kwargs={"pk": first.pk}), {"reason": "Not mine", "cancelled_by": "clinic"}
    )
    assert cancelled.status_code == 404
    assert client.post(reverse("sessions:session_check_in", kwargs={"pk": first.pk})).status_code == 404
    assert client.post(reverse("sessions:session_check_in_undo", kwargs={"pk": first.pk})).status_code == 404
    assert client.post(reverse("sessions:booster_book", kwargs={"pk": plan.pk})).status_code == 404
    planned = client.get(reverse("sessions:plan_create", kwargs={"patient_pk": plan.patient.pk}))
    assert planned.status_code == 404
    first.refresh_from_db()
    assert (first.status, local(first.starts_at)) == (DosingSession.Status.SCHEDULED, datetime(2026, 12, 7, 9, 0))


def test_other_clinician_does_not_see_the_session_on_the_schedule(client_for, other_clinician, plan):
    response = client_for(other_clinician).get(reverse("sessions:schedule"), {"day": "2026-12-07"})

    assert listed(response)[MON_7_DEC] == []
    assert plan.patient.mrn not in response.content.decode()


def test_a_patient_gets_403_on_the_scheduling_pages(client_for, patient_user, plan):
    first = sessions_of(plan)[0]
    client = client_for(patient_user)

    for url in (
        reverse("sessions:plan_detail", kwargs={"pk": plan.pk}),
        reverse("sessions:session_reschedule", kwargs={"pk": first.pk}),
        reverse("sessions:schedule"),
        reverse("sessions:plan_create", kwargs={"patient_pk": plan.patient.pk}),
    ):
        assert client.get(url).status_code == 403, url
    for name in ("session_cancel", "session_check_in", "session_check_in_undo", "session_no_show"):
        url = reverse(f"sessions:{name}", kwargs={"pk": first.pk})
        assert client.post(url, {"reason": "Can't come", "cancelled_by": "patient"}).status_code == 403, url
    first.refresh_from_db()
    assert first.status == DosingSession.Status.SCHEDULED


def test_front_desk_may_not_plan(client_for, front_desk, enrolled, room, clinician):
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})

    response = client_for(front_desk).post(url, plan_form(room, clinician, action="confirm"))

    assert response.status_code == 403
    assert not TreatmentPlan.objects.exists()
