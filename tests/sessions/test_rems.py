import io
import re
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from screening.services import medical_save, screening_start
from sessions.models import Protocol, RemsMonitoringForm, Room
from sessions.rems import delivery, planning, reading
from sessions.rems.pdf import rems_form_pdf
from sessions.scheduling.changes import session_check_in
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create

pytestmark = pytest.mark.django_db

SETTING = {
    "REMS_SETTING_NAME": "Harbor Light Wellness",
    "REMS_SETTING_ADDRESS1": "Pier Road",
    "REMS_SETTING_ADDRESS2": "",
    "REMS_SETTING_CITY": "Hudson",
    "REMS_SETTING_STATE": "NY",
    "REMS_SETTING_ZIP": "12534",
    "REMS_SETTING_PHONE": "518-555-0142",
}

# Everything the form asks, as a clinician would answer it after a session.
ANSWERS = {
    "is_enrolled_in_rems": True,
    "patient_sex": "female",
    "takes_benzodiazepines": False,
    "takes_sedative_hypnotics": True,
    "takes_psychostimulants": False,
    "takes_maois": False,
    "takes_opioids": False,
    "hcp_first_name": "Mara",
    "hcp_last_name": "Olsen",
    "hcp_email": "mara.olsen@example.org",
    "dose": "56",
    "lot_number": "EKL7731",
    "total_monitoring_minutes": 135,
    "ready_to_leave_minutes": 95,
    "vitals_ok_before_administration": True,
    "vitals_ok_before_completion": True,
    "bp_pre_systolic": 138,
    "bp_pre_diastolic": 86,
    "bp_40min_systolic": 152,
    "bp_40min_diastolic": 94,
    "bp_end_systolic": 128,
    "bp_end_diastolic": 81,
}
EVENTS = {
    "sedation": (True, "Drowsy, resolved without intervention"),
    "dissociation": (True, "Resolved before discharge"),
    "respiratory_depression": (False, ""),
    "other_adverse_event": (False, ""),
}


@pytest.fixture(autouse=True)
def _rems_setting(settings):
    for name, value in SETTING.items():
        setattr(settings, name, value)


@pytest.fixture
def room():
    return Room.objects.create(name="Room A")


def book_rems_plan(patient, clinician, room, *, first_day=None):
    if not patient.enrollments.filter(status="active").exists():
        enrollment_create(
            patient=patient, by=clinician, override_justification="Enrolled for the REMS form tests of this suite."
        )
    return plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="intranasal"),
        first_day=first_day or timezone.localdate() + timedelta(days=1),
        start_time=time(9, 0),
        room=room,
        clinician=clinician,
        planned_dose=Decimal("56"),
        by=clinician,
    )


@pytest.fixture
def rems_session(patient, clinician, room):
    return book_rems_plan(patient, clinician, room).sessions.order_by("starts_at").first()


def after(session, hours=3):
    """The clock some hours after the session started (the form is filled in after monitoring)."""
    return time_machine.travel(session.starts_at + timedelta(hours=hours), tick=False)


def filled_form(session, clinician, **overrides) -> RemsMonitoringForm:
    session_check_in(session=session, by=clinician)
    form = delivery.rems_form_start(session=session, by=clinician)
    return delivery.rems_form_save(form=form, by=clinician, data={**ANSWERS, **overrides}, events=EVENTS)


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with line breaks and runs of spaces made single spaces (table cells wrap)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


# ---- The PDF ------------------------------------------------------------------------------------


