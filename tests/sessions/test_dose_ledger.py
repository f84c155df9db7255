"""The dose is typed once, in the session record, and the controlled-substance log follows it.

The record's dose step (and each IM top-up) writes the log's draw, administration and witnessed waste in the same
transaction; a dose logged on the log's own page may not exceed what the record gives; and a record whose session
is partly logged is not signed until the two agree.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions.controlled.services import cs_dose_record, cs_lot_receive, session_logged_mg
from sessions.models import ControlledProduct, CSLogEntry, DoseAdministration, DoseTopUp, RecordSignature
from sessions.record.discharge import discharge_record, record_sign
from tests.conftest import PASSWORD

from .record_helpers import ALL_MET, book_session, check, dose, monitored

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(admin_user):
    product = ControlledProduct.objects.create(name="Ketamine", strength="ketamine HCl 50 mg/mL", mg_per_ml=50)
    return cs_lot_receive(
        product=product, lot_number="KX2291", expires_on=date(2099, 6, 30), quantity="500", by=admin_user
    )


@pytest.fixture
def session(patient, clinician, time_machine):
    booked = book_session(patient, clinician)  # IV, 0.5 mg/kg for a 70 kg patient: 35 mg
    time_machine.move_to(booked.starts_at + timedelta(minutes=5), tick=False)
    return booked


def url(name, session):
    return reverse(f"sessions:{name}", kwargs={"pk": session.pk})


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def dose_post(session, **extra):
    return {
        "dose-dose": "0.5",
        "dose-dosed_at": local(timezone.now()),
        "dose-infusion_minutes": "40",
        **{f"dose-{name}": value for name, value in extra.items()},
    }


def kinds(session) -> dict[str, Decimal]:
    return {entry.kind: entry.amount_mg for entry in CSLogEntry.objects.filter(session=session)}


def test_the_dose_step_writes_the_log_from_the_record_dose(client_for, clinician, session, lot):
    check(session, clinician)
    response = client_for(clinician).post(url("record_dose", session), dose_post(session, lot=lot.pk))

    assert response.status_code == 302
    assert DoseAdministration.objects.get(session=session).dose_mg_given == Decimal("35.0")
    assert kinds(session) == {"drawn": Decimal("35.000"), "administered": Decimal("35.000")}
    given = CSLogEntry.objects.get(session=session, kind="administered")
    assert given.by == clinician and given.lot == lot


def test_waste_at_the_dose_step_is_witnessed_by_password(client_for, clinician, other_clinician, session, lot):
    check(session, clinician)
    post = dose_post(session, lot=lot.pk, wasted_mg="5", witness=other_clinician.pk, witness_password=PASSWORD)
    response = client_for(clinician).post(url("record_dose", session), post)

    assert response.status_code == 302
    assert kinds(session) == {"drawn": Decimal("40.000"), "administered": Decimal("35.000"), "wasted": Decimal("5.000")}
    assert CSLogEntry.objects.get(session=session, kind="wasted").witness == other_clinician


def test_unwitnessed_waste_is_refused_at_the_form_and_nothing_is_recorded(client_for, clinician, session, lot):
    check(session, clinician)
    response = client_for(clinician).post(url("record_dose", session), dose_post(session, lot=lot.pk, wasted_mg="5"))

    assert response.status_code == 400
    assert "Waste must be witnessed." in response.content.decode()
    assert not DoseAdministration.objects.filter(session=session).exists()
    assert not CSLogEntry.objects.filter(session=session).exists()


def test_a_refused_log_entry_leaves_no_dose_in_the_record(clinician, session, lot, admin_user):
    """One transaction: a lot that cannot cover the dose refuses the dose as well."""
    small = cs_lot_receive(
        product=lot.product, lot_number="KX0001", expires_on=date(2099, 6, 30), quantity="10", by=admin_user
    )
    check(session, clinician)
    with pytest.raises(ValidationError, match="holds only 10.000 mg"):
        dose(session, clinician, lot=small)
    assert not DoseAdministration.objects.filter(session=session).exists()


def test_an_im_top_up_reaches_the_log(client_for, patient, clinician, time_machine, lot):
    im = book_session(patient, clinician, route="im")
    time_machine.move_to(im.starts_at + timedelta(minutes=5), tick=False)
    check(im, clinician)
    given = dose(im, clinician, amount=str(im.protocol.default_dose), lot=lot)
    time_machine.move_to(given.dosed_at + timedelta(minutes=12), tick=False)

    response = client_for(clinician).post(
        url("record_top_up", im),
        {"top_up-dose_mg": "20", "top_up-reason": "Insufficient effect", "top_up-lot": lot.pk},
    )

    assert response.status_code == 302
    assert DoseTopUp.objects.get(session=im).dose_mg == Decimal("20.0")
    administered = CSLogEntry.objects.filter(session=im, kind="administered").order_by("at", "pk")
    assert [entry.amount_mg for entry in administered] == [given.dose_mg_given, Decimal("20.000")]
    assert session_logged_mg(im) == given.dose_mg_given + 20


def test_the_log_page_refuses_more_than_the_record_gives(client_for, clinician, session, lot):
    check(session, clinician)
    dose(session, clinician, lot=lot)  # 35 mg, logged
    post = {"lot": lot.pk, "drawn_mg": "10", "administered_mg": "10", "wasted_mg": "0"}

    response = client_for(clinician).post(url("cs_dose_record", session), post)

    assert response.status_code == 400
    assert "The session record gives 35 mg in all and the log already has 35 mg given" in response.content.decode()
    assert CSLogEntry.objects.filter(session=session, kind="administered").count() == 1
    with pytest.raises(ValidationError, match="at most 0 mg more can be logged as given, not 10 mg"):
        cs_dose_record(session=session, lot=lot, drawn_mg="10", administered_mg="10", wasted_mg="0", by=clinician)


def test_a_dose_below_what_the_log_already_gives_is_refused(clinician, session, lot):
    check(session, clinician)
    cs_dose_record(session=session, lot=lot, drawn_mg="50", administered_mg="50", wasted_mg="0", by=clinician)
    with pytest.raises(ValidationError, match="already has 50 mg given in this session"):
        dose(session, clinician)  # 35 mg
    assert not DoseAdministration.objects.filter(session=session).exists()


def test_a_partly_logged_session_is_signed_once_the_log_agrees(clinician, session, lot, time_machine):
    check(session, clinician)
    dose(session, clinician)  # 35 mg in the record, nothing logged yet
    cs_dose_record(session=session, lot=lot, drawn_mg="20", administered_mg="20", wasted_mg="0", by=clinician)
    session.refresh_from_db()
    monitored(session, clinician, time_machine)
    discharge_record(session=session, by=clinician, criteria=ALL_MET)

    with pytest.raises(ValidationError, match="log has 20 mg given in this session and the session record 35 mg"):
        record_sign(session=session, by=clinician)

    cs_dose_record(session=session, lot=lot, drawn_mg="15", administered_mg="15", wasted_mg="0", by=clinician)
    assert record_sign(session=session, by=clinician) == RecordSignature.objects.get(session=session)
