"""Charges exactly once: a completed session's codes are charged once whatever retries or races, by route and dose;
cancellations and no-shows follow the clinic's fee policy."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing.coverage import billed_codes
from billing.ledger.charges import charge_lines, session_charges_post, uncharged_sessions_charge
from billing.ledger.sliding_scale import sliding_scale_assess
from billing.models import Charge, FeeScheduleItem
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.alerts import alerts_open_for
from kap_clinic.kernel.notifications.models import StaffAlert
from sessions.models import DoseAdministration, DoseTopUp, DosingSession
from sessions.scheduling.changes import session_cancel, session_no_show
from tests.billing.factories import at, book
from tests.billing.ledger_factories import SERVICE_DAY, complete, spravato_session
from tests.races import WAIT_SECONDS, OnItsOwnConnection, second_queues_behind_first


def codes(session) -> list[tuple[str, Decimal, Decimal]]:
    return sorted(Charge.objects.filter(session=session).values_list("code", "units", "amount"))


@pytest.mark.parametrize(
    ("route", "dose", "minutes", "expected"),
    [
        ("iv", None, 40, [("96365", 1), ("J3490", 1)]),
        ("iv", None, 90, [("96365", 1), ("J3490", 1)]),  # 30 minutes past the first hour: not yet another hour
        ("iv", None, 91, [("96365", 1), ("96366", 1), ("J3490", 1)]),
        ("iv", None, 151, [("96365", 1), ("96366", 2), ("J3490", 1)]),
        ("im", None, None, [("96372", 1), ("J3490", 1)]),
        ("intranasal", "56", None, [("G2082", 1)]),
        ("intranasal", "84", None, [("G2083", 1)]),
        ("sublingual", None, None, [("99213", 1)]),
        ("oral", None, None, [("99213", 1)]),
    ],
)
def test_codes_per_route_dose_and_length(route, dose, minutes, expected):
    lines = charge_lines(route=route, dose_mg=Decimal(dose) if dose else None, infusion_minutes=minutes)
    assert [(line.code, int(line.units)) for line in lines] == expected


@pytest.mark.django_db
def test_a_completed_iv_session_is_charged_its_codes_once(patient, clinician):
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))
    assert codes(session) == [("96365", Decimal("1.0"), Decimal("200.00")), ("J3490", Decimal("1.0"), Decimal("50.00"))]
    charge = Charge.objects.get(session=session, code="96365")
    assert charge.service_date == SERVICE_DAY and charge.patient == patient and charge.invoice is None
    # A retry of the charging, or of the completion, adds nothing.
    session_charges_post(session=session)
    with pytest.raises(ValidationError):
        complete(DosingSession.objects.get(pk=session.pk))
    assert Charge.objects.filter(session=session).count() == 2


@pytest.mark.django_db
def test_each_charge_of_a_completed_session_is_audited_on_the_patients_record_once(patient, clinician):
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))
    session_charges_post(session=session)  # a retry adds no charge and no entry

    charges = Charge.objects.filter(session=session)
    entries = LogEntry.objects.get_for_objects(charges).filter(action=LogEntry.Action.CREATE)
    assert sorted(entry.object_id for entry in entries) == sorted(charges.values_list("pk", flat=True))
    assert {entry.additional_data["patient_id"] for entry in entries} == {patient.pk}
    assert {entry.changes_dict["code"][1] for entry in entries} == {"96365", "J3490"}


@pytest.mark.django_db
def test_the_database_refuses_a_second_charge_of_a_code_for_a_session(patient, clinician):
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))
    first = Charge.objects.get(session=session, code="J3490")
    first.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        first.save()


@pytest.mark.django_db
@pytest.mark.parametrize(("dose", "code", "price"), [("56", "G2082", "906.51"), ("84", "G2083", "1289.82")])
def test_spravato_is_charged_by_the_dose(patient, clinician, dose, code, price):
    session = spravato_session(patient, clinician, SERVICE_DAY, dose=dose)
    complete(session)
    assert codes(session) == [(code, Decimal("1.0"), Decimal(price))]


@pytest.mark.django_db
def test_a_top_up_crossing_56_mg_is_charged_the_higher_spravato_code(patient, clinician):
    session = spravato_session(patient, clinician, SERVICE_DAY, dose="56")
    DoseAdministration.objects.create(
        session=session, dose_mg_given=Decimal("56"), dosed_at=session.starts_at, dosed_by=clinician
    )
    DoseTopUp.objects.create(
        session=session, dose_mg=Decimal("28"), given_at=session.starts_at + timedelta(minutes=15), given_by=clinician
    )
    complete(session)
    assert codes(session) == [("G2083", Decimal("1.0"), Decimal("1289.82"))]
    # The authorization side reads the same dose: J0013 counts the 84 mg given in all.
    assert billed_codes(DosingSession.objects.get(pk=session.pk)) == {"G2083": 1, "J0013": 84}


@pytest.mark.django_db
def test_sessions_not_completed_are_not_charged_for_services(patient, clinician):
    session = book(patient, clinician, SERVICE_DAY, status="checked_in")
    with pytest.raises(ValidationError):
        session_charges_post(session=session)
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_the_patients_sliding_scale_discount_is_applied(patient, clinician, front_desk):
    sliding_scale_assess(
        patient=patient, household_size=1, household_income=Decimal("18000"), evidence="pay_stubs", by=front_desk
    )
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))
    charge = Charge.objects.get(session=session, code="96365")
    assert (charge.list_amount, charge.discount_percent, charge.amount) == (Decimal("200.00"), 75, Decimal("50.00"))


# ---- Cancellations and no-shows ---------------------------------------------------------------------------


@pytest.fixture
def fee_policy(db):
    policy = ClinicSettings.load()
    policy.late_cancel_hours, policy.late_cancel_fee, policy.no_show_fee = 24, Decimal("75.00"), Decimal("100.00")
    policy.save()
    return policy


@pytest.mark.django_db
def test_a_late_cancellation_is_charged_the_late_fee_once(patient, clinician, front_desk, fee_policy):
    session = book(patient, clinician, SERVICE_DAY, hour=9)
    with time_machine.travel(at(SERVICE_DAY, 7), tick=False):  # two hours before
        session_cancel(session=session, by=front_desk, reason="Feeling unwell", cancelled_by="patient")
    assert codes(session) == [("LATE-CANCEL", Decimal("1.0"), Decimal("75.00"))]


@pytest.mark.django_db
def test_a_late_cancellation_by_the_clinic_costs_the_patient_nothing(patient, clinician, front_desk, fee_policy):
    session = book(patient, clinician, SERVICE_DAY, hour=9)
    with time_machine.travel(at(SERVICE_DAY, 7), tick=False):  # two hours before, inside the window
        session_cancel(session=session, by=front_desk, reason="Clinician unwell", cancelled_by="clinic")
    assert DosingSession.objects.get(pk=session.pk).cancelled_by == "clinic"
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_a_cancellation_in_good_time_costs_nothing(patient, clinician, front_desk, fee_policy):
    session = book(patient, clinician, SERVICE_DAY, hour=9)
    with time_machine.travel(at(SERVICE_DAY, 9) - timedelta(hours=24), tick=False):  # exactly the window: in time
        session_cancel(session=session, by=front_desk, reason="Travelling", cancelled_by="patient")
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_a_no_show_is_charged_the_no_show_fee(patient, clinician, front_desk, fee_policy):
    session = book(patient, clinician, SERVICE_DAY, hour=9)
    with time_machine.travel(at(SERVICE_DAY, 10), tick=False):
        session_no_show(session=session, by=front_desk)
    assert codes(session) == [("NO-SHOW", Decimal("1.0"), Decimal("100.00"))]


@pytest.mark.django_db
def test_no_fee_when_the_clinic_charges_none(patient, clinician, front_desk):
    late = book(patient, clinician, SERVICE_DAY, hour=9)
    with time_machine.travel(at(SERVICE_DAY, 8), tick=False):
        session_cancel(session=late, by=front_desk, reason="Feeling unwell", cancelled_by="patient")
    missed = book(patient, clinician, SERVICE_DAY, hour=13)  # the cancelled one holds no dose window
    with time_machine.travel(at(SERVICE_DAY, 14), tick=False):
        session_no_show(session=missed, by=front_desk)
    assert not Charge.objects.exists()


# ---- Concurrent completion (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_completions_at_once_charge_once(on_postgresql, patient, clinician):
    with transaction.atomic():
        session = book(patient, clinician, SERVICE_DAY, status="in_progress")
    barrier = threading.Barrier(2, timeout=WAIT_SECONDS)

    def finish():
        barrier.wait()
        return complete(DosingSession.objects.get(pk=session.pk))

    threads = [OnItsOwnConnection(finish), OnItsOwnConnection(finish)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.finish()
    outcomes = sorted(type(thread.error or thread.result).__name__ for thread in threads)
    assert outcomes == ["DosingSession", "ValidationError"]  # the second finds the session already completed
    assert [code for code, _, _ in codes(session)] == ["96365", "J3490"]


@pytest.mark.django_db(transaction=True)
def test_charging_raced_past_the_session_lock_still_charges_once(on_postgresql, patient, clinician):
    """Both transactions charge the same completed session; the second inserts while the first has not committed,
    waits on the unique key, and then inserts nothing."""
    with transaction.atomic():
        session = book(patient, clinician, SERVICE_DAY)
    DosingSession.objects.filter(pk=session.pk).update(status=DosingSession.Status.COMPLETED)
    first, second = second_queues_behind_first(
        lambda: session_charges_post(session=session), failure="the second charge never waited on the first's rows"
    )
    assert isinstance(first, list) and isinstance(second, list)
    assert [code for code, _, _ in codes(session)] == ["96365", "J3490"]


@pytest.mark.django_db
def test_admins_set_the_fee_policy_and_superbill_provider_on_the_settings_page(client_for, admin_user):
    from django.urls import reverse

    from tests.clinic.test_settings import _settings_post

    client = client_for(admin_user)
    changes = {
        "late_cancel_hours": 48,
        "late_cancel_fee": "60.00",
        "no_show_fee": "120.00",
        "billing_npi": "1234567893",
    }
    assert client.post(reverse("clinic:settings"), _settings_post(**changes)).status_code == 302
    policy = ClinicSettings.load()
    assert (policy.late_cancel_hours, policy.late_cancel_fee, policy.no_show_fee) == (
        48,
        Decimal("60.00"),
        Decimal("120.00"),
    )
    refused = client.post(reverse("clinic:settings"), _settings_post(billing_npi="12345", billing_tax_id="x"))
    assert refused.status_code == 400 and ClinicSettings.load().billing_npi == "1234567893"


@pytest.mark.django_db
def test_discharge_from_the_session_record_charges_the_session(patient, clinician, time_machine):
    from tests.sessions.record_helpers import book_session, discharged

    session = book_session(patient, clinician)
    time_machine.move_to(session.starts_at, tick=False)
    discharged(session, clinician, time_machine)
    assert [code for code, _, _ in codes(session)] == ["96365", "J3490"]  # a 40-minute infusion: the first hour


@pytest.mark.django_db
def test_a_held_integration_session_is_charged_its_psychotherapy_code_once(patient, clinician):
    from aftercare.services import integration_session_book, integration_session_complete
    from billing.ledger.charges import integration_charges_post

    with time_machine.travel(at(SERVICE_DAY, 7), tick=False):
        held = integration_session_book(
            patient=patient, clinician=clinician, modality="cbt", starts_at=at(SERVICE_DAY, 15), by=clinician
        )
    with time_machine.travel(at(SERVICE_DAY, 16), tick=False):
        integration_session_complete(integration_session=held, notes="Integration of the first session.", by=clinician)
    assert held.duration_minutes == 50
    charges = list(Charge.objects.filter(integration_session_id=held.pk).values_list("code", "amount", "service_date"))
    assert charges == [("90834", Decimal("140.00"), SERVICE_DAY)]  # 38-52 minutes face to face
    integration_charges_post(
        patient_id=patient.pk, integration_session_id=held.pk, minutes=50, starts_at=held.starts_at
    )
    assert Charge.objects.filter(integration_session_id=held.pk).count() == 1
    assert (
        integration_charges_post(patient_id=patient.pk, integration_session_id=0, minutes=15, starts_at=held.starts_at)
        == []
    )


# ---- A code without a price --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_without_a_price_alerts_billing_staff_and_is_charged_once_an_admin_sets_it(
    client_for, patient, clinician, front_desk, admin_user
):
    drug = FeeScheduleItem.objects.get(code="J3490", route="iv")
    FeeScheduleItem.objects.filter(pk=drug.pk).update(is_active=False)
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))
    session_charges_post(session=session)  # a retry raises nothing more

    assert [code for code, _, _ in codes(session)] == ["96365"]
    alert = StaffAlert.objects.get(kind="fee_missing")
    assert alert.patient == patient and alert.audience == "front_office" and alert.acknowledged_at is None
    assert "J3490" in alert.summary and "2027-02-01" in alert.summary
    assert alert in alerts_open_for(front_desk)

    change = reverse("admin:billing_feescheduleitem_change", args=[drug.pk])
    data = {
        "code": drug.code,
        "description": drug.description,
        "route": drug.route,
        "min_minutes": "",
        "max_minutes": "",
        "price": "55.00",
        "unit": drug.unit,
        "is_active": "on",
        "notes": "",
    }
    assert client_for(admin_user).post(change, data).status_code == 302

    assert codes(session) == [("96365", Decimal("1.0"), Decimal("200.00")), ("J3490", Decimal("1.0"), Decimal("55.00"))]
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user
    assert uncharged_sessions_charge(by=admin_user) == []  # nothing left to do, nothing charged twice
    assert Charge.objects.filter(session=session).count() == 2


@pytest.mark.django_db
def test_a_price_set_for_another_code_leaves_the_session_waiting(patient, clinician, admin_user):
    FeeScheduleItem.objects.filter(code="J3490", route="iv").update(is_active=False)
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))

    assert uncharged_sessions_charge(by=admin_user) == []

    assert StaffAlert.objects.get(kind="fee_missing").acknowledged_at is None
    assert [code for code, _, _ in codes(session)] == ["96365"]