def test_pdf_holds_the_sessions_values_and_only_those(rems_session, clinician, other_patient):
    with after(rems_session):
        form = filled_form(rems_session, clinician)
        form = delivery.rems_form_sign(form=form, by=clinician)
        pdf = rems_form_pdf(form)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    treated = timezone.localtime(rems_session.starts_at).date()
    signed = timezone.localtime(form.signed_at)

    for value in (
        "Ada",
        "Quill",
        "05/17/1980",
        "Female",
        "56 mg",
        "EKL7731",
        "Mara",
        "Olsen",
        "mara.olsen@example.org",
        "518-555-0142",
        "Harbor Light Wellness",
        "Pier Road",
        "Hudson",
        "NY 12534",
        treated.strftime("%m/%d/%Y"),
        "Pre-administration 138 86",
        "152 94",
        "128 81",
        "135",
        "95",
        "Drowsy, resolved without intervention",
        f"Signed by {clinician.get_full_name()}",
    ):
        assert value in text, value

    # Nothing else: not the chart number, not another patient, not the session's internal numbers.
    for absent in (rems_session.patient.mrn, other_patient.given_name, other_patient.family_name, "Draft"):
        assert absent not in text, absent
    expected_numbers = {
        *"05 17 1980".split(),
        *treated.strftime("%m %d %Y").split(),
        *signed.strftime("%m %d %Y %H %M").split(),
        "56", "7731", "518", "555", "0142", "12534",
        "135", "95", "138", "86", "152", "94", "128", "81",
        "2021", "11",  # form version
        "1",  # "1st device administration", and the page counter "1 / 1"
    }  # fmt: skip
    assert set(re.findall(r"\d+", text)) <= expected_numbers
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_an_unsigned_form_prints_as_a_draft(rems_session, clinician):
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
        form = delivery.rems_form_start(session=rems_session, by=clinician)
        assert "Draft: not signed" in pdf_text(rems_form_pdf(form))


def test_staff_download_the_pdf_under_a_name_without_the_patients(
    client_for, rems_session, clinician, front_desk, patient
):
    with after(rems_session):
        filled_form(rems_session, clinician)
        response = client_for(front_desk).get(reverse("sessions:rems_pdf", kwargs={"pk": rems_session.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert patient.family_name not in response["Content-Disposition"]
    assert "Quill" in pdf_text(response.content)
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__patient_id=patient.pk).exists()


# ---- Completeness and sign-off ------------------------------------------------------------------


def test_a_form_with_a_missing_field_cannot_be_signed_and_the_field_is_named(rems_session, clinician):
    with after(rems_session):
        form = filled_form(rems_session, clinician, lot_number="", bp_40min_systolic=None)
        form = delivery.rems_form_save(form=form, by=clinician, data={}, events={"respiratory_depression": (None, "")})
        missing = delivery.rems_form_missing_fields(form)
        assert missing == [
            "lot number",
            "systolic BP about 40 minutes after administration",
            "respiratory depression (yes or no)",
        ]
        assert not delivery.rems_form_complete(form)
        check = delivery.rems_can_sign(rems_session)
        assert not check and check.required
        assert "lot number" in check.reasons[0]
        with pytest.raises(ValidationError) as refused:
            delivery.rems_form_sign(form=form, by=clinician)
    assert "systolic BP about 40 minutes after administration" in " ".join(refused.value.messages)
    form.refresh_from_db()
    assert form.signed_at is None


def test_a_complete_form_is_signed_and_then_read_only(rems_session, clinician):
    with after(rems_session):
        form = filled_form(rems_session, clinician)
        assert delivery.rems_form_missing_fields(form) == []
        assert delivery.rems_can_sign(rems_session)
        form = delivery.rems_form_sign(form=form, by=clinician)
        assert form.signed_by == clinician
        with pytest.raises(ValidationError, match="signed"):
            delivery.rems_form_save(form=form, by=clinician, data={"lot_number": "OTHER"})


def test_other_dose_needs_its_mg_and_other_adverse_event_needs_details(rems_session, clinician):
    with after(rems_session):
        form = filled_form(rems_session, clinician, dose="other")
        form = delivery.rems_form_save(form=form, by=clinician, data={}, events={"other_adverse_event": (True, "")})
        assert delivery.rems_form_missing_fields(form) == ["other dose (mg)", "what the other adverse event was"]
        form = delivery.rems_form_save(
            form=form, by=clinician, data={"dose_other_mg": 28}, events={"other_adverse_event": (True, "Nausea")}
        )
        assert delivery.rems_form_complete(form)
        assert form.dose_mg == 28


def test_answers_refused_on_a_first_save_leave_no_form_started(rems_session, clinician):
    with after(rems_session):
        with pytest.raises(ValidationError):
            delivery.rems_form_fill(session=rems_session, by=clinician, data={"bp_pre_systolic": 5}, events={})
        assert not RemsMonitoringForm.objects.filter(session=rems_session).exists()
        delivery.rems_form_fill(session=rems_session, by=clinician, data={"bp_pre_systolic": 132}, events={})
    assert RemsMonitoringForm.objects.get(session=rems_session).bp_pre_systolic == 132


def test_ready_to_leave_after_completion_blocks_signing(rems_session, clinician):
    with after(rems_session):
        form = filled_form(rems_session, clinician, ready_to_leave_minutes=150)
        assert delivery.rems_form_missing_fields(form) == []
        check = delivery.rems_can_sign(rems_session)
    assert not check
    assert "ready to leave after monitoring was completed" in check.reasons[0]


def test_short_monitoring_is_flagged_but_not_blocking(rems_session, clinician):
    with after(rems_session):
        form = filled_form(rems_session, clinician, total_monitoring_minutes=100, ready_to_leave_minutes=90)
        assert delivery.rems_can_sign(rems_session)
    assert "less than the REMS minimum of 120 minutes" in delivery.rems_form_warnings(form)[0]


def test_sessions_without_rems_need_no_form(patient, clinician, room):
    enrollment_create(patient=patient, by=clinician, override_justification="Enrolled for the REMS form tests here.")
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="iv"),
        first_day=timezone.localdate() + timedelta(days=1),
        start_time=None,
        room=room,
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=clinician,
    )
    check = delivery.rems_can_sign(plan.sessions.first())
    assert check and not check.required
    with pytest.raises(ValidationError):
        delivery.rems_form_start(session=plan.sessions.first(), by=clinician)


