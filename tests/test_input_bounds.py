"""Bad input gets a clear message, never a 500 and never an implausible record.

NUL characters and oversized values are refused before any view sees them; every form caps its free text and keeps
its dates in a plausible window (a birth date not in the future and at most 120 years ago; bookings, plans and
check-in series within two years; clinical event times on the session's day).
"""

import importlib
import inspect
import pkgutil
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel import validation
from kap_clinic.kernel.validation import NOTE_MAX, REQUEST_VALUE_MAX, BoundedInput
from patients.models import Patient
from sessions.models import ConsentDocument

pytestmark = pytest.mark.django_db

PROJECT_PACKAGES = ("patients", "screening", "sessions", "aftercare", "billing", "kap_clinic")


# ---- Worked examples of the windows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("years_ago", "days", "ok"),
    [(0, 0, True), (0, -1, False), (30, 0, True), (120, -1, True), (120, 1, False), (1000, 0, False)],
)
def test_birth_date_is_not_in_the_future_and_at_most_120_years_ago(years_ago, days, ok, time_machine):
    time_machine.move_to("2026-06-15 12:00", tick=False)
    born = date(2026 - years_ago, 6, 15) - timedelta(days=days) if years_ago < 1000 else date(1026, 6, 15)
    if ok:
        validation.birth_date(born)
    else:
        with pytest.raises(ValidationError):
            validation.birth_date(born)


def test_a_window_counted_in_years_survives_29_february(time_machine):
    time_machine.move_to("2028-02-29 12:00", tick=False)
    assert validation.booking_date.bounds() == (date(2027, 2, 28), date(2030, 2, 28))


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1850-01-01", "2300-05-05"])
def test_query_dates_outside_the_window_are_not_used(text):
    day, problem = validation.query_date(text)
    assert day is None and "between" in problem


