from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from sessions.controlled.services import (
    cs_balances,
    cs_dose_record,
    cs_lot_balance,
    cs_lot_log,
    cs_lot_receive,
    cs_lot_totals,
    cs_reconcile,
)
from sessions.models import ControlledProduct, CSLogEntry, Protocol, Room
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

MG = Decimal


@pytest.fixture
def ketamine():
    return ControlledProduct.objects.create(
        name="Ketamine", strength="ketamine HCl 50 mg/mL", ndc="42023-0115-10", mg_per_ml=Decimal("50")
    )


@pytest.fixture
def lot(ketamine, admin_user):
    return cs_lot_receive(
        product=ketamine, lot_number="KX2291", expires_on=date(2099, 6, 30), quantity="500", by=admin_user
    )


@pytest.fixture
def session(patient, clinician):
    enrollment_create(
        patient=patient, by=clinician, override_justification="Enrolled for the controlled-substance log tests."
    )
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="iv"),
        first_day=timezone.localdate() + timedelta(days=1),
        start_time=time(9, 0),
        room=Room.objects.create(name="Room A"),
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=clinician,
    )
    return plan.sessions.order_by("starts_at").first()


def stock_effects_sum(lot) -> Decimal:
    return sum((entry.stock_effect_mg for entry in CSLogEntry.objects.filter(lot=lot)), Decimal("0"))


# ---- The worked example -------------------------------------------------------------------------


def test_the_log_balances_through_receipt_dose_waste_and_reconciliation(
    lot, session, clinician, other_clinician, admin_user, django_assert_num_queries
):
    assert cs_lot_balance(lot) == MG("500")

    drawn, given, wasted = cs_dose_record(
        session=session,
        lot=lot,
        drawn_mg="40",
        administered_mg="35",
        wasted_mg="5",
        witness=other_clinician,
        by=clinician,
    )
    assert [e.kind for e in (drawn, given, wasted)] == ["drawn", "administered", "wasted"]
    assert given.draw == drawn and wasted.draw == drawn and wasted.witness == other_clinician
    assert cs_lot_balance(lot) == MG("460")
    assert stock_effects_sum(lot) == MG("460")

    adjustment = cs_reconcile(lot=lot, counted_mg="455", reason="Vial overfill estimate corrected", by=admin_user)
    assert (adjustment.kind, adjustment.amount_mg, adjustment.counted_mg) == ("adjustment", MG("-5"), MG("455"))
    assert cs_lot_balance(lot) == MG("455")
    assert stock_effects_sum(lot) == cs_lot_balance(lot)

    totals = cs_lot_totals(lot)
    assert (totals.received_mg, totals.drawn_mg, totals.administered_mg, totals.wasted_mg) == (
        MG("500"),
        MG("40"),
        MG("35"),
        MG("5"),
    )
    assert (totals.adjusted_mg, totals.on_hand_mg) == (MG("-5"), MG("455"))
    assert totals.balances

    running = [(e.kind, e.effect_mg, e.running_mg) for e in cs_lot_log(lot)]
    assert running == [
        ("received", MG("500"), MG("500")),
        ("drawn", MG("-40"), MG("460")),
        ("administered", MG("0"), MG("460")),
        ("wasted", MG("0"), MG("460")),
        ("adjustment", MG("-5"), MG("455")),
    ]

    with django_assert_num_queries(1):
        [product] = cs_balances()
        assert product.balance_mg == MG("455")
        assert [(lot.lot_number, lot.balance_mg) for lot in product.lots] == [("KX2291", MG("455"))]


def test_balances_are_kept_per_lot_and_summed_per_product(ketamine, lot, admin_user, clinician, session):
    second = cs_lot_receive(
        product=ketamine, lot_number="KX3300", expires_on=date(2099, 1, 31), quantity="10", unit="ml", by=clinician
    )
    assert second.received_mg == MG("500")  # 10 mL at 50 mg/mL
    cs_dose_record(session=session, lot=second, drawn_mg="30", administered_mg="30", wasted_mg="0", by=clinician)
    [product] = cs_balances()
    assert {lot.lot_number: lot.balance_mg for lot in product.lots} == {"KX2291": MG("500"), "KX3300": MG("470")}
    assert product.balance_mg == MG("970")