def test_a_rems_session_without_a_form_cannot_be_signed(rems_session):
    check = delivery.rems_can_sign(rems_session)
    assert not check
    assert check.reasons == ("The REMS Patient Monitoring Form has not been started.",)


def test_only_clinicians_fill_in_and_sign(rems_session, clinician, front_desk):
    with pytest.raises(PermissionDenied):
        delivery.rems_form_start(session=rems_session, by=front_desk)
    with after(rems_session):
        form = filled_form(rems_session, clinician)
        with pytest.raises(PermissionDenied):
            delivery.rems_form_sign(form=form, by=front_desk)


def test_a_missing_field_is_shown_and_signing_through_the_page_is_refused(client_for, rems_session, clinician):
    with after(rems_session):
        filled_form(rems_session, clinician, hcp_phone="")
        client = client_for(clinician)
        page = client.get(reverse("sessions:rems_detail", kwargs={"pk": rems_session.pk})).content.decode()
        response = client.post(reverse("sessions:rems_sign", kwargs={"pk": rems_session.pk}), follow=True)
    assert "monitoring provider&#x27;s phone" in page
    assert "monitoring provider&#x27;s phone" in response.content.decode()
    assert RemsMonitoringForm.objects.get().signed_at is None


@pytest.mark.parametrize("field", delivery.REQUIRED_FIELDS)
def test_each_required_field_left_empty_refuses_signing_and_is_named(rems_session, clinician, field):
    empty = None if RemsMonitoringForm._meta.get_field(field).null else ""
    label = str(RemsMonitoringForm._meta.get_field(field).verbose_name)
    with after(rems_session):
        form = filled_form(rems_session, clinician, **{field: empty})
        assert label in delivery.rems_form_missing_fields(form)
        with pytest.raises(ValidationError) as refused:
            delivery.rems_form_sign(form=form, by=clinician)
    assert label in " ".join(refused.value.messages)
    form.refresh_from_db()
    assert form.signed_at is None


