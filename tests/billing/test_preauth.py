"""Pre-authorization requests: the lifecycle's allowed and refused steps, a request assembled from the record, the
packet read back with pypdf, the channels, exactly-once sending (twice run, broker down), follow-ups and renewals."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from pypdf import PdfReader

from billing.models import ChannelTestReceipt, InsurancePolicy, PreauthSubmission, PreauthWorkItem, PriorAuthorization
from billing.preauth import followup, lifecycle, tasks
from billing.preauth.assemble import preauth_request_assemble
from billing.preauth.packet import request_packet_pdf
from billing.services import TRANSITIONS, authorization_create, authorization_transition
from kap_clinic.kernel.notifications.models import StaffAlert
from patients.services import patient_rems_enrollment_record
from screening.models import Diagnosis, InstrumentResponse, MedicalHistory, Medication, Screening

from .factories import approved, at, book, payer, step, submitted

pytestmark = pytest.mark.django_db

Status = PriorAuthorization.Status
JAN_4 = date(2027, 1, 4)


@pytest.fixture(autouse=True)
def clinic_day(settings, time_machine):
    settings.TIME_ZONE = "America/New_York"
    settings.PREAUTH_DEFAULT_CHANNEL = "outbox"
    time_machine.move_to(at(date(2027, 1, 2), 8), tick=False)


def recorded(patient, clinician):
    """A completed screening: two failed antidepressant trials, PHQ-9 21, F33.2; and an 84 mg Spravato series."""
    screening = Screening.objects.create(
        patient=patient,
        created_by=clinician,
        status=Screening.Status.COMPLETED,
        completed_by=clinician,
        completed_at=timezone.now(),
        computed_outcome="eligible",
    )
    MedicalHistory.objects.create(screening=screening, adequate_antidepressant_trials=3, is_complete=True)
    Medication.objects.create(screening=screening, name="Sertraline", dose="100 mg")
    Diagnosis.objects.create(
        screening=screening, icd10_code="F33.2", description="MDD, recurrent, severe", is_primary=True
    )
    InstrumentResponse.objects.create(
        screening=screening, code="phq9", is_complete=True, total=21, band="severe", entered_by=clinician
    )
    for day in (date(2027, 1, 5), date(2027, 1, 8), date(2027, 1, 12)):
        book(patient, clinician, day, route="intranasal", dose=Decimal("84"))
    return screening


def request_for(patient, front_desk, *, channel="test", **fields):
    the_payer = payer()
    the_payer.preauth_channel = channel
    the_payer.save()
    values = {
        "codes": ["G2083"],
        "units_requested": 8,
        "requested_starts_on": JAN_4,
        "requested_ends_on": date(2027, 3, 31),
        "diagnoses": ["F33.2"],
        "justification": "Three failed trials; PHQ-9 21.",
        **fields,
    }
    return authorization_create(patient=patient, payer=the_payer, by=front_desk, **values)


# ---- The lifecycle -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ("submitted", "approved", "expired"),
        ("submitted", "pended", "approved"),
        ("submitted", "denied", "appealed", "approved"),
        ("submitted", "denied", "appealed", "denied", "appealed", "pended", "denied"),
        ("submitted", "pended", "cancelled"),
    ],
)
def test_allowed_paths_are_recorded_with_who_and_when(patient, front_desk, path):
    authorization = request_for(
        patient, front_desk, reference="PA-1", units_authorized=8, starts_on=JAN_4, ends_on=date(2027, 3, 31)
    )
    for to in path:
        authorization = step(authorization, to, front_desk)
    steps = list(authorization.status_changes.order_by("pk").values_list("from_status", "to_status", "changed_by"))
    assert [to for _, to, _ in steps] == list(path)
    assert {who for _, _, who in steps} == {front_desk.pk}


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((), "pended"),
        ((), "appealed"),
        (("submitted",), "appealed"),  # only a denial is appealed
        (("submitted", "denied"), "approved"),  # a denial is answered by an appeal
        (("submitted", "approved"), "denied"),
        (("submitted", "approved", "expired"), "approved"),
        (("cancelled",), "submitted"),
    ],
)
def test_refused_steps_change_nothing(patient, front_desk, path, refused):
    authorization = request_for(
        patient, front_desk, reference="PA-1", units_authorized=8, starts_on=JAN_4, ends_on=date(2027, 3, 31)
    )
    for to in path:
        step(authorization, to, front_desk)
    with pytest.raises(ValidationError, match="cannot be marked|being assembled"):
        step(authorization, refused, front_desk)
    authorization.refresh_from_db()
    assert authorization.status == (path[-1] if path else "draft")
    assert refused not in TRANSITIONS[authorization.status]


def test_a_draft_is_never_marked_submitted_by_a_bare_status_step(patient, front_desk):
    authorization = request_for(patient, front_desk)
    with pytest.raises(ValidationError, match="only when it is sent"):
        authorization_transition(authorization=authorization, to="submitted", by=front_desk, note="Faxed")
    authorization.refresh_from_db()
    assert authorization.status == "draft" and authorization.submitted_at is None
    assert not authorization.status_changes.exists()


def test_a_request_sent_outside_the_app_is_recorded_with_how_who_and_when(patient, front_desk):
    authorization = request_for(patient, front_desk)

    lifecycle.preauth_record_sent(authorization=authorization, by=front_desk, note="  Faxed to 555-0100 at 10:05 ")

    authorization.refresh_from_db()
    assert authorization.status == "submitted" and authorization.submitted_at == timezone.now()
    change = authorization.status_changes.get()
    assert (change.from_status, change.to_status, change.changed_by, change.note) == (
        "draft",
        "submitted",
        front_desk,
        "Faxed to 555-0100 at 10:05",
    )
    assert not PreauthSubmission.objects.exists()  # nothing was sent by the app


@pytest.mark.parametrize(
    ("fields", "note", "message"),
    [
        ({}, "   ", "Say how the request was sent"),
        ({"diagnoses": []}, "Faxed", "ICD-10 diagnosis"),
        ({"justification": ""}, "Faxed", "clinical justification"),
        ({"codes": []}, "Faxed", "codes requested"),
        ({"units_requested": None}, "Faxed", "units requested"),
        ({"requested_starts_on": None, "requested_ends_on": None}, "Faxed", "first and last day requested"),
    ],
)
def test_recording_a_request_as_sent_needs_a_note_and_the_request_facts(patient, front_desk, fields, note, message):
    authorization = request_for(patient, front_desk, **fields)
    with pytest.raises(ValidationError, match=message):
        lifecycle.preauth_record_sent(authorization=authorization, by=front_desk, note=note)
    authorization.refresh_from_db()
    assert authorization.status == "draft" and not authorization.status_changes.exists()


def test_only_a_draft_is_recorded_as_sent_and_only_by_staff_who_work_requests(patient, front_desk, clinician):
    authorization = request_for(patient, front_desk)
    with pytest.raises(PermissionDenied):
        lifecycle.preauth_record_sent(authorization=authorization, by=clinician, note="Faxed")
    submitted(authorization, front_desk)
    with pytest.raises(ValidationError, match="being assembled"):
        lifecycle.preauth_record_sent(authorization=authorization, by=front_desk, note="Faxed again")
    assert authorization.status_changes.count() == 1


def test_submitting_needs_the_request_facts_too(patient, front_desk):
    authorization = request_for(patient, front_desk, diagnoses=[], justification="")
    with pytest.raises(ValidationError) as caught:
        lifecycle.preauth_submit(authorization=authorization, by=front_desk)
    assert caught.value.messages == ["Enter at least one ICD-10 diagnosis.", "Write the clinical justification."]
    authorization.refresh_from_db()
    assert authorization.status == "draft" and not PreauthSubmission.objects.exists()


def test_a_denial_needs_its_reason_which_is_kept(patient, front_desk):
    authorization = request_for(patient, front_desk)
    submitted(authorization, front_desk)
    with pytest.raises(ValidationError, match="reason"):
        authorization_transition(authorization=authorization, to="denied", by=front_desk)
    authorization_transition(authorization=authorization, to="denied", by=front_desk, note="Step therapy not met")
    authorization.refresh_from_db()
    assert authorization.decision_reason == "Step therapy not met"


# ---- Assembled from the record, and the packet ---------------------------------------------------------------------


def test_a_request_is_assembled_from_the_record(patient, front_desk, clinician):
    recorded(patient, clinician)
    patient_rems_enrollment_record(patient=patient, enrolled_on=date(2026, 12, 20), by=front_desk)
    patient.refresh_from_db()
    policy = InsurancePolicy.objects.create(
        patient=patient, payer=payer(), member_id="M-77", subscriber_name="Ada Quill", effective_from=date(2026, 1, 1)
    )

    draft = preauth_request_assemble(patient=patient, payer=payer(), by=front_desk)

    assert draft.status == "draft" and draft.policy == policy
    assert draft.codes == ["G2083", "J0013"]
    assert draft.units_requested == 3  # three 84 mg visits, counted in G2083
    assert (draft.requested_starts_on, draft.requested_ends_on) == (date(2027, 1, 5), date(2027, 1, 12))
    assert draft.diagnoses == ["F33.2"]
    for fact in (
        "Failed adequate antidepressant trials: 3",
        "PHQ-9 21 (severe)",
        "Sertraline 100 mg",
        "3 sessions planned",
        "Spravato REMS on 20 Dec 2026",
    ):
        assert fact in draft.justification


def test_the_packet_reads_back_with_the_required_facts(patient, front_desk, clinician):
    recorded(patient, clinician)
    policy = InsurancePolicy.objects.create(
        patient=patient,
        payer=payer(),
        member_id="M-77",
        group_id="G-5",
        subscriber_name="Ada Quill",
        effective_from=date(2026, 1, 1),
    )
    authorization = preauth_request_assemble(patient=patient, payer=payer(), by=front_desk)
    assert authorization.policy == policy

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(request_packet_pdf(authorization))).pages)

    for expected in (
        "Prior authorization request",
        "Cover letter",
        "Ada Quill",
        patient.mrn,
        "M-77",
        "G-5",
        "G2083",
        "J0013",
        "F33.2",
        "PHQ-9",
        "21",
        "Treatment plan",
        "05 Jan 2027",
    ):
        assert expected.lower() in text.lower(), expected


# ---- Sending: channels, exactly once --------------------------------------------------------------------------------


def test_submitting_sends_through_the_test_channel_once_even_if_the_task_runs_twice(
    patient, front_desk, django_capture_on_commit_callbacks
):
    authorization = request_for(patient, front_desk, channel="test")
    with django_capture_on_commit_callbacks(execute=True):
        submission = lifecycle.preauth_submit(authorization=authorization, by=front_desk)

    submission.refresh_from_db()
    assert submission.status == "sent" and submission.attempts == 1
    assert bytes(submission.packet).startswith(b"%PDF")
    receipt = ChannelTestReceipt.objects.get()
    assert receipt.key == submission.key and receipt.pages >= 1 and receipt.packet_sha256 == submission.packet_sha256
    authorization.refresh_from_db()
    assert authorization.status == "submitted" and authorization.submitted_at is not None
    assert authorization.status_changes.get().changed_by == front_desk

    assert tasks.submit_preauth.apply(args=(submission.pk,)).get() is False  # run again: nothing more
    assert lifecycle.submission_deliver(submission_id=submission.pk) is None
    assert ChannelTestReceipt.objects.count() == 1


def test_an_incomplete_request_is_not_submitted(patient, front_desk):
    authorization = request_for(patient, front_desk, diagnoses=[], justification="")
    with pytest.raises(ValidationError) as caught:
        lifecycle.preauth_submit(authorization=authorization, by=front_desk)
    assert "Enter at least one ICD-10 diagnosis." in caught.value.messages
    assert "Write the clinical justification." in caught.value.messages
    authorization.refresh_from_db()
    assert authorization.status == "draft" and not PreauthSubmission.objects.exists()


def test_the_outbox_channel_asks_staff_to_send_it_and_they_mark_it_sent(
    patient, front_desk, client_for, django_capture_on_commit_callbacks
):
    authorization = request_for(patient, front_desk, channel="")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.preauth_submit(authorization=authorization, by=front_desk)
    item = PreauthWorkItem.objects.get()
    assert item.kind == "send" and "by fax or payer portal" in item.summary

    client = client_for(front_desk)
    page = client.get(reverse("billing:preauth_work")).content.decode()
    assert item.summary in page
    response = client.post(reverse("billing:preauth_work_done", kwargs={"pk": item.pk}), {"note": "Faxed 2 pages"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.done_by == front_desk and item.done_at is not None and item.done_note == "Faxed 2 pages"
    assert item.summary not in client.get(reverse("billing:preauth_work")).content.decode()


def test_a_submission_made_while_the_broker_is_down_is_sent_by_the_sweep_once(
    patient, front_desk, monkeypatch, django_capture_on_commit_callbacks
):
    real = tasks.submit_preauth.apply_async

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.submit_preauth, "apply_async", refused)
    authorization = request_for(patient, front_desk, channel="test")
    with django_capture_on_commit_callbacks(execute=True):
        submission = lifecycle.preauth_submit(authorization=authorization, by=front_desk)
    submission.refresh_from_db()
    assert submission.status == "pending" and submission.enqueued_at is None
    assert not ChannelTestReceipt.objects.exists()

    monkeypatch.setattr(tasks.submit_preauth, "apply_async", real)
    assert tasks.release_submissions.apply().get() == 1
    assert tasks.release_submissions.apply().get() == 0  # sent: the next sweep finds nothing
    submission.refresh_from_db()
    assert submission.status == "sent"
    assert ChannelTestReceipt.objects.count() == 1


def broken_channel(submission, pdf):
    raise ConnectionError("payer portal unreachable")


def test_a_failing_channel_is_retried_with_backoff_then_staff_are_told(patient, front_desk, settings, time_machine):
    settings.PREAUTH_CHANNELS = {**settings.PREAUTH_CHANNELS, "portal": "tests.billing.test_preauth.broken_channel"}
    settings.PREAUTH_MAX_ATTEMPTS = 2
    settings.REMINDER_RETRY_BASE_SECONDS = 60
    authorization = request_for(patient, front_desk, channel="portal")
    submission = lifecycle.preauth_submit(authorization=authorization, by=front_desk)

    with pytest.raises(ConnectionError):
        lifecycle.submission_deliver(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == "pending" and submission.attempts == 1
    assert "payer portal unreachable" in submission.status_reason
    assert lifecycle.submission_deliver(submission_id=submission.pk) is None  # not due before the backoff
    time_machine.shift(timedelta(seconds=61))
    with pytest.raises(ConnectionError):
        lifecycle.submission_deliver(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == "failed"
    assert StaffAlert.objects.filter(key=f"preauth-submission-{submission.pk}-failed").exists()


# ---- Follow-ups and renewals ----------------------------------------------------------------------------------------


def test_follow_ups_after_the_payers_days_once_per_period(patient, front_desk, time_machine):
    authorization = request_for(patient, front_desk)
    submitted(authorization, front_desk)  # on 2 Jan

    assert followup.follow_ups_create(today=date(2027, 1, 8)) == []  # 6 days
    first = followup.follow_ups_create(today=date(2027, 1, 9))  # 7 days
    assert len(first) == 1 and "No answer from Acme Health for 7 days" in first[0].summary
    assert followup.follow_ups_create(today=date(2027, 1, 9)) == []
    assert followup.follow_ups_create(today=date(2027, 1, 15)) == []
    assert len(followup.follow_ups_create(today=date(2027, 1, 16))) == 1  # the next period

    time_machine.move_to(at(date(2027, 1, 16), 10), tick=False)
    authorization.payer.followup_days = 3
    authorization.payer.save()
    authorization_transition(authorization=authorization, to="pended", by=front_desk, note="Need chart notes")
    assert followup.follow_ups_create(today=date(2027, 1, 18)) == []
    assert len(followup.follow_ups_create(today=date(2027, 1, 19))) == 1  # pended 16 Jan, 3 days per this payer


def test_renewal_prompted_before_the_window_ends_with_the_sessions_still_planned(patient, front_desk, clinician):
    authorization = approved(patient, front_desk, starts_on=JAN_4, ends_on=date(2027, 1, 31))
    book(patient, clinician, date(2027, 1, 26))
    book(patient, clinician, date(2027, 2, 2))

    assert followup.renewals_prompt(today=date(2027, 1, 5)) == []  # more than 21 days before the end
    made = followup.renewals_prompt(today=date(2027, 1, 12))
    assert len(made) == 1 and made[0].authorization == authorization and made[0].kind == "renewal"
    assert "2 sessions still planned: 26 Jan 2027, 02 Feb 2027" in made[0].summary
    assert followup.renewals_prompt(today=date(2027, 1, 13)) == []


def test_staff_submit_through_the_page_and_open_the_packet(
    client_for, patient, front_desk, clinician, django_capture_on_commit_callbacks
):
    authorization = request_for(patient, front_desk, channel="test")
    client = client_for(front_desk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:authorization_submit", kwargs={"pk": authorization.pk}))
    assert response.status_code == 302
    detail = client.get(reverse("billing:authorization_detail", kwargs={"pk": authorization.pk})).content.decode()
    assert "Submitted" in detail and "via the test channel: handed to the channel" in detail
    packet = client.get(reverse("billing:authorization_packet", kwargs={"pk": authorization.pk}))
    assert packet["Content-Type"] == "application/pdf"
    assert "Prior authorization request" in PdfReader(io.BytesIO(packet.content)).pages[0].extract_text()
    assert (
        client_for(clinician).get(reverse("billing:authorization_packet", kwargs={"pk": authorization.pk})).status_code
        == 403
    )


def test_a_payer_names_only_a_channel_the_clinic_has(db):
    the_payer = payer()
    the_payer.preauth_channel = "carrier-pigeon"
    with pytest.raises(ValidationError, match="Not a channel"):
        the_payer.full_clean()


def test_a_spravato_request_starting_at_56_mg_asks_for_every_visit(patient, front_desk, clinician):
    """The label's day 1 is 56 mg (G2082), then 84 mg (G2083): the request asks for one unit per visit, counted the
    way the approved authorization will count them, whichever tier each visit bills."""
    book(patient, clinician, date(2027, 1, 2), hour=9, route="intranasal", dose=Decimal("56"))
    recorded(patient, clinician)

    draft = preauth_request_assemble(patient=patient, payer=payer(), by=front_desk)

    assert draft.codes == ["G2082", "G2083", "J0013"]
    assert draft.units_requested == 4  # one 56 mg visit and three 84 mg visits
