"""Informed consent as versioned documents per route: seeded first versions, acceptance in the portal or recorded by
staff with a privately stored scan, and the pre-dose check that wants the version in force accepted."""

from datetime import timedelta
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sessions.consent.services import consent_problems
from sessions.models import ConsentAcceptance, ConsentDocument, PreDoseCheck
from sessions.record.predose import dosing_problems

from .record_helpers import book_session, check, dose

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 signed consent form"


def scan(content: bytes = PDF, name: str = "signed.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def session(patient, clinician, time_machine):
    """Patient A's first IV session, on its morning, without any consent form accepted yet."""
    booked = book_session(patient, clinician, ready=False)
    time_machine.move_to(booked.starts_at + timedelta(minutes=5), tick=False)
    return booked


def iv_v1() -> ConsentDocument:
    return ConsentDocument.objects.get(route="iv", version=1)


def test_every_route_has_a_plain_language_first_version_the_clinic_must_replace():
    for route in ("iv", "im", "intranasal", "sublingual", "oral"):
        document = ConsentDocument.objects.get(route=route, version=1)
        assert "The clinic must replace it with its own consent form" in document.text
        assert "You may stop at any time" in document.text
    assert "REMS" in ConsentDocument.objects.get(route="intranasal").text


def test_the_first_dose_waits_for_the_consent_form_accepted_in_the_portal(session, clinician, client_for, patient_user):
    """Issue item 17: consent is the route's versioned form, accepted; it replaces the per-session checkbox."""
    check(session, clinician)
    problems = dosing_problems(session, PreDoseCheck.objects.get(session=session))
    assert problems == [
        "The patient has not accepted the consent form for Intravenous (IV) ketamine (version 1): they accept it in "
        "the portal, or staff record the signed form."
    ]
    with pytest.raises(ValidationError, match="has not accepted the consent form"):
        dose(session, clinician, "0.5")

    client = client_for(patient_user)
    page = client.get("/treatment/my-consent/").content.decode()
    assert "Consent to intravenous (IV) ketamine treatment" in page
    assert "Accept version 1" in page
    response = client.post(f"/treatment/my-consent/{iv_v1().pk}/accept/", {"has_read": "yes"})
    assert response.status_code == 302

    acceptance = ConsentAcceptance.objects.get(patient=session.patient)
    assert (acceptance.document, acceptance.method, acceptance.recorded_by) == (
        iv_v1(),
        ConsentAcceptance.Method.PORTAL,
        patient_user,
    )
    assert LogEntry.objects.get_for_object(acceptance).exists()
    assert "You accepted version 1" in client.get("/treatment/my-consent/").content.decode()
    assert dose(session, clinician, "0.5").dose_mg_given == 35


def test_accepting_needs_the_has_read_box_and_twice_records_once(session, client_for, patient_user):
    client = client_for(patient_user)
    client.post(f"/treatment/my-consent/{iv_v1().pk}/accept/")
    assert not ConsentAcceptance.objects.exists()
    client.post(f"/treatment/my-consent/{iv_v1().pk}/accept/", {"has_read": "yes"})
    client.post(f"/treatment/my-consent/{iv_v1().pk}/accept/", {"has_read": "yes"})
    assert ConsentAcceptance.objects.count() == 1


def test_a_patient_cannot_accept_a_form_for_a_route_they_are_not_treated_on(session, client_for, patient_user):
    spravato = ConsentDocument.objects.get(route="intranasal", version=1)
    response = client_for(patient_user).post(f"/treatment/my-consent/{spravato.pk}/accept/", {"has_read": "yes"})
    assert response.status_code == 404
    assert not ConsentAcceptance.objects.exists()


def test_a_new_version_in_force_asks_again_before_the_next_dose(session, clinician, client_for, patient_user):
    """Issue item 17 (decided): every dose needs the version in force that day accepted, so a new version asks
    again; an older acceptance stays in the history."""
    client = client_for(patient_user)
    client.post(f"/treatment/my-consent/{iv_v1().pk}/accept/", {"has_read": "yes"})
    assert consent_problems(session) == []
    v2 = ConsentDocument.objects.create(
        route="iv", version=2, title="IV consent, revised", text="Revised text.", effective_on=timezone.localdate()
    )

    assert consent_problems(session)[0].startswith(
        "A new version of the consent form for Intravenous (IV) ketamine (version 2, in force from"
    )
    page = client.get("/treatment/my-consent/").content.decode()
    assert "the clinic has published a new version" in page
    client.post(f"/treatment/my-consent/{v2.pk}/accept/", {"has_read": "yes"})
    assert consent_problems(session) == []
    assert ConsentAcceptance.objects.filter(patient=session.patient).count() == 2


def test_a_version_coming_into_force_later_may_be_accepted_ahead(session, client_for, patient_user):
    client = client_for(patient_user)
    client.post(f"/treatment/my-consent/{iv_v1().pk}/accept/", {"has_read": "yes"})
    v2 = ConsentDocument.objects.create(
        route="iv",
        version=2,
        title="IV consent, revised",
        text="Revised text.",
        effective_on=timezone.localdate() + timedelta(days=30),
    )
    page = client.get("/treatment/my-consent/").content.decode()
    assert "A new version comes into force on" in page
    client.post(f"/treatment/my-consent/{v2.pk}/accept/", {"has_read": "yes"})
    assert ConsentAcceptance.objects.filter(document=v2).exists()


def test_staff_record_a_signed_paper_form_with_a_private_scan(session, clinician, client_for, front_desk):
    client = client_for(front_desk)
    page = client.get(f"/treatment/patient/{session.patient_id}/consent/").content.decode()
    assert "Not accepted" in page

    response = client.post(
        f"/treatment/patient/{session.patient_id}/consent/record/",
        {"document": iv_v1().pk, "signed_on": timezone.localdate().isoformat(), "scan": scan(), "note": "Paper"},
    )

    assert response.status_code == 302
    acceptance = ConsentAcceptance.objects.get(patient=session.patient)
    assert (acceptance.method, acceptance.recorded_by) == (ConsentAcceptance.Method.STAFF, front_desk)
    stored = Path(acceptance.scan.path)
    assert stored.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT))  # not under a public MEDIA folder
    assert "signed" not in stored.name  # a random name, not the uploaded one
    with pytest.raises(ValueError, match="no URL"):
        acceptance.scan.url  # noqa: B018 - the property itself refuses
    assert consent_problems(session) == []

    served = client.get(f"/treatment/consent/scan/{acceptance.pk}/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PDF
    assert served["Content-Type"] == "application/pdf"
    assert "no-store" in served["Cache-Control"]


def test_a_scan_is_served_to_no_one_outside_the_patients_care(
    session, front_desk, client_for, other_clinician, patient_user
):
    from sessions.consent.services import consent_record_by_staff

    acceptance = consent_record_by_staff(
        patient=session.patient, document=iv_v1(), scan=scan(), signed_on=timezone.localdate(), by=front_desk
    )
    assert client_for(other_clinician).get(f"/treatment/consent/scan/{acceptance.pk}/").status_code == 404
    assert client_for(patient_user).get(f"/treatment/consent/scan/{acceptance.pk}/").status_code == 403
    other_page = client_for(other_clinician).get(f"/treatment/patient/{session.patient_id}/consent/")
    assert other_page.status_code == 404


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ not a pdf", "signed.pdf", "do not match its type"),
        (PDF, "signed.exe", "must be a PDF, PNG or JPEG"),
    ],
)
def test_a_scan_that_is_not_a_pdf_or_image_is_refused(session, client_for, front_desk, content, name, message):
    response = client_for(front_desk).post(
        f"/treatment/patient/{session.patient_id}/consent/record/",
        {"document": iv_v1().pk, "signed_on": timezone.localdate().isoformat(), "scan": scan(content, name)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ConsentAcceptance.objects.exists()


def test_an_accepted_version_never_changes_and_acceptances_are_never_deleted(session, client_for, patient_user):
    client_for(patient_user).post(f"/treatment/my-consent/{iv_v1().pk}/accept/", {"has_read": "yes"})
    document = iv_v1()
    document.text = "Quietly edited."
    with pytest.raises(ValidationError, match="publish a new version"):
        document.save()
    with pytest.raises(ValidationError, match="never deleted"):
        ConsentAcceptance.objects.get().delete()


def test_the_pre_dose_checklist_shows_the_consent_form_instead_of_a_checkbox(session, clinician, client_for):
    page = client_for(clinician).get(f"/treatment/session/{session.pk}/record/").content.decode()
    assert "Consent form not accepted" in page
    assert "check-is_consent_confirmed" not in page
    checklist = check(session, clinician, is_consent_confirmed=False)
    assert checklist.missing() == []


def test_the_patient_home_asks_for_a_pending_consent_form(session, client_for, patient_user):
    client = client_for(patient_user)
    assert "Please read and accept the consent form" in client.get("/").content.decode()
    client.post(f"/treatment/my-consent/{iv_v1().pk}/accept/", {"has_read": "yes"})
    home = client.get("/").content.decode()
    assert "Please read and accept" not in home
    assert "My consent forms" in home