def test_the_optional_fields_may_stay_empty(rems_session, clinician):
    optional = [name for name, required in delivery.FORM_FIELDS.items() if not required]
    assert optional == ["patient_middle_initial", "setting_address2", "dose_other_mg"]
    blanks = {name: None if RemsMonitoringForm._meta.get_field(name).null else "" for name in optional}
    with after(rems_session):
        form = filled_form(rems_session, clinician, **blanks)
        assert delivery.rems_form_missing_fields(form) == []
        form = delivery.rems_form_sign(form=form, by=clinician)
    assert form.signed_at is not None


# ---- Prefill ------------------------------------------------------------------------------------


def test_concomitant_medications_are_prefilled_from_the_latest_screening(patient, clinician, front_desk, room):
    older = screening_start(patient=patient, by=front_desk)
    medical_save(
        screening=older,
        by=front_desk,
        data={},
        medications_rows=[{"name": "oxycodone"}],
        diagnoses_rows=[],
        complete=True,
    )
    latest = screening_start(patient=patient, by=front_desk)
    medical_save(
        screening=latest,
        by=front_desk,
        data={},
        medications_rows=[{"name": "lorazepam", "dose": "1 mg"}, {"name": "Adderall"}, {"name": "sertraline"}],
        diagnoses_rows=[],
        complete=True,
    )
    rems_session = book_rems_plan(patient, clinician, room).sessions.order_by("starts_at").first()
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
        form = delivery.rems_form_start(session=rems_session, by=clinician)
    assert form.takes_benzodiazepines is True
    assert form.takes_psychostimulants is True
    assert form.takes_opioids is False  # only on the older screening
    assert form.takes_sedative_hypnotics is False
    assert form.takes_maois is False
    assert (form.patient_first_name, form.patient_last_name, form.patient_date_of_birth) == (
        "Ada",
        "Quill",
        date(1980, 5, 17),
    )
    assert (form.setting_name, form.setting_city, form.setting_state, form.setting_zip) == (
        "Harbor Light Wellness",
        "Hudson",
        "NY",
        "12534",
    )
    assert form.hcp_phone == "518-555-0142"
    assert form.treatment_date == timezone.localtime(rems_session.starts_at).date()
    assert form.dose == "56"  # the planned fixed dose until the controlled-substance log says otherwise


def test_without_a_screening_the_medication_questions_stay_unanswered(rems_session, clinician):
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
        form = delivery.rems_form_start(session=rems_session, by=clinician)
    assert form.takes_benzodiazepines is None
    assert "benzodiazepines" in delivery.rems_form_missing_fields(form)


def test_dose_and_lot_come_from_the_controlled_substance_log(rems_session, clinician, other_clinician, admin_user):
    from sessions.controlled.services import cs_dose_record, cs_lot_receive
    from sessions.models import ControlledProduct

    product = ControlledProduct.objects.create(name="Spravato", strength="esketamine 28 mg nasal device")
    with after(rems_session):
        lot = cs_lot_receive(
            product=product, lot_number="SPV0912", expires_on=date(2099, 1, 1), quantity="280", by=admin_user
        )
        session_check_in(session=rems_session, by=clinician)
        cs_dose_record(session=rems_session, lot=lot, drawn_mg="84", administered_mg="84", wasted_mg="0", by=clinician)
        form = delivery.rems_form_start(session=rems_session, by=clinician)
    assert (form.dose, form.lot_number) == ("84", "SPV0912")


def test_first_treatment_is_worked_out_from_earlier_rems_sessions(rems_session, clinician):
    second = rems_session.plan.sessions.order_by("starts_at")[1]
    with after(rems_session):
        first_form = filled_form(rems_session, clinician)
    with after(second):
        session_check_in(session=second, by=clinician)
        second_form = delivery.rems_form_start(session=second, by=clinician)
    assert first_form.is_first_treatment is True
    assert second_form.is_first_treatment is False


