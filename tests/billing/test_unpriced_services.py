"""Services waiting for a price: a held integration session whose psychotherapy code has no active price is recorded
as waiting, billing staff are alerted once, and the price an admin saves charges it once and closes the alert, as for
a dosing session; the database keeps one open record per session."""

import importlib
import io
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse

from aftercare.services import integration_session_book, integration_session_complete
from billing.ledger.charges import integration_charges_post, uncharged_sessions_charge
from billing.models import Charge, FeeScheduleItem, UnpricedService
from kap_clinic.kernel.notifications.alerts import alerts_open_for
from kap_clinic.kernel.notifications.models import StaffAlert
from tests.billing.factories import at, book
from tests.billing.ledger_factories import SERVICE_DAY, complete
from tests.races import second_queues_behind_first


def _held_integration_session(patient, clinician):
    """A 50-minute integration session, booked and held through aftercare's services (which announce it)."""
    with time_machine.travel(at(SERVICE_DAY, 7), tick=False):
        held = integration_session_book(
            patient=patient, clinician=clinician, modality="cbt", starts_at=at(SERVICE_DAY, 15), by=clinician
        )
    with time_machine.travel(at(SERVICE_DAY, 16), tick=False):
        integration_session_complete(integration_session=held, notes="Integration of the first session.", by=clinician)
    return held


def _save_price(client, fee: FeeScheduleItem, price: str):
    """An admin sets the price in the back office's fee schedule."""
    data = {
        "code": fee.code,
        "description": fee.description,
        "route": fee.route,
        "min_minutes": fee.min_minutes or "",
        "max_minutes": fee.max_minutes or "",
        "price": price,
        "unit": fee.unit,
        "is_active": "on",
        "notes": fee.notes,
    }
    response = client.post(reverse("admin:billing_feescheduleitem_change", args=[fee.pk]), data)
    assert response.status_code == 302
    return response


@pytest.mark.django_db
def test_an_unpriced_integration_session_alerts_once_and_is_charged_once_when_the_price_is_set(
    client_for, patient, clinician, front_desk, admin_user
):
    fee = FeeScheduleItem.objects.get(code="90834")
    FeeScheduleItem.objects.filter(pk=fee.pk).update(is_active=False)

    held = _held_integration_session(patient, clinician)

    assert not Charge.objects.filter(integration_session_id=held.pk).exists()
    waiting = UnpricedService.objects.get()
    assert (waiting.patient, waiting.session, waiting.integration_session_id) == (patient, None, held.pk)
    assert (waiting.minutes, waiting.service_date, waiting.resolved_at) == (50, SERVICE_DAY, None)
    alert = StaffAlert.objects.get(kind=StaffAlert.Kind.FEE_MISSING)
    assert alert.patient == patient and alert.audience == "front_office" and alert.acknowledged_at is None
    assert "90834" in alert.summary and "integration session of 2027-02-01" in alert.summary
    assert alert in alerts_open_for(front_desk)

    # A retry of the charging adds no record and no second alert.
    assert (
        integration_charges_post(
            patient_id=patient.pk, integration_session_id=held.pk, minutes=50, starts_at=held.starts_at
        )
        == []
    )
    assert UnpricedService.objects.count() == 1 and StaffAlert.objects.filter(kind="fee_missing").count() == 1

    _save_price(client_for(admin_user), fee, "150.00")

    charges = list(Charge.objects.filter(integration_session_id=held.pk).values_list("code", "amount", "service_date"))
    assert charges == [("90834", Decimal("150.00"), SERVICE_DAY)]
    waiting.refresh_from_db()
    alert.refresh_from_db()
    assert waiting.resolved_at is not None and alert.acknowledged_by == admin_user
    # Nothing is left to do: another save, or a late retry, charges nothing twice and raises nothing.
    _save_price(client_for(admin_user), fee, "150.00")
    integration_charges_post(
        patient_id=patient.pk, integration_session_id=held.pk, minutes=50, starts_at=held.starts_at
    )
    assert Charge.objects.filter(integration_session_id=held.pk).count() == 1
    assert not UnpricedService.objects.filter(resolved_at__isnull=True).exists()
    assert StaffAlert.objects.filter(kind="fee_missing").count() == 1


@pytest.mark.django_db
def test_a_price_for_other_minutes_leaves_the_integration_session_waiting(client_for, patient, clinician, admin_user):
    FeeScheduleItem.objects.filter(code="90834").update(is_active=False)
    held = _held_integration_session(patient, clinician)

    _save_price(client_for(admin_user), FeeScheduleItem.objects.get(code="90837"), "190.00")  # 53+ minutes

    assert not Charge.objects.filter(integration_session_id=held.pk).exists()
    assert UnpricedService.objects.get().resolved_at is None
    assert StaffAlert.objects.get(kind="fee_missing").acknowledged_at is None


@pytest.mark.django_db
def test_under_16_minutes_nothing_is_billable_and_nobody_is_alerted(patient):
    FeeScheduleItem.objects.filter(code__in=["90832", "90834", "90837"]).update(is_active=False)
    assert (
        integration_charges_post(
            patient_id=patient.pk, integration_session_id=7, minutes=15, starts_at=at(SERVICE_DAY, 15)
        )
        == []
    )
    assert not UnpricedService.objects.exists() and not StaffAlert.objects.exists()