def test_every_form_of_the_project_bounds_its_input():
    """A form added without the mixin would take text of any length and dates in the year 9999."""
    for package in PROJECT_PACKAGES:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations" in module.name or ".management" in module.name:
                continue
            importlib.import_module(module.name)
    unbounded = []
    stack = [forms.BaseForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PROJECT_PACKAGES and not issubclass(cls, BoundedInput):
            if not inspect.isabstract(cls) and "formset" not in cls.__name__.lower():
                unbounded.append(f"{cls.__module__}.{cls.__qualname__}")
    assert unbounded == [], "mix kap_clinic.kernel.validation.BoundedInput into these forms"


# ---- NUL characters and oversized values -------------------------------------------------------------------------


def test_a_nul_character_in_a_search_gets_a_clear_400(client_for, front_desk, patient):
    response = client_for(front_desk).post(reverse("patients:list"), {"q": "Qu\x00ill"})
    assert response.status_code == 400
    assert "null" in response.content.decode()


def test_a_nul_character_in_a_query_string_or_a_field_name_gets_a_400(client_for, front_desk):
    client = client_for(front_desk)
    assert client.get(reverse("sessions:schedule"), {"day": "2027-01-01\x00"}).status_code == 400
    assert client.post(reverse("patients:list"), {"q\x00": "x"}).status_code == 400


def test_a_nul_character_in_the_address_gets_a_400(client_for, front_desk):
    assert client_for(front_desk).get("/patients/%00/").status_code == 400


def test_a_200000_character_note_is_refused_and_nothing_is_saved(client_for, front_desk, patient):
    from billing.models import Payer, PriorAuthorization

    payer = Payer.objects.create(name="Huge Health")
    url = reverse("billing:authorization_create", kwargs={"patient_pk": patient.pk})
    response = client_for(front_desk).post(url, {"payer": payer.pk, "notes": "x" * 200_000})
    assert response.status_code == 400
    assert f"{REQUEST_VALUE_MAX:,}" in response.content.decode()
    assert not PriorAuthorization.objects.exists()


def test_a_note_over_the_form_cap_is_shown_again_with_the_limit(client_for, clinician, patient):
    from screening.models import MedicalHistory
    from screening.services import screening_start

    screening = screening_start(patient=patient, by=clinician)
    response = client_for(clinician).post(
        reverse("screening:medical", kwargs={"pk": screening.pk}),
        {"notes": "n" * (NOTE_MAX + 1), "med-TOTAL_FORMS": "0", "med-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 400
    assert f"at most {NOTE_MAX} characters" in response.content.decode()
    assert not MedicalHistory.objects.exists()


def test_a_100000_character_username_is_refused_before_sign_in(client):
    response = client.post(reverse("accounts:login"), {"username": "u" * 100_000, "password": "whatever"})
    assert response.status_code == 400
    assert "longer than the clinic accepts" in response.content.decode()


def test_a_long_username_is_a_form_error_not_a_500(client):
    """Axes stores the username of a failed sign-in in a 255-character column: the form stops it first."""
    from axes.models import AccessAttempt

    response = client.post(reverse("accounts:login"), {"username": "u" * 1_000, "password": "whatever"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert all(len(a.username or "") <= 150 for a in AccessAttempt.objects.all())


# ---- Birth dates -------------------------------------------------------------------------------------------------

PATIENT = {
    "given_name": "Ivy",
    "family_name": "Marsh",
    "sex_for_scoring": "female",
}


@pytest.mark.parametrize("born", ["2999-01-01", "1850-03-03", "0001-01-01", "9999-12-31"])
def test_a_birth_date_in_the_future_or_over_120_years_ago_is_refused(client_for, front_desk, born):
    response = client_for(front_desk).post(reverse("patients:create"), {**PATIENT, "date_of_birth": born})
    assert response.status_code == 400
    assert "birth" in response.content.decode() or "between" in response.content.decode()
    assert not Patient.objects.filter(family_name="Marsh").exists()


def test_a_birth_date_tomorrow_is_refused_on_edit_too(client_for, front_desk, patient):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    url = reverse("patients:edit", kwargs={"pk": patient.pk})
    response = client_for(front_desk).post(url, {**PATIENT, "date_of_birth": tomorrow})
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    patient.refresh_from_db()
    assert patient.date_of_birth == date(1980, 5, 17)


def test_the_service_refuses_an_implausible_birth_date():
    from patients.services import patient_create

    with pytest.raises(ValidationError):
        patient_create(created_by=None, given_name="A", family_name="B", date_of_birth=date(1850, 1, 1))


def test_the_database_refuses_a_birth_date_before_1900():
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.create(mrn="KAP-99999999", given_name="A", family_name="B", date_of_birth=date(1850, 1, 1))


# ---- Bookings, plans, check-in series, schedules ------------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1000-01-01"])
@pytest.mark.parametrize("span", ["day", "week"])
def test_the_schedule_shows_today_for_an_implausible_day(client_for, front_desk, day, span):
    response = client_for(front_desk).get(reverse("sessions:schedule"), {"day": day, "span": span})
    assert response.status_code == 200
    assert "Showing today instead" in response.content.decode()


def test_the_schedule_says_so_for_a_date_it_cannot_read(client_for, front_desk):
    response = client_for(front_desk).get(reverse("sessions:schedule"), {"day": "31/12/2027"})
    assert response.status_code == 200
    assert "no valid date" in response.content.decode()


@pytest.fixture
def enrolled(patient, clinician):
    from sessions.scheduling.enrollment import enrollment_create

    enrollment_create(patient=patient, by=clinician, override_justification="Input bounds tests: gate overridden.")
    return patient


@pytest.mark.parametrize("first_day", ["0001-01-01", "9999-12-31", "+3 years"])
@pytest.mark.parametrize("action", ["preview", "confirm"])
def test_a_plan_far_outside_the_booking_window_is_refused(client_for, clinician, enrolled, first_day, action):
    from sessions.models import DosingSession, Protocol, Room

    if first_day == "+3 years":
        first_day = (timezone.localdate() + timedelta(days=3 * 366)).isoformat()
    protocol = Protocol.objects.get(route="iv")
    data = {
        "protocol": protocol.pk,
        "first_day": first_day,
        "room": Room.objects.create(name="Chair 1").pk,
        "clinician": clinician.pk,
        "planned_dose": "0.5",
        "action": action,
    }
    url = reverse("sessions:plan_create", kwargs={"patient_pk": enrolled.pk})
    response = client_for(clinician).post(url, data)
    assert response.status_code == 400
    assert "between" in response.content.decode()
    assert not DosingSession.objects.exists()


@pytest.mark.parametrize("new_start", ["0001-01-01T00:00", "9999-12-31T23:59", "2300-01-01T09:00"])
def test_a_reschedule_to_an_implausible_time_is_refused(client_for, clinician, patient, new_start):
    from tests.sessions.record_helpers import book_session

    session = book_session(patient, clinician)
    before = session.starts_at
    url = reverse("sessions:session_reschedule", kwargs={"pk": session.pk})
    response = client_for(clinician).post(url, {"new_start": new_start})
    assert response.status_code == 400
    session.refresh_from_db()
    assert session.starts_at == before


@pytest.mark.parametrize("new_start", ["2027-03-14T02:30", "2027-11-07T01:30"])
def test_a_reschedule_to_a_time_the_clocks_skip_or_repeat_is_refused_in_plain_words(
    client_for, clinician, patient, new_start
):
    from tests.sessions.record_helpers import book_session

    session = book_session(patient, clinician)
    before = session.starts_at
    url = reverse("sessions:session_reschedule", kwargs={"pk": session.pk})
    response = client_for(clinician).post(url, {"new_start": new_start})
    assert response.status_code == 400
    page = response.content.decode()
    assert "is skipped or repeated when the clocks change" in page and "America/" not in page
    assert f'value="{new_start}"' in page  # what was typed is shown again
    session.refresh_from_db()
    assert session.starts_at == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_an_integration_session_in_an_implausible_year_is_refused(client_for, clinician, patient, day):
    from aftercare.models import IntegrationSession

    url = reverse("aftercare:integration_book", kwargs={"patient_pk": patient.pk})
    data = {"clinician": clinician.pk, "modality": "cbt", "day": day, "start_time": "10:00", "duration_minutes": 50}
    assert client_for(clinician).post(url, data).status_code == 400
    assert not IntegrationSession.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_checkin_series_counted_from_an_implausible_day_is_refused(client_for, clinician, patient, day):
    from aftercare.models import CheckIn

    url = reverse("aftercare:checkin_series_create", kwargs={"patient_pk": patient.pk})
    data = {"induction_ended_on": day, "instrument_codes": ["phq9"], "weekly": 4, "later_every_weeks": 3}
    response = client_for(clinician).post(url, {**data, "horizon_weeks": 12})
    assert response.status_code == 400
    assert not CheckIn.objects.exists()


# ---- Prior authorizations ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [("0001-01-01", "9999-12-31"), ("2027-01-01", "2031-01-01"), ("1850-01-01", "1850-02-01")],
)
def test_an_authorization_with_implausible_dates_is_refused(client_for, front_desk, patient, starts_on, ends_on):
    from billing.models import Payer, PriorAuthorization

    payer = Payer.objects.create(name="Window Health")
    url = reverse("billing:authorization_create", kwargs={"patient_pk": patient.pk})
    response = client_for(front_desk).post(url, {"payer": payer.pk, "starts_on": starts_on, "ends_on": ends_on})
    assert response.status_code == 400
    assert not PriorAuthorization.objects.exists()


def test_the_authorization_service_refuses_year_1_to_9999(front_desk, patient):
    from billing.models import Payer
    from billing.services import authorization_create

    with pytest.raises(ValidationError):
        authorization_create(
            patient=patient,
            payer=Payer.objects.create(name="Service Health"),
            by=front_desk,
            starts_on=date(1, 1, 1),
            ends_on=date(9999, 12, 31),
        )


# ---- Clinical event times ---------------------------------------------------------------------------------------


@pytest.fixture
def dosed_session(patient, clinician, time_machine):
    from tests.sessions.record_helpers import book_session, checked_and_dosed

    session = book_session(patient, clinician)
    time_machine.move_to(session.starts_at + timedelta(minutes=5), tick=False)
    checked_and_dosed(session, clinician)
    time_machine.move_to(session.starts_at + timedelta(minutes=30), tick=False)
    return session


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("onset", "said"),
    [("0001-01-01T00:00", "between"), ("9999-12-31T23:59", "between"), ("the day before", "day of the session")],
)
def test_an_adverse_event_outside_the_session_day_is_refused(client_for, clinician, dosed_session, onset, said):
    from sessions.models import AdverseEvent

    if onset == "the day before":
        onset = _local(dosed_session.starts_at - timedelta(days=1))
    url = reverse("sessions:record_adverse_event", kwargs={"pk": dosed_session.pk})
    data = {"event-kind": "nausea", "event-severity": "mild", "event-onset_at": onset}
    response = client_for(clinician).post(url, data)
    assert response.status_code == 400
    assert said in response.content.decode()
    assert not AdverseEvent.objects.exists()


def test_vitals_dated_another_day_are_refused(clinician, dosed_session):
    from sessions.record.monitoring import vital_sign_record

    with pytest.raises(ValidationError, match="day of the session"):
        vital_sign_record(
            session=dosed_session, by=clinician, taken_at=dosed_session.starts_at - timedelta(days=1), hr=70
        )


def test_an_adverse_event_during_the_session_is_recorded(client_for, clinician, dosed_session):
    from sessions.models import AdverseEvent

    url = reverse("sessions:record_adverse_event", kwargs={"pk": dosed_session.pk})
    onset = _local(dosed_session.starts_at + timedelta(minutes=20))
    data = {"event-kind": "nausea", "event-severity": "mild", "event-onset_at": onset}
    assert client_for(clinician).post(url, data).status_code == 302
    assert AdverseEvent.objects.get().severity == "mild"


def test_a_lot_expiring_in_the_year_9999_is_refused(client_for, clinician):
    from sessions.models import ControlledProduct, ProductLot

    product = ControlledProduct.objects.create(name="Ketamine", strength="ketamine HCl 50 mg/mL")
    data = {"product": product.pk, "lot_number": "L1", "expires_on": "9999-12-31", "quantity": "500", "unit": "mg"}
    assert client_for(clinician).post(reverse("sessions:cs_receive"), data).status_code == 400
    assert not ProductLot.objects.exists()


def test_the_database_refuses_an_authorization_dated_outside_2000_to_2100(front_desk, patient):
    from billing.models import Payer, PriorAuthorization

    payer = Payer.objects.create(name="Constraint Health")
    with pytest.raises(IntegrityError), transaction.atomic():
        PriorAuthorization.objects.create(
            patient=patient, payer=payer, starts_on=date(1, 1, 1), ends_on=date(2027, 1, 1)
        )


# ---- What the pages offer ---------------------------------------------------------------------------------------


def test_date_pickers_offer_only_the_window_and_text_boxes_say_their_limit(client_for, front_desk):
    page = client_for(front_desk).get(reverse("patients:create")).content.decode()
    today = timezone.localdate()
    assert f'max="{today.isoformat()}"' in page  # no birth date in the future
    assert f'min="{today.replace(year=today.year - 120).isoformat()}"' in page
    assert 'maxlength="100"' in page  # given name, from the model


def test_a_sign_in_step_sent_somewhere_that_is_not_a_path_goes_home(client_for, clinician):
    response = client_for(clinician).post(reverse("accounts:two_factor_verify"), {"next": "0001-01-01"})
    assert response.status_code == 302
    assert response["Location"] == reverse("homes:home")


def test_the_rems_form_offers_birth_dates_up_to_today(client_for, clinician, patient):
    from sessions.models import Protocol, Room
    from sessions.rems.delivery import rems_form_start
    from sessions.scheduling.enrollment import enrollment_create
    from sessions.scheduling.planning import plan_create

    enrollment_create(patient=patient, by=clinician, override_justification="Input bounds tests: gate overridden.")
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="intranasal"),
        first_day=timezone.localdate() + timedelta(days=1),
        start_time=None,
        room=Room.objects.create(name="Chair R"),
        clinician=clinician,
        planned_dose=Decimal("56"),
        by=clinician,
    )
    session = plan.sessions.order_by("starts_at").first()
    rems_form_start(session=session, by=clinician)
    page = client_for(clinician).get(reverse("sessions:rems_edit", kwargs={"pk": session.pk})).content.decode()
    assert f'max="{timezone.localdate().isoformat()}"' in page
    response = client_for(clinician).post(
        reverse("sessions:rems_edit", kwargs={"pk": session.pk}), {"patient_date_of_birth": "1850-01-01"}
    )
    assert response.status_code == 400
    assert "within the last 120 years" in response.content.decode()


def test_fields_a_form_adds_in_its_own_init_are_capped_too():
    class LateField(BoundedInput, forms.Form):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["details"] = forms.CharField(widget=forms.Textarea, required=False)

    assert not LateField({"details": "d" * (NOTE_MAX + 1)}).is_valid()
    assert LateField({"details": "d" * NOTE_MAX}).is_valid()


def test_the_admin_site_caps_text_too(client_for, admin_user):
    from billing.models import Payer

    url = reverse("admin:billing_payer_add")
    response = client_for(admin_user).post(url, {"name": "Long Notes Health", "notes": "n" * (NOTE_MAX + 1)})
    assert response.status_code == 200  # the admin shows its form again
    assert f"at most {NOTE_MAX} characters" in response.content.decode()
    assert not Payer.objects.exists()


# ---- Every date field of every form ------------------------------------------------------------------------------

# Constructor arguments of the forms that need some; a new form with a date field and required arguments fails
# `test_every_date_field_of_every_form_refuses_1850_and_2030` until it is listed here.
FORM_ARGUMENTS = {
    "sessions.consent.forms.ConsentRecordForm": lambda: {"documents": ConsentDocument.objects.none()},
}
# Dates that may rightly be in 2030: a controlled-substance lot received today can expire then.
MAY_BE_IN_2030 = {("sessions.controlled.forms.LotReceiveForm", "expires_on")}


def project_form_classes():
    for package in PROJECT_PACKAGES:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    stack, found = [forms.BaseForm], []
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PROJECT_PACKAGES and cls not in found:
            found.append(cls)
    return found


def date_fields_of_every_form():
    """(form label, field name, the field as the form shows it) for every date and date-time field."""
    rows, missing = [], []
    for cls in project_form_classes():
        label = f"{cls.__module__}.{cls.__qualname__}"
        names = [
            name
            for name, field in getattr(cls, "base_fields", {}).items()
            if isinstance(field, forms.DateField | forms.DateTimeField)
        ]
        if not names:
            continue
        try:
            form = cls(**FORM_ARGUMENTS.get(label, dict)())
        except TypeError:
            missing.append(label)
            continue
        rows.extend((label, name, form.fields[name]) for name in names)
    assert missing == [], "give these forms' constructor arguments in FORM_ARGUMENTS"
    return rows


@pytest.mark.parametrize("year", [1850, 2030])
def test_every_date_field_of_every_form_refuses_1850_and_2030(year, time_machine):
    time_machine.move_to("2026-12-02 12:00", tick=False)
    fields = date_fields_of_every_form()
    labels = {label for label, _, _ in fields}
    # The registration, screening-era (REMS enrollment), session record and billing forms are all walked.
    assert {
        "patients.forms.PatientForm",
        "patients.forms.PatientRegisterForm",
        "patients.forms.RemsEnrollmentForm",
        "billing.forms.AuthorizationForm",
        "sessions.record.forms.VitalSignForm",
        "sessions.rems.forms.RemsEditForm",
    } <= labels
    accepted = []
    for label, name, field in fields:
        if year == 2030 and (label, name) in MAY_BE_IN_2030:
            continue
        typed = f"{year}-06-15" if isinstance(field, forms.DateField) else f"{year}-06-15T10:00"
        try:
            field.clean(typed)
        except ValidationError as exc:
            assert any("birth" in m or "between" in m for m in exc.messages), (label, name, exc.messages)
        else:
            accepted.append(f"{label}.{name}")
    assert accepted == [], f"these fields accept a date in {year}"


def test_the_patient_form_shows_a_clear_error_for_a_birth_date_in_2030(client_for, front_desk):
    client = client_for(front_desk)
    response = client.post(reverse("patients:create"), {**PATIENT, "date_of_birth": "2030-01-01"})
    assert response.status_code == 400
    assert "A date of birth cannot be in the future." in response.content.decode()