# ---- The 7-day deadline -------------------------------------------------------------------------


def test_a_form_is_pending_until_submitted_and_overdue_after_seven_days(rems_session, clinician, front_desk):
    treated = timezone.localtime(rems_session.starts_at).date()
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
        [row] = reading.rems_forms_due(front_desk)
        assert (row.state, row.due_on, row.days_left, row.is_overdue) == (
            "Not started",
            treated + timedelta(7),
            7,
            False,
        )
        form = delivery.rems_form_save(
            form=delivery.rems_form_start(session=rems_session, by=clinician), by=clinician, data=ANSWERS, events=EVENTS
        )
        [row] = reading.rems_forms_due(front_desk)
        assert row.state == "Draft" and row.form == form
        form = delivery.rems_form_sign(form=form, by=clinician)
        [row] = reading.rems_forms_due(front_desk)
        assert row.state == "Signed, not submitted" and not row.is_overdue

    with time_machine.travel(rems_session.starts_at + timedelta(days=7), tick=False):
        [row] = reading.rems_forms_due(front_desk)
        assert row.days_left == 0 and not row.is_overdue

    with time_machine.travel(rems_session.starts_at + timedelta(days=8), tick=False):
        [row] = reading.rems_forms_due(front_desk)
        assert row.is_overdue and row.days_overdue == 1
        delivery.rems_form_mark_submitted(form=form, by=front_desk, reference="RX-CONF-1")
        assert reading.rems_forms_due(front_desk) == []
    form.refresh_from_db()
    assert form.submitted_by == front_desk and form.submission_reference == "RX-CONF-1"


def test_the_pending_page_shows_overdue_forms_and_submission_takes_them_off(
    client_for, rems_session, clinician, front_desk
):
    with after(rems_session):
        form = delivery.rems_form_sign(form=filled_form(rems_session, clinician), by=clinician)
    with time_machine.travel(rems_session.starts_at + timedelta(days=9), tick=False):
        client = client_for(front_desk)
        page = client.get(reverse("sessions:rems_pending")).content.decode()
        assert "Overdue by 2 days" in page
        assert "Quill" in page
        response = client.post(
            reverse("sessions:rems_submit", kwargs={"pk": rems_session.pk}), {"reference": "FAX-0042"}
        )
        assert response.status_code == 302
        page = client.get(reverse("sessions:rems_pending")).content.decode()
    assert "No REMS forms are waiting to be submitted." in page
    form.refresh_from_db()
    assert form.is_submitted


def test_the_pending_page_counts_overdue_forms_from_the_deadline_day_on(
    client_for, rems_session, clinician, front_desk
):
    """The count of overdue forms above the (paged) list is the database's, and agrees with the rows' badges."""
    with after(rems_session):
        filled_form(rems_session, clinician)
    on_the_day = timezone.localtime(rems_session.starts_at).replace(hour=12) + timedelta(
        days=planning.REMS_SUBMISSION_DAYS
    )
    with time_machine.travel(on_the_day, tick=False):
        page = client_for(front_desk).get(reverse("sessions:rems_pending")).content.decode()
    assert "Due today" in page and "overdue." not in page
    with time_machine.travel(on_the_day + timedelta(days=1), tick=False):
        page = client_for(front_desk).get(reverse("sessions:rems_pending")).content.decode()
    assert "Overdue by 1 day" in page and "1 overdue." in page


def test_an_unsigned_form_cannot_be_marked_submitted(rems_session, clinician, front_desk):
    with after(rems_session):
        form = filled_form(rems_session, clinician)
        with pytest.raises(ValidationError, match="Sign the REMS form"):
            delivery.rems_form_mark_submitted(form=form, by=front_desk)


