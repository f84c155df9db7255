"""Patient services on the real database: registration, the status path, and portal invitations."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.outbox.models import OutboxEmail
from kap_clinic.kernel.outbox.tasks import release_outbox_emails, send_outbox_email
from patients import services, tasks
from patients.models import Patient, PatientInvite, PatientStatusChange
from patients.services import (
    invite_accept,
    invite_for_token,
    invite_token,
    patient_create,
    patient_invite,
    patient_manual_transition,
    patient_transition,
    patient_update,
)
from patients.signals import contact_details_changed
from patients.status import Status

pytestmark = pytest.mark.django_db

MRN = re.compile(r"^KAP-\d{8}$")
STRONG_PASSWORD = "amber-lantern-quietly-87"


def register(**fields) -> Patient:
    data = {"given_name": "Rowan", "family_name": "Ashby", "date_of_birth": date(1984, 6, 2)}
    data.update(fields)
    return patient_create(created_by=None, **data)


# ---- Registration -------------------------------------------------------------------------------


def test_registration_generates_a_kap_chart_number():
    patient = register()
    assert MRN.match(patient.mrn)
    assert str(patient) == patient.mrn
    assert patient.status == Status.REFERRED


def test_chart_numbers_are_unique_across_many_registrations():
    mrns = {register(family_name=f"Ashby{i}").mrn for i in range(60)}
    assert len(mrns) == 60
    assert all(MRN.match(mrn) for mrn in mrns)


def test_a_chart_number_already_taken_is_drawn_again(monkeypatch):
    taken = register().mrn
    drawn = iter([taken, "KAP-00000042"])
    monkeypatch.setattr(services, "_new_mrn", lambda: next(drawn))
    assert register(family_name="Second").mrn == "KAP-00000042"


def test_registration_fails_loudly_when_no_free_chart_number_is_found(monkeypatch):
    taken = register().mrn
    monkeypatch.setattr(services, "_new_mrn", lambda: taken)
    with pytest.raises(RuntimeError, match="medical record number"):
        register(family_name="Second")
    assert Patient.objects.count() == 1


def test_weight_is_stored_as_an_exact_decimal():
    patient = register(weight_kg=Decimal("72.5"))
    patient.refresh_from_db()
    assert isinstance(patient.weight_kg, Decimal)
    assert patient.weight_kg == Decimal("72.5")


@pytest.mark.parametrize("weight", [Decimal("500.0"), Decimal("19.9")])
def test_the_database_refuses_an_implausible_weight(weight):
    patient = register(weight_kg=Decimal("70"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(weight_kg=weight)
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("70.0")


def test_the_database_refuses_to_register_an_implausible_weight():
    with pytest.raises(IntegrityError), transaction.atomic():
        register(weight_kg=Decimal("500"))
    assert not Patient.objects.exists()


def test_the_database_accepts_the_weights_at_both_limits():
    assert register(weight_kg=Decimal("20.0")).weight_kg == Decimal("20.0")
    assert register(family_name="Heavy", weight_kg=Decimal("350.0")).weight_kg == Decimal("350.0")


def test_an_update_with_an_out_of_range_weight_is_refused_and_saves_nothing(front_desk):
    patient = register(weight_kg=Decimal("70"))
    with pytest.raises(ValidationError) as caught:
        patient_update(patient=Patient.objects.get(pk=patient.pk), updated_by=front_desk, weight_kg=Decimal("500"))
    assert "weight_kg" in caught.value.message_dict
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("70.0")


def test_renaming_a_patient_keeps_the_family_name_search_key_in_step(front_desk):
    patient = register(family_name="Ashby")
    patient_update(patient=patient, updated_by=front_desk, family_name="Van Dyke")
    assert Patient.objects.get(pk=patient.pk).family_name_key == "van dyke"
    patient.family_name = "Okafor"
    patient.save(update_fields=["family_name"])
    assert Patient.objects.get(pk=patient.pk).family_name_key == "okafor"


def test_a_change_of_contact_details_is_announced_once_inside_the_change(front_desk):
    patient = register()
    heard = []

    def listener(sender, *, patient, **kwargs):
        heard.append((sender, patient.pk, patient.email))

    contact_details_changed.connect(listener)
    try:
        patient_update(patient=patient, updated_by=front_desk, referral_source="GP letter")
        assert heard == []  # nothing the reminders read has changed
        patient_update(patient=patient, updated_by=front_desk, email="rowan@example.org", consents_to_email=True)
    finally:
        contact_details_changed.disconnect(listener)
    assert heard == [(Patient, patient.pk, "rowan@example.org")]


# ---- Status path --------------------------------------------------------------------------------


def test_a_transition_records_who_moved_the_patient_and_why(front_desk):
    patient = register()
    patient_transition(patient=patient, to=Status.SCREENING, by=front_desk, reason="  Intake booked.  ")
    assert Patient.objects.get(pk=patient.pk).status == Status.SCREENING
    assert patient.status == Status.SCREENING
    change = PatientStatusChange.objects.get(patient=patient)
    assert (change.from_status, change.to_status) == (Status.REFERRED, Status.SCREENING)
    assert change.changed_by == front_desk
    assert change.reason == "Intake booked."


def test_a_transition_to_the_current_status_records_nothing(front_desk):
    patient = register()
    patient_transition(patient=patient, to=Status.REFERRED, by=front_desk)
    assert not PatientStatusChange.objects.filter(patient=patient).exists()


def test_a_transition_the_path_does_not_allow_is_refused_and_leaves_the_status(front_desk):
    patient = register()
    with pytest.raises(ValidationError, match="cannot move from referred to maintenance"):
        patient_transition(patient=patient, to=Status.MAINTENANCE, by=front_desk)
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED
    assert not PatientStatusChange.objects.exists()


def test_the_transition_reads_the_stored_status_not_a_stale_copy(front_desk):
    patient = register()
    stale = Patient.objects.get(pk=patient.pk)
    patient_manual_transition(patient=patient, to=Status.DISCHARGED, by=front_desk, reason="Moved away.")
    # Another screen still shows "referred"; discharging again from it changes nothing more.
    patient_manual_transition(patient=stale, to=Status.DISCHARGED, by=front_desk, reason="Moved away.")
    assert PatientStatusChange.objects.filter(patient=patient).count() == 1


@pytest.mark.parametrize("target", [Status.ENROLLED, Status.ELIGIBLE, Status.NOT_ELIGIBLE, Status.SCREENING])
def test_staff_cannot_set_a_status_that_belongs_to_the_gate_or_the_sign_off(front_desk, target):
    patient = register()
    with pytest.raises(ValidationError, match="screening sign-off or the enrollment gate"):
        patient_manual_transition(patient=patient, to=target, by=front_desk, reason="Looks fine to me.")
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_manual_move_needs_a_reason(front_desk, reason):
    patient = register()
    with pytest.raises(ValidationError, match="Give a reason"):
        patient_manual_transition(patient=patient, to=Status.DISCHARGED, by=front_desk, reason=reason)
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED


def test_a_patient_cannot_move_anyone_along_the_path(patient_user):
    patient = register()
    with pytest.raises(PermissionDenied):
        patient_manual_transition(patient=patient, to=Status.DISCHARGED, by=patient_user, reason="Done.")


def test_a_discharged_patient_can_be_referred_again(clinician):
    patient = register()
    patient_manual_transition(patient=patient, to=Status.DISCHARGED, by=clinician, reason="Declined treatment.")
    patient_manual_transition(patient=patient, to=Status.REFERRED, by=clinician, reason="New referral from GP.")
    steps = list(PatientStatusChange.objects.filter(patient=patient).order_by("pk").values_list("to_status", flat=True))
    assert steps == [Status.DISCHARGED, Status.REFERRED]


# ---- Invitations --------------------------------------------------------------------------------


def test_an_invitation_opens_a_portal_account_without_a_usable_password(front_desk):
    patient = register(email="Rowan.Ashby@Example.org")
    invite = patient_invite(patient=patient, by=front_desk)
    patient.refresh_from_db()
    user = patient.user
    assert user is not None and invite.user == user
    assert user.role == Role.PATIENT
    assert not user.has_usable_password()
    assert user.username == "rowan.ashby@example.org"
    assert user.email == "Rowan.Ashby@Example.org"
    assert (user.first_name, user.last_name) == ("Rowan", "Ashby")
    assert not user.is_staff
    assert invite.created_by == front_desk
    lifetime = invite.expires_at - invite.created_at
    assert abs(lifetime - timedelta(hours=settings.PATIENT_INVITE_HOURS)) < timedelta(seconds=5)


def test_inviting_a_patient_without_an_email_address_says_what_is_missing(front_desk):
    patient = register()
    with pytest.raises(ValidationError, match="Add the patient's email address"):
        patient_invite(patient=patient, by=front_desk)
    assert not PatientInvite.objects.exists()
    assert not User.objects.filter(role=Role.PATIENT).exists()


def test_an_email_address_already_used_by_another_account_is_refused(front_desk):
    User.objects.create_user(username="shared@example.org", password="x" * 20, role=Role.PATIENT)
    patient = register(email="Shared@Example.org")
    with pytest.raises(ValidationError, match="already exists"):
        patient_invite(patient=patient, by=front_desk)
    patient.refresh_from_db()
    assert patient.user is None


def test_a_patient_who_already_has_a_password_is_not_invited_again(front_desk, patient):
    Patient.objects.filter(pk=patient.pk).update(email="ada@example.org")
    patient.refresh_from_db()
    with pytest.raises(ValidationError, match="already has a portal password"):
        patient_invite(patient=patient, by=front_desk)


def test_a_new_invitation_reuses_the_account_and_makes_the_earlier_link_lapse(front_desk):
    patient = register(email="rowan@example.org")
    first = patient_invite(patient=patient, by=front_desk)
    second = patient_invite(patient=patient, by=front_desk)
    assert second.user == first.user
    assert User.objects.filter(role=Role.PATIENT).count() == 1
    assert invite_for_token(invite_token(first)) is None
    assert invite_for_token(invite_token(second)) == second


def test_the_link_names_its_invitation():
    patient = register(email="rowan@example.org")
    invite = patient_invite(patient=patient, by=None)
    found = invite_for_token(invite_token(invite))
    assert found == invite
    assert found.user == patient.user


def test_a_tampered_or_forged_link_names_no_invitation():
    patient = register(email="rowan@example.org")
    invite = patient_invite(patient=patient, by=None)
    token = invite_token(invite)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_salt = signing.dumps({"i": invite.pk, "n": invite.nonce}, salt="something.else")
    wrong_nonce = signing.dumps({"i": invite.pk, "n": "guessed"}, salt=services.INVITE_SALT)
    for bad in (tampered, other_salt, wrong_nonce, "not-a-token", ""):
        assert invite_for_token(bad) is None


def test_an_invitation_link_works_until_it_expires():
    patient = register(email="rowan@example.org")
    invite = patient_invite(patient=patient, by=None)
    token = invite_token(invite)
    hours = settings.PATIENT_INVITE_HOURS
    with time_machine.travel(timezone.now() + timedelta(hours=hours, minutes=-1), tick=False):
        assert invite_for_token(token) == invite
    with time_machine.travel(timezone.now() + timedelta(hours=hours, minutes=1), tick=False):
        assert invite_for_token(token) is None


def test_accepting_an_invitation_sets_the_password_once():
    patient = register(email="rowan@example.org")
    invite = patient_invite(patient=patient, by=None)
    user = invite_accept(invite=invite, password=STRONG_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    invite.refresh_from_db()
    assert invite.used_at is not None
    with pytest.raises(ValidationError, match="already been used or has expired"):
        invite_accept(invite=invite, password="another-long-passphrase-1")
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_an_invitation_opened_in_time_but_submitted_after_expiry_is_refused():
    patient = register(email="rowan@example.org")
    invite = patient_invite(patient=patient, by=None)
    opened = invite_for_token(invite_token(invite))
    later = timezone.now() + timedelta(hours=settings.PATIENT_INVITE_HOURS, minutes=5)
    with time_machine.travel(later, tick=False), pytest.raises(ValidationError):
        invite_accept(invite=opened, password=STRONG_PASSWORD)
    assert not User.objects.get(pk=invite.user_id).has_usable_password()


def test_the_invitation_email_goes_out_only_after_the_transaction_commits(
    front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    patient = register(email="rowan@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_invite(patient=patient, by=front_desk)
    assert len(callbacks) == 1
    assert mailoutbox == []
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_the_invitation_email_holds_the_link_and_no_clinical_detail(
    front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    patient = register(email="rowan@example.org", weight_kg=Decimal("81.0"))
    with django_capture_on_commit_callbacks(execute=True):
        invite = patient_invite(patient=patient, by=front_desk)
    [message] = mailoutbox
    assert message.to == ["rowan@example.org"]
    for detail in (patient.mrn, patient.family_name, "ketamine", "screening", "depress", "dose", "81"):
        assert detail.lower() not in message.subject.lower()
    for detail in (patient.mrn, "ketamine", "screening", "depress", "81.0"):
        assert detail.lower() not in message.body.lower()
    # The token carries its signing time, so compare what it opens rather than its text.
    prefix = settings.SITE_URL.rstrip("/") + reverse("invite_accept", args=["TOKEN"]).split("TOKEN")[0]
    [link] = [word for word in message.body.split() if word.startswith(prefix)]
    assert invite_for_token(link[len(prefix) :].rstrip("/")) == invite
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link in html
    invite.refresh_from_db()
    assert invite.emailed_at is not None


def test_sending_the_invitation_twice_sends_one_email(front_desk, mailoutbox):
    """The outbox row is claimed once: a second delivery of the task (or the old task) finds it sent."""
    patient = register(email="rowan@example.org")
    invite = patient_invite(patient=patient, by=front_desk)  # its on_commit never fires inside the test
    [row] = OutboxEmail.objects.filter(kind="portal_invitation")
    send_outbox_email.delay(row.pk)
    send_outbox_email.delay(row.pk)
    tasks.send_patient_invite.delay(invite.pk)
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.text == ""  # the single-use link does not stay in the database


def test_a_lapsed_invitation_is_not_emailed(front_desk, mailoutbox):
    patient = register(email="rowan@example.org")
    patient_invite(patient=patient, by=front_desk)
    second = patient_invite(patient=patient, by=front_desk)
    release_outbox_emails.apply()
    assert len(mailoutbox) == 1
    assert invite_token(second) in mailoutbox[0].body
    assert OutboxEmail.objects.filter(status="cancelled").count() == 1


def test_the_invitation_email_is_plain_text_not_html_escaped(
    front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    patient = register(email="rowan@example.org", given_name="Ró'isín")
    with django_capture_on_commit_callbacks(execute=True):
        patient_invite(patient=patient, by=front_desk)
    [message] = mailoutbox
    assert "Hello Ró'isín," in message.body
    assert "&#x27;" not in message.body
    assert "Ró&#x27;isín" in message.alternatives[0][0]  # the HTML part is escaped, as HTML must be
