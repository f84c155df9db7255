"""Every booking change goes through the booking checks: boosters and planned-dose changes like series planning and
rescheduling, each check told the sessions as they would be and as they were (`before`). A check registered here
stands for any app's (billing's authorization check is tested in tests/billing/test_forecast.py)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions.models import DosingSession, Room
from sessions.scheduling import checks
from sessions.scheduling.boosters import booster_book, booster_preview
from sessions.scheduling.changes import session_reschedule
from sessions.scheduling.dose import session_planned_dose_set

from .test_scheduling import at, enroll, induction_attended, plan_series, series

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clinic_clock(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York")), tick=False)


class Recorder:
    """A booking check that blocks every booking it is asked about and remembers what it was told."""

    def __init__(self):
        self.calls = []

    def __call__(self, *, patient_id, planned, moving, override_reason, by, commit):
        self.calls.append(
            {"planned": planned, "moving": moving, "override_reason": override_reason, "by": by, "commit": commit}
        )
        problem = "Test check: this booking needs a reason."
        forecast = checks.BookingForecast(
            title="Test check",
            link="/",
            total=4,
            used=1,
            booked=1,
            planned=len(planned),
            window="Dec",
            problems=(problem,),
        )
        return [forecast.blocked()] if planned else [forecast]

    def committed(self):
        return [call for call in self.calls if call["commit"]]


@pytest.fixture
def recorder(monkeypatch):
    check = Recorder()
    monkeypatch.setitem(checks._checks, "test check", check)
    return check


@pytest.fixture
def plan(patient, clinician):
    enroll(patient, clinician)
    return plan_series(patient, clinician, Room.objects.create(name="Room A"))


def test_a_booster_is_refused_by_a_blocking_check_unless_the_clinician_writes_why(plan, clinician, recorder):
    induction_attended(plan)

    with pytest.raises(ValidationError) as refused:
        booster_book(plan=plan, by=clinician)
    assert "Test check: this booking needs a reason." in refused.value.messages
    assert not DosingSession.objects.filter(kind=DosingSession.Kind.BOOSTER).exists()

    booster = booster_book(plan=plan, by=clinician, booking_override_reason="Payer agreed by phone")
    (call,) = recorder.committed()[-1:]
    (planned,) = call["planned"]
    assert (planned.pk, planned.starts_at, planned.dose, planned.before) == (
        booster.pk,
        booster.starts_at,
        booster.planned_dose,
        None,  # a new booking: nothing to compare with
    )
    assert call["moving"] == (booster.pk,) and call["override_reason"] == "Payer agreed by phone"


def test_the_booster_preview_is_the_booster_booked(plan, clinician, recorder):
    induction_attended(plan)

    proposed, forecasts = booster_preview(plan=plan)

    assert proposed.pk is None and forecasts[-1].blocking
    assert not recorder.committed()
    booster = booster_book(plan=plan, by=clinician, booking_override_reason="Payer agreed by phone")
    assert (booster.starts_at, booster.room, booster.planned_dose) == (
        proposed.starts_at,
        proposed.room,
        proposed.planned_dose,
    )


def test_the_booster_page_shows_the_forecast_and_keeps_the_form_when_refused(client_for, plan, clinician, recorder):
    induction_attended(plan)
    client = client_for(clinician)
    url = reverse("sessions:booster_book", kwargs={"pk": plan.pk})

    page = client.get(url).content.decode()
    assert 'data-testid="booking-forecast"' in page and "Test check: this booking needs a reason." in page
    assert 'data-testid="booster-proposed"' in page and "Book anyway because" in page

    refused = client.post(url, {"booking_override_reason": ""})
    assert refused.status_code == 400
    assert "refuses these bookings unless you write why" in refused.content.decode()
    assert not DosingSession.objects.filter(kind=DosingSession.Kind.BOOSTER).exists()

    booked = client.post(url, {"booking_override_reason": "Payer agreed by phone"})
    assert booked.status_code == 302
    assert DosingSession.objects.filter(kind=DosingSession.Kind.BOOSTER).count() == 1


def test_a_planned_dose_change_is_a_booking_change(plan, clinician, recorder):
    session = series(plan)[2]
    old = session.planned_dose
    new = old + Decimal("0.1")

    with pytest.raises(ValidationError):
        session_planned_dose_set(session=session, dose=new, by=clinician)
    session.refresh_from_db()
    assert session.planned_dose == old  # refused: nothing changed

    session_planned_dose_set(session=session, dose=new, by=clinician, booking_override_reason="Agreed with payer")
    session.refresh_from_db()
    assert session.planned_dose == new
    (planned,) = recorder.committed()[-1]["planned"]
    assert (planned.pk, planned.dose, planned.before.dose, planned.before.starts_at) == (
        session.pk,
        new,
        old,
        session.starts_at,
    )
    assert recorder.committed()[-1]["moving"] == (session.pk,)


def test_a_refused_dose_change_shows_the_page_again_with_what_was_typed(client_for, plan, clinician, recorder):
    session = series(plan)[2]
    url = reverse("sessions:session_dose", kwargs={"pk": session.pk})

    refused = client_for(clinician).post(url, {"dose": "0.6", "override_reason": "", "booking_override_reason": ""})

    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'value="0.6"' in page and "Test check: this booking needs a reason." in page
    assert "Book anyway because" in page


def test_a_move_tells_the_checks_where_each_session_was(plan, clinician, recorder):
    session = series(plan)[5]  # the last: nothing after it moves
    was = session.starts_at

    session_reschedule(
        session=session,
        new_start=at(timezone.localdate(was) + timedelta(days=3)),
        by=clinician,
        booking_override_reason="ok",
    )

    (planned,) = recorder.committed()[-1]["planned"]
    assert planned.before.starts_at == was and planned.starts_at != was
    assert timezone.localtime(planned.starts_at).hour == 9


def test_check_first_shows_what_the_checks_say_of_the_typed_dose_and_saves_nothing(
    client_for, plan, clinician, recorder
):
    session = series(plan)[2]
    old = session.planned_dose
    client = client_for(clinician)
    assert (
        'name="action" value="check"'
        in client.get(reverse("sessions:plan_detail", kwargs={"pk": plan.pk})).content.decode()
    )
    url = reverse("sessions:session_dose", kwargs={"pk": session.pk})

    checked = client.post(url, {"dose": "0.6", "override_reason": "", "action": "check"})

    assert checked.status_code == 200
    page = checked.content.decode()
    assert "Nothing is saved until you press" in page and 'value="0.6"' in page
    assert "Test check: this booking needs a reason." in page
    (asked,) = [call for call in recorder.calls if not call["commit"]]
    assert asked["planned"][0].dose == Decimal("0.6") and asked["moving"] == (session.pk,)
    session.refresh_from_db()
    assert session.planned_dose == old and not recorder.committed()

    bad = client.post(url, {"dose": "lots", "action": "check"})
    assert bad.status_code == 400 and 'value="lots"' in bad.content.decode()