def test_scheduled_sessions_are_not_pending_before_they_take_place(rems_session, front_desk):
    assert reading.rems_forms_due(front_desk) == []


# ---- Pages and access ---------------------------------------------------------------------------


def test_a_clinician_fills_in_the_form_through_the_page(client_for, rems_session, clinician):
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
        client = client_for(clinician)
        url = reverse("sessions:rems_edit", kwargs={"pk": rems_session.pk})
        page = client.get(url)
        assert page.status_code == 200
        assert RemsMonitoringForm.objects.count() == 0  # opening the page writes nothing
        data = {**page.context["form"].initial}
        data = {k: ("" if v is None else v) for k, v in data.items() if k in delivery.EDITABLE_FIELDS}
        data.update({k: ("true" if v is True else "false" if v is False else v) for k, v in ANSWERS.items()})
        for event_type, (occurred, details) in EVENTS.items():
            data[f"event_{event_type}"] = "true" if occurred else "false"
            data[f"event_{event_type}_details"] = details
        data["patient_date_of_birth"] = "1980-05-17"
        data["treatment_date"] = timezone.localtime(rems_session.starts_at).date().isoformat()
        data["setting_address1"], data["setting_city"], data["setting_state"], data["setting_zip"] = (
            "Pier Road",
            "Hudson",
            "ny",
            "12534",
        )
        data["hcp_phone"] = "518-555-0142"
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        form = RemsMonitoringForm.objects.get()
        assert form.setting_state == "NY"
        assert delivery.rems_form_missing_fields(form) == []
        client.post(reverse("sessions:rems_sign", kwargs={"pk": rems_session.pk}))
    form.refresh_from_db()
    assert form.signed_by == clinician
    assert LogEntry.objects.filter(
        action=LogEntry.Action.CREATE, additional_data__patient_id=rems_session.patient_id
    ).exists()


def test_the_form_page_refuses_a_bad_blood_pressure(client_for, rems_session, clinician):
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
        url = reverse("sessions:rems_edit", kwargs={"pk": rems_session.pk})
        response = client_for(clinician).post(url, {"bp_pre_systolic": "80", "bp_pre_diastolic": "90"})
    assert response.status_code == 400
    assert not RemsMonitoringForm.objects.exists()


@pytest.mark.parametrize(
    ("name", "method"),
    [("rems_detail", "get"), ("rems_edit", "get"), ("rems_pdf", "get"), ("rems_sign", "post"), ("rems_submit", "post")],
)
def test_another_clinicians_patients_rems_form_is_not_found(
    client_for, rems_session, clinician, other_clinician, name, method
):
    with after(rems_session):
        filled_form(rems_session, clinician)
        client = client_for(other_clinician)
        url = reverse(f"sessions:{name}", kwargs={"pk": rems_session.pk})
        response = client.post(url) if method == "post" else client.get(url)
        assert response.status_code == 404
        assert reading.rems_forms_due(other_clinician) == []
        assert len(reading.rems_forms_due(clinician)) == 1


def test_a_session_of_another_protocol_has_no_rems_page(client_for, patient, clinician, room):
    enrollment_create(patient=patient, by=clinician, override_justification="Enrolled for the REMS form tests here.")
    plan = plan_create(
        patient=patient,
        protocol=Protocol.objects.get(route="iv"),
        first_day=timezone.localdate() + timedelta(days=1),
        start_time=None,
        room=room,
        clinician=clinician,
        planned_dose=Decimal("0.5"),
        by=clinician,
    )
    url = reverse("sessions:rems_detail", kwargs={"pk": plan.sessions.first().pk})
    assert client_for(clinician).get(url).status_code == 404