@pytest.mark.django_db
def test_an_unpriced_dosing_session_is_recorded_and_resolved_when_its_price_is_saved(
    client_for, patient, clinician, admin_user
):
    drug = FeeScheduleItem.objects.get(code="J3490", route="iv")
    FeeScheduleItem.objects.filter(pk=drug.pk).update(is_active=False)
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))

    waiting = UnpricedService.objects.get()
    assert (waiting.session, waiting.integration_session_id, waiting.route) == (session, None, "iv")
    assert StaffAlert.objects.get(kind="fee_missing").key == waiting.alert_key

    _save_price(client_for(admin_user), drug, "55.00")

    waiting.refresh_from_db()
    assert waiting.resolved_at is not None
    assert sorted(Charge.objects.filter(session=session).values_list("code", flat=True)) == ["96365", "J3490"]
    assert uncharged_sessions_charge(by=admin_user) == []


@pytest.mark.django_db
def test_an_alert_open_before_the_records_existed_is_carried_over_by_the_migration(
    client_for, patient, clinician, admin_user
):
    """A session waiting for a price when billing began to keep records is found from its open alert's key."""
    drug = FeeScheduleItem.objects.get(code="J3490", route="iv")
    FeeScheduleItem.objects.filter(pk=drug.pk).update(is_active=False)
    session = complete(book(patient, clinician, SERVICE_DAY, status="in_progress"))
    UnpricedService.objects.all().delete()  # as it stood before: only the alert says the session waits

    migration = importlib.import_module("billing.migrations.0011_unpriced_services")
    migration.record_sessions_waiting_for_a_price(apps, None)
    migration.record_sessions_waiting_for_a_price(apps, None)  # run twice, still one record

    waiting = UnpricedService.objects.get()
    assert (waiting.patient, waiting.session, waiting.service_date, waiting.route) == (
        patient,
        session,
        SERVICE_DAY,
        "iv",
    )
    _save_price(client_for(admin_user), drug, "55.00")
    assert Charge.objects.filter(session=session, code="J3490").count() == 1
    assert StaffAlert.objects.get(kind="fee_missing").acknowledged_by == admin_user


@pytest.mark.django_db
def test_the_database_keeps_one_open_record_per_session(patient, clinician):
    session = book(patient, clinician, SERVICE_DAY)
    fields = {"patient": patient, "service_date": SERVICE_DAY}
    first = UnpricedService.objects.create(session=session, route="iv", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        UnpricedService.objects.create(session=session, route="iv", **fields)
    UnpricedService.objects.create(integration_session_id=9, minutes=50, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        UnpricedService.objects.create(integration_session_id=9, minutes=50, **fields)
    # Once resolved, a record no longer counts as open.
    UnpricedService.objects.filter(pk=first.pk).update(resolved_at=at(SERVICE_DAY, 18))
    UnpricedService.objects.create(session=session, route="iv", **fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "service",
    [
        {},  # neither
        {"integration_session_id": 9},  # an integration session without its minutes
        {"integration_session_id": 9, "minutes": 50, "session": "dosing"},  # both
    ],
)
def test_the_database_refuses_a_record_of_no_service_or_of_two(patient, clinician, service):
    if service.get("session") == "dosing":
        service["session"] = book(patient, clinician, SERVICE_DAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        UnpricedService.objects.create(patient=patient, service_date=SERVICE_DAY, **service)


@pytest.mark.django_db(transaction=True)
def test_two_announcements_at_once_keep_one_record_and_one_alert(on_postgresql, patient):
    """The second records the same unpriced session while the first has not committed: it waits on the one-open-record
    key, then finds the first's record and alert."""
    FeeScheduleItem.objects.filter(code="90834").update(is_active=False)

    def post():
        return integration_charges_post(
            patient_id=patient.pk, integration_session_id=41, minutes=45, starts_at=at(SERVICE_DAY, 15)
        )

    results = second_queues_behind_first(post, failure="the second record never waited on the first's")
    assert results == ([], [])
    assert UnpricedService.objects.filter(integration_session_id=41).count() == 1
    assert StaffAlert.objects.filter(kind="fee_missing").count() == 1


@pytest.mark.django_db
def test_sessions_held_before_the_upgrade_are_charged_once_or_wait_for_their_price(patient, clinician):
    from django.core.management import call_command

    from aftercare.models import IntegrationSession

    def held_without_billing(minutes, hour):
        """A held session billing never heard of (held before billing recorded unpriced ones)."""
        return IntegrationSession.objects.create(
            patient=patient,
            clinician=clinician,
            modality="cbt",
            starts_at=at(SERVICE_DAY, hour),
            duration_minutes=minutes,
            status=IntegrationSession.Status.COMPLETED,
            created_by=clinician,
        )

    priced, unpriced, short = held_without_billing(50, 9), held_without_billing(60, 11), held_without_billing(15, 14)
    FeeScheduleItem.objects.filter(code="90837").update(is_active=False)

    call_command("charge_integration_sessions", stdout=io.StringIO())
    call_command("charge_integration_sessions", stdout=io.StringIO())  # safe to repeat

    assert list(Charge.objects.filter(integration_session_id=priced.pk).values_list("code", flat=True)) == ["90834"]
    assert not Charge.objects.filter(integration_session_id__in=[unpriced.pk, short.pk]).exists()
    assert list(UnpricedService.objects.values_list("integration_session_id", flat=True)) == [unpriced.pk]
    assert StaffAlert.objects.filter(kind=StaffAlert.Kind.FEE_MISSING).count() == 1