def test_a_matching_count_is_recorded_without_a_reason(lot, admin_user):
    entry = cs_reconcile(lot=lot, counted_mg="500", reason="", by=admin_user)
    assert entry.amount_mg == 0 and entry.counted_mg == MG("500")
    assert cs_lot_balance(lot) == MG("500")


def test_a_count_that_differs_needs_a_reason(lot, admin_user):
    with pytest.raises(ValidationError, match="give the reason"):
        cs_reconcile(lot=lot, counted_mg="490", reason="  ", by=admin_user)
    assert not CSLogEntry.objects.filter(kind="adjustment").exists()


def test_only_admins_reconcile(lot, clinician):
    with pytest.raises(PermissionDenied):
        cs_reconcile(lot=lot, counted_mg="500", reason="", by=clinician)


# ---- What a dose record refuses -----------------------------------------------------------------


def dose(lot, clinician, **kwargs):
    values = {"drawn_mg": "40", "administered_mg": "35", "wasted_mg": "5"}
    return cs_dose_record(lot=lot, by=clinician, **{**values, **kwargs})


def test_waste_without_a_witness_is_refused(lot, clinician):
    with pytest.raises(ValidationError, match="Waste must be witnessed"):
        dose(lot, clinician)
    assert cs_lot_balance(lot) == MG("500")


def test_the_person_recording_cannot_witness_their_own_waste(lot, clinician):
    with pytest.raises(ValidationError, match="someone other than you"):
        dose(lot, clinician, witness=clinician)


def test_the_database_also_refuses_an_unwitnessed_or_self_witnessed_waste(lot, clinician):
    draw = CSLogEntry.objects.create(lot=lot, kind="drawn", amount_mg=MG("5"), at=timezone.now(), by=clinician)
    for witness in (None, clinician):
        with pytest.raises(IntegrityError), transaction.atomic():
            CSLogEntry.objects.create(
                lot=lot, kind="wasted", amount_mg=MG("5"), draw=draw, at=timezone.now(), by=clinician, witness=witness
            )


def test_a_patient_cannot_witness(lot, clinician, patient_user):
    with pytest.raises(ValidationError, match="active member of staff"):
        dose(lot, clinician, witness=patient_user)


def test_an_expired_lot_is_refused(ketamine, admin_user, clinician, other_clinician):
    lot = cs_lot_receive(
        product=ketamine,
        lot_number="OLD01",
        expires_on=timezone.localdate() + timedelta(days=1),
        quantity="100",
        by=admin_user,
    )
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        with pytest.raises(ValidationError, match="expired"):
            dose(lot, clinician, witness=other_clinician)
    assert cs_lot_balance(lot) == MG("100")


def test_an_expired_lot_is_not_received(ketamine, admin_user):
    with pytest.raises(ValidationError, match="already expired"):
        cs_lot_receive(product=ketamine, lot_number="OLD02", expires_on=date(2000, 1, 1), quantity="100", by=admin_user)


@pytest.mark.parametrize(("drawn", "given", "wasted"), [("40", "35", "0"), ("40", "40", "5"), ("40", "30", "5")])
def test_drawn_must_equal_given_plus_wasted(lot, clinician, other_clinician, drawn, given, wasted):
    with pytest.raises(ValidationError, match="must equal the amount given plus the waste"):
        dose(lot, clinician, drawn_mg=drawn, administered_mg=given, wasted_mg=wasted, witness=other_clinician)
    assert CSLogEntry.objects.count() == 1  # only the receipt


def test_more_than_the_lot_holds_is_refused(lot, clinician):
    with pytest.raises(ValidationError, match="holds only 500"):
        dose(lot, clinician, drawn_mg="600", administered_mg="600", wasted_mg="0")


def test_only_clinicians_record_doses(lot, admin_user, front_desk):
    for user in (admin_user, front_desk):
        with pytest.raises(PermissionDenied):
            dose(lot, user, wasted_mg="0", administered_mg="40")


# ---- Append-only --------------------------------------------------------------------------------