def test_the_pending_list_keeps_constant_queries(rems_session, clinician, front_desk, django_assert_num_queries):
    for session in rems_session.plan.sessions.all()[:4]:
        with after(session):  # each checked in on its own day
            session_check_in(session=session, by=clinician)
    with time_machine.travel(rems_session.plan.sessions.order_by("-starts_at").first().starts_at + timedelta(hours=3)):
        with django_assert_num_queries(1):
            rows = reading.rems_forms_due(front_desk)
    assert len(rows) == 4


# ---- Deadline warnings --------------------------------------------------------------------------


def test_staff_are_warned_before_and_after_the_seven_day_deadline_once_each(rems_session, clinician, front_desk):
    from kap_clinic.kernel.notifications.models import StaffAlert
    from sessions.tasks import warn_rems_forms_due

    treated = timezone.localtime(rems_session.starts_at).date()
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
    assert planning.rems_deadline_warnings(today=treated + timedelta(days=4)) == []  # three days left
    [due] = planning.rems_deadline_warnings(today=treated + timedelta(days=5))
    assert (due.kind, due.urgent, due.patient) == ("rems_due", False, rems_session.patient)
    assert due.link == reverse("sessions:rems_detail", args=[rems_session.pk])
    assert "not started" in due.summary and rems_session.patient.family_name not in due.summary
    planning.rems_deadline_warnings(today=treated + timedelta(days=6))
    assert StaffAlert.objects.count() == 1  # raised once
    with time_machine.travel(rems_session.starts_at + timedelta(days=8), tick=False):
        assert warn_rems_forms_due.apply().get() == 1  # now the urgent one
    assert StaffAlert.objects.filter(urgent=True, key=f"rems-{rems_session.pk}-overdue").exists()

    with time_machine.travel(rems_session.starts_at + timedelta(days=8, hours=1), tick=False):
        form = delivery.rems_form_sign(form=filled_form_after_check_in(rems_session, clinician), by=clinician)
        delivery.rems_form_mark_submitted(form=form, by=front_desk, reference="RX-CONF-2")
    assert not StaffAlert.objects.filter(acknowledged_at__isnull=True).exists()
    assert planning.rems_deadline_warnings(today=treated + timedelta(days=9)) == []


def test_the_clinic_chooses_how_early_staff_are_warned_of_the_rems_deadline(rems_session, clinician):
    from kap_clinic.kernel.clinic.models import ClinicSettings

    treated = timezone.localtime(rems_session.starts_at).date()
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
    assert planning.rems_deadline_warnings(today=treated + timedelta(days=3)) == []  # four days left, warned at two
    ClinicSettings.objects.filter(pk=ClinicSettings.load().pk).update(rems_warn_days=4)
    [due] = planning.rems_deadline_warnings(today=treated + timedelta(days=3))
    assert (due.kind, due.urgent) == ("rems_due", False)


def filled_form_after_check_in(session, clinician) -> RemsMonitoringForm:
    form = delivery.rems_form_start(session=session, by=clinician)
    return delivery.rems_form_save(form=form, by=clinician, data=ANSWERS, events=EVENTS)


# ---- Sex and blood pressures (issue item 18) ----------------------------------------------------------------------


def test_sex_is_prefilled_from_the_record_and_the_form_offers_other(rems_session, clinician):
    """The REMS Patient Monitoring Form (11/2021) asks Male / Female / Other
    (docs/clinical-references.md#clinical-review); the scoring sex, kept only for instrument cut-offs, is not what the
    form reports."""
    patient = rems_session.patient
    patient.sex, patient.sex_for_scoring = "other", "female"
    patient.save()
    with after(rems_session):  # on the session's day
        session_check_in(session=rems_session, by=clinician)

    form = delivery.rems_form_start(session=rems_session, by=clinician)

    assert form.patient_sex == "other"
    assert form.get_patient_sex_display() == "Other"


def test_sex_not_recorded_is_left_for_the_clinician(rems_session, clinician):
    patient = rems_session.patient
    patient.sex, patient.sex_for_scoring = "", "male"
    patient.save()
    with after(rems_session):  # on the session's day
        session_check_in(session=rems_session, by=clinician)

    assert delivery.rems_form_start(session=rems_session, by=clinician).patient_sex == ""


