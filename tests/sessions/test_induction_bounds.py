"""The induction lengths a clinician may plan are the protocol's own fields, seeded from the cadence rules.

The clock is frozen on Tue 1 Dec 2026 10:00 in the clinic's time zone; the seeded clinic hours are Mon-Fri 08:00-18:00.
"""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse

from kap_clinic.rules.cadence import DEFAULT_RULES, Route, induction_bounds
from sessions import reference_data
from sessions.admin import ProtocolPhaseInline
from sessions.models import Protocol, Room, TreatmentPlan
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create, plan_preview

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
def enrolled(patient, clinician):
    enrollment_create(patient=patient, by=clinician, override_justification="Screened on paper before the portal.")
    return patient


def iv() -> Protocol:
    return Protocol.objects.get(route="iv")


def narrowed_iv(low: int, high: int) -> Protocol:
    Protocol.objects.filter(route="iv").update(induction_min_sessions=low, induction_max_sessions=high)
    return iv()


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


def test_seeded_protocols_carry_the_cadence_rules_default_bounds():
    for protocol in Protocol.objects.all():
        expected = induction_bounds(DEFAULT_RULES[Route(protocol.route)])
        assert (protocol.induction_min_sessions, protocol.induction_max_sessions) == expected
    assert iv().induction_bounds() == (3, 12)
    assert Protocol.objects.get(route="intranasal").induction_bounds() == (8, 8)  # the Spravato label's induction


def test_the_data_step_fills_protocols_without_bounds_from_their_own_phases():
    protocol = Protocol.objects.get(route="im")
    protocol.phases.filter(name="induction").update(sessions=4)
    Protocol.objects.filter(pk=protocol.pk).update(induction_min_sessions=None, induction_max_sessions=None)
    Protocol.objects.filter(route="iv").update(induction_min_sessions=5, induction_max_sessions=7)

    reference_data.fill_induction_bounds(apps)

    protocol.refresh_from_db()
    assert (protocol.induction_min_sessions, protocol.induction_max_sessions) == (2, 8)
    assert iv().induction_bounds() == (5, 7)  # a clinic's own bounds stay as they are


@pytest.mark.parametrize(("low", "high"), [(0, 6), (7, 5), (3, None)])
def test_the_database_refuses_bounds_out_of_order(low, high):
    with pytest.raises(IntegrityError), transaction.atomic():
        Protocol.objects.filter(route="iv").update(induction_min_sessions=low, induction_max_sessions=high)


def test_the_protocol_form_explains_bounds_out_of_order():
    protocol = iv()
    protocol.induction_min_sessions, protocol.induction_max_sessions = 7, 5
    with pytest.raises(ValidationError) as refused:
        protocol.full_clean()
    assert refused.value.message_dict["induction_max_sessions"] == [
        "The most induction sessions cannot be fewer than the fewest."
    ]


def test_the_service_refuses_an_induction_length_outside_the_protocols_own_bounds(enrolled, clinician):
    protocol = narrowed_iv(5, 7)

    with pytest.raises(ValidationError) as refused:
        plan_preview(
            patient=enrolled,
            protocol=protocol,
            first_day=MON_7_DEC,
            start_time=time(9),
            clinician=clinician,
            induction_sessions=4,
        )
    slots = plan_preview(
        patient=enrolled,
        protocol=protocol,
        first_day=MON_7_DEC,
        start_time=time(9),
        clinician=clinician,
        induction_sessions=7,
    )

    assert refused.value.message_dict == {
        "induction_sessions": ["Choose between 5 and 7 induction sessions for this protocol."]
    }
    assert len(slots) == 7


def test_booking_outside_the_protocols_bounds_books_nothing(enrolled, clinician, room):
    protocol = narrowed_iv(6, 6)

    with pytest.raises(ValidationError, match="This protocol's induction is 6 sessions."):
        plan_create(
            patient=enrolled,
            protocol=protocol,
            first_day=MON_7_DEC,
            start_time=time(9),
            room=room,
            clinician=clinician,
            planned_dose=Decimal("0.5"),
            by=clinician,
            induction_sessions=12,
        )
    assert not TreatmentPlan.objects.filter(patient=enrolled).exists()


def test_the_planner_form_offers_each_protocols_bounds_and_refuses_others(client_for, clinician, enrolled, room):
    narrowed_iv(5, 7)
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})
    client = client_for(clinician)

    page = client.get(url).content.decode()
    refused = client.post(url, plan_form(room, clinician, induction_sessions="12", action="confirm"))
    booked = client.post(url, plan_form(room, clinician, induction_sessions="7", action="confirm"))

    assert f"{iv().name}: 5 to 7" in page
    spravato = Protocol.objects.get(route="intranasal")
    assert f"{spravato.name}: 8" in page  # the label fixes its induction: one number, no range
    assert refused.status_code == 400
    assert refused.context["form"].errors["induction_sessions"] == [
        "Choose between 5 and 7 induction sessions for this protocol."
    ]
    assert booked.status_code == 302
    assert TreatmentPlan.objects.get(patient=enrolled).sessions.count() == 7


def _phase_formset(admin_user, protocol, induction_sessions):
    request = RequestFactory().post("/")
    request.user = admin_user
    inline = ProtocolPhaseInline(Protocol, admin.site)
    formset_class = inline.get_formset(request, protocol)
    phases = list(protocol.phases.order_by("order"))
    data = {
        "phases-TOTAL_FORMS": str(len(phases)),
        "phases-INITIAL_FORMS": str(len(phases)),
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "1000",
    }
    for index, phase in enumerate(phases):
        prefix = f"phases-{index}-"
        data |= {
            prefix + "id": str(phase.pk),
            prefix + "protocol": str(protocol.pk),
            prefix + "order": str(phase.order),
            prefix + "name": phase.name,
            prefix + "sessions": str(induction_sessions if phase.name == "induction" else phase.sessions or ""),
            prefix + "per_week": str(phase.per_week),
            prefix + "weeks": str(phase.weeks or ""),
            prefix + "every_weeks": str(phase.every_weeks),
        }
    return formset_class(data, instance=protocol, prefix="phases")


def test_the_admin_keeps_the_induction_phase_within_the_protocols_bounds(admin_user):
    protocol = iv()
    protocol.induction_min_sessions, protocol.induction_max_sessions = 4, 8  # as the admin form sets them

    outside = _phase_formset(admin_user, protocol, induction_sessions=9)
    inside = _phase_formset(admin_user, protocol, induction_sessions=8)

    assert not outside.is_valid()
    assert outside.non_form_errors() == [
        "The induction phase holds 9 sessions: it must lie within the protocol's fewest and most induction sessions "
        "(4–8)."
    ]
    assert inside.is_valid(), inside.errors