def test_entries_cannot_be_changed_or_deleted(lot):
    entry = CSLogEntry.objects.get()
    entry.amount_mg = MG("5000")
    with pytest.raises(ValidationError, match="cannot be changed"):
        entry.save()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        CSLogEntry.objects.filter(pk=entry.pk).update(amount_mg=MG("5000"))
    with pytest.raises(DatabaseError), transaction.atomic():
        CSLogEntry.objects.filter(pk=entry.pk).delete()
    assert cs_lot_balance(lot) == MG("500")


def test_the_admin_site_refuses_to_change_or_delete_entries(client_for, admin_user, lot):
    entry = CSLogEntry.objects.get()
    client = client_for(admin_user)
    change = reverse("admin:treatment_sessions_cslogentry_change", args=[entry.pk])
    delete = reverse("admin:treatment_sessions_cslogentry_delete", args=[entry.pk])
    assert client.get(reverse("admin:treatment_sessions_cslogentry_changelist")).status_code == 200
    assert client.get(change).status_code == 200  # read-only view
    assert client.post(change, {"amount_mg": "1", "kind": "received"}).status_code == 403
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:treatment_sessions_cslogentry_add")).status_code == 403
    lot_change = reverse("admin:treatment_sessions_productlot_change", args=[lot.pk])
    assert client.post(lot_change, {"lot_number": "X"}).status_code == 403
    entry.refresh_from_db()
    assert entry.amount_mg == MG("500")