def _record_readings(
    session, clinician, *, pre=(138, 86), timeline=((15, 150, 92), (38, 152, 94), (45, 149, 90), (115, 128, 81))
):
    from sessions.models import PreDoseCheck, VitalSign

    PreDoseCheck.objects.create(
        session=session, checked_by=clinician, checked_at=session.starts_at, sbp=pre[0], dbp=pre[1]
    )
    for minutes, sbp, dbp in timeline:
        VitalSign.objects.create(
            session=session,
            taken_at=session.starts_at + timedelta(minutes=minutes + 5),
            minutes_from_dose=minutes,
            sbp=sbp,
            dbp=dbp,
            recorded_by=clinician,
        )


def test_blood_pressures_are_prefilled_from_the_pre_dose_check_and_the_vitals_timeline(rems_session, clinician):
    """Spravato label: blood pressure before dosing, at about 40 minutes, then before monitoring ends
    (docs/clinical-references.md#rems)."""
    with after(rems_session):  # on the session's day
        session_check_in(session=rems_session, by=clinician)
    _record_readings(rems_session, clinician)

    form = delivery.rems_form_start(session=rems_session, by=clinician)

    assert (form.bp_pre_systolic, form.bp_pre_diastolic) == (138, 86)
    assert (form.bp_40min_systolic, form.bp_40min_diastolic) == (152, 94)  # 38 minutes: the nearest to 40
    assert (form.bp_end_systolic, form.bp_end_diastolic) == (128, 81)


def test_the_40_minute_reading_the_discharge_accepts_is_the_one_the_form_is_prefilled_with(rems_session, clinician):
    """A reading at 55 minutes counts as the 40-minute check at discharge; the form takes it too, not a blank."""
    with after(rems_session):
        session_check_in(session=rems_session, by=clinician)
    _record_readings(rems_session, clinician, timeline=((55, 151, 93), (115, 128, 81)))

    form = delivery.rems_form_start(session=rems_session, by=clinician)

    assert (form.bp_40min_systolic, form.bp_40min_diastolic) == (151, 93)
    assert (form.bp_end_systolic, form.bp_end_diastolic) == (128, 81)


def test_a_blood_pressure_that_differs_from_the_record_blocks_signing(rems_session, clinician):
    _record_readings(rems_session, clinician)
    with after(rems_session):
        form = filled_form(rems_session, clinician, bp_40min_systolic=160)

        assert not delivery.rems_can_sign(rems_session)
        with pytest.raises(ValidationError, match=r"about 40 minutes after administration on the form \(160/94\)"):
            delivery.rems_form_sign(form=form, by=clinician)

        delivery.rems_form_save(form=form, by=clinician, data={"bp_40min_systolic": 152})
        assert delivery.rems_can_sign(rems_session)


def test_a_blood_pressure_the_record_does_not_hold_is_only_a_warning(rems_session, clinician):
    with after(rems_session):
        form = filled_form(rems_session, clinician)

        assert delivery.rems_can_sign(rems_session)
        assert "The blood pressure before administration (138/86) is not in the pre-dose check." in (
            delivery.rems_form_warnings(form)
        )


def test_the_form_page_offers_readings_taken_after_the_form_was_started(client_for, rems_session, clinician):
    with after(rems_session):  # on the session's day
        session_check_in(session=rems_session, by=clinician)
    with after(rems_session):
        delivery.rems_form_start(session=rems_session, by=clinician)
        _record_readings(rems_session, clinician)

        html = client_for(clinician).get(reverse("sessions:rems_edit", kwargs={"pk": rems_session.pk})).content.decode()

    assert 'name="bp_end_systolic" value="128"' in html
    assert RemsMonitoringForm.objects.get(session=rems_session).bp_end_systolic is None  # offered, not saved