def test_the_admin_reconcile_action_opens_the_count_form(client_for, admin_user, lot):
    response = client_for(admin_user).post(
        reverse("admin:treatment_sessions_productlot_changelist"),
        {"action": "reconcile", "_selected_action": [lot.pk], "index": 0},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("sessions:cs_reconcile", kwargs={"pk": lot.pk})


# ---- Pages --------------------------------------------------------------------------------------


def test_a_clinician_records_a_witnessed_dose_on_the_session(client_for, session, lot, clinician, other_clinician):
    client = client_for(clinician)
    url = reverse("sessions:cs_dose_record", kwargs={"pk": session.pk})
    data = {
        "lot": lot.pk,
        "drawn_mg": "40",
        "administered_mg": "35",
        "wasted_mg": "5",
        "witness": other_clinician.pk,
        "witness_password": PASSWORD,
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert cs_lot_balance(lot) == MG("460")
    assert CSLogEntry.objects.get(kind="wasted").witness == other_clinician
    page = client.get(url).content.decode()
    assert "Wasted" in page and "KX2291" in page
    logged = LogEntry.objects.filter(additional_data__patient_id=session.patient_id, action=LogEntry.Action.CREATE)
    assert logged.filter(content_type__model="cslogentry").count() == 3


def test_a_witness_confirms_with_their_own_password(client_for, session, lot, clinician, other_clinician):
    url = reverse("sessions:cs_dose_record", kwargs={"pk": session.pk})
    data = {
        "lot": lot.pk,
        "drawn_mg": "40",
        "administered_mg": "35",
        "wasted_mg": "5",
        "witness": other_clinician.pk,
        "witness_password": "not-their-password",
    }
    response = client_for(clinician).post(url, data)
    assert response.status_code == 400
    assert "confirm with their own password" in response.content.decode()
    assert cs_lot_balance(lot) == MG("500")


def test_a_witness_chosen_when_nothing_is_wasted_is_not_logged(client_for, session, lot, clinician, other_clinician):
    url = reverse("sessions:cs_dose_record", kwargs={"pk": session.pk})
    data = {"lot": lot.pk, "drawn_mg": "35", "administered_mg": "35", "wasted_mg": "0", "witness": other_clinician.pk}

    response = client_for(clinician).post(url, data)

    assert response.status_code == 302
    assert cs_lot_balance(lot) == MG("465")
    assert not CSLogEntry.objects.filter(witness__isnull=False).exists()


def test_the_dose_form_refuses_a_mismatch(client_for, session, lot, clinician):
    url = reverse("sessions:cs_dose_record", kwargs={"pk": session.pk})
    data = {"lot": lot.pk, "drawn_mg": "40", "administered_mg": "30", "wasted_mg": "0"}
    response = client_for(clinician).post(url, data)
    assert response.status_code == 400
    assert CSLogEntry.objects.count() == 1


def test_another_clinicians_patients_session_is_not_found(client_for, session, lot, other_clinician):
    url = reverse("sessions:cs_dose_record", kwargs={"pk": session.pk})
    client = client_for(other_clinician)
    assert client.get(url).status_code == 404
    data = {"lot": lot.pk, "drawn_mg": "40", "administered_mg": "40", "wasted_mg": "0"}
    assert client.post(url, data).status_code == 404
    assert CSLogEntry.objects.count() == 1


def test_the_lot_log_shows_the_running_balance(client_for, session, lot, clinician, other_clinician, admin_user):
    cs_dose_record(
        session=session,
        lot=lot,
        drawn_mg="40",
        administered_mg="35",
        wasted_mg="5",
        witness=other_clinician,
        by=clinician,
    )
    page = client_for(clinician).get(reverse("sessions:cs_lot_log", kwargs={"pk": lot.pk})).content.decode()
    assert "on hand 460 mg" in page
    assert "Log balances" in page
    listing = client_for(admin_user).get(reverse("sessions:cs_lot_list")).content.decode()
    assert "KX2291" in listing and "460" in listing


def test_an_admin_reconciles_through_the_count_form(client_for, lot, admin_user):
    client = client_for(admin_user)
    url = reverse("sessions:cs_reconcile", kwargs={"pk": lot.pk})
    assert client.post(url, {"counted_mg": "495", "reason": ""}).status_code == 400
    response = client.post(url, {"counted_mg": "495", "reason": "Broken vial, documented on DEA Form 106"})
    assert response.status_code == 302
    assert cs_lot_balance(lot) == MG("495")
    assert CSLogEntry.objects.get(kind="adjustment").note == "Broken vial, documented on DEA Form 106"


def test_a_lot_is_received_through_the_form_in_ml(client_for, ketamine, clinician):
    response = client_for(clinician).post(
        reverse("sessions:cs_receive"),
        {"product": ketamine.pk, "lot_number": "KX9", "expires_on": "2099-01-01", "quantity": "2", "unit": "ml"},
    )
    assert response.status_code == 302
    assert CSLogEntry.objects.get().amount_mg == MG("100")


def test_wrong_witness_passwords_do_not_lock_the_witness_out_of_signing_in(
    client, client_for, session, lot, clinician, other_clinician, settings
):
    """The witness check does not go through django-axes, but guessing is limited per witness."""
    from tests.conftest import sign_in  # noqa: F401 - the witness signs in below with the login form

    url = reverse("sessions:cs_dose_record", kwargs={"pk": session.pk})
    data = {
        "lot": lot.pk,
        "drawn_mg": "40",
        "administered_mg": "35",
        "wasted_mg": "5",
        "witness": other_clinician.pk,
        "witness_password": "not-their-password",
    }
    recorder = client_for(clinician)
    for _ in range(settings.WITNESS_FAILURE_LIMIT):
        assert recorder.post(url, data).status_code == 400
    # Now even the right password is refused for a while: guessing stops here.
    assert recorder.post(url, {**data, "witness_password": PASSWORD}).status_code == 400
    assert cs_lot_balance(lot) == MG("500")
    # The witness signs in as usual: no axes failures were counted against them.
    recorder.logout()
    response = recorder.post(reverse("accounts:login"), {"username": other_clinician.username, "password": PASSWORD})
    assert response.status_code == 302


def test_the_lot_log_shows_other_clinicians_patients_by_session_not_chart_number(
    client_for, session, lot, patient, clinician, other_clinician, admin_user
):
    """Least privilege: the stock count needs the session each milligram went to, not whose session it was."""
    cs_dose_record(session=session, lot=lot, drawn_mg="35", administered_mg="35", wasted_mg="0", by=clinician)
    url = reverse("sessions:cs_lot_log", kwargs={"pk": lot.pk})

    other = client_for(other_clinician).get(url).content.decode()
    assert f"session #{session.pk}" in other
    assert patient.mrn not in other and patient.family_name not in other
    assert not LogEntry.objects.filter(actor=other_clinician, action=LogEntry.Action.ACCESS).exists()

    for reader in (clinician, admin_user):  # the patient's own clinician, and the admins, see the chart number
        page = client_for(reader).get(url).content.decode()
        assert f"{patient.mrn} · session #{session.pk}" in page
        read = LogEntry.objects.get(actor=reader, action=LogEntry.Action.ACCESS)
        assert read.additional_data["patient_id"] == patient.pk
