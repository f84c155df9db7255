"""The patient screens as staff and patients use them: register, edit, move along the path, search, invite."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from patients.models import Patient, PatientInvite, PatientStatusChange
from patients.services import invite_token, patient_create
from patients.status import Status
from tests.conftest import registration_form, sign_in

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "amber-lantern-quietly-87"


def registration(**overrides) -> dict:
    """What the front desk types into "Register a patient"."""
    data = {
        "given_name": "Rowan",
        "family_name": "Ashby",
        "preferred_name": "Ro",
        "date_of_birth": "1984-06-02",
        "sex_for_scoring": "female",
        "email": "rowan.ashby@example.org",
        "phone": "+1 (617) 555-0142",
        "consents_to_email": "on",
        "consents_to_sms": "on",
        "emergency_contact_name": "Sam Ashby",
        "emergency_contact_phone": "617-555-0199",
        "emergency_contact_relationship": "Sister",
        "weight_kg": "72.5",
        "referral_source": "Dr Okafor, primary care",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def register(**fields) -> Patient:
    data = {"given_name": "Rowan", "family_name": "Ashby", "date_of_birth": date(1984, 6, 2)}
    data.update(fields)
    return patient_create(created_by=None, **data)


def input_value(body: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', body).group(0)
    found = re.search(r'value="([^"]*)"', tag)
    return found.group(1) if found else None


def is_checked(body: str, name: str) -> bool:
    return " checked" in re.search(rf'<input[^>]*name="{name}"[^>]*>', body).group(0)


def search(client, q: str, **extra):
    return client.post(reverse("patients:list"), {"q": q, **extra})


def listed_mrns(response) -> set[str]:
    return {p.mrn for p in response.context["page"].object_list}


def invite_path_from(message) -> str:
    """The path of the link in an invitation email, to open it with the test client."""
    link = re.search(r"https?://[^\s\"]+/accounts/invite/[^\s\"/]+/", message.body).group(0)
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


# ---- Registration -------------------------------------------------------------------------------


def test_intake_registers_a_patient_with_consent_emergency_contact_and_weight(client_for, front_desk, clinician):
    client = client_for(front_desk)
    response = client.post(
        reverse("patients:create"), registration_form(client, registration(primary_clinician=clinician.pk))
    )
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    assert re.fullmatch(r"KAP-\d{8}", patient.mrn)
    assert patient.consents_to_email and patient.consents_to_sms
    assert patient.phone == "+1 (617) 555-0142"
    assert (
        patient.emergency_contact_name,
        patient.emergency_contact_phone,
        patient.emergency_contact_relationship,
    ) == (
        "Sam Ashby",
        "617-555-0199",
        "Sister",
    )
    assert isinstance(patient.weight_kg, Decimal) and patient.weight_kg == Decimal("72.5")
    assert patient.status == Status.REFERRED
    assert patient.primary_clinician == clinician
    chart = client.get(response["Location"]).content.decode()
    assert f"Registered patient {patient.mrn}." in chart
    assert "72.5 kg" in chart
    assert "Sam Ashby (Sister)" in chart


def test_each_registration_gets_its_own_chart_number(client_for, front_desk):
    client = client_for(front_desk)
    for i in range(5):
        client.post(
            reverse("patients:create"),
            registration_form(
                client,
                registration(family_name=f"Ashby{i}", email=f"ashby{i}@example.org", phone=f"617-555-010{i}"),
            ),
        )
    mrns = list(Patient.objects.values_list("mrn", flat=True))
    assert len(set(mrns)) == 5


def test_the_clinician_choice_shows_clinicians_by_name(client_for, front_desk, clinician):
    body = client_for(front_desk).get(reverse("patients:create")).content.decode()
    assert f'<option value="{clinician.pk}">Clinician1 Tester</option>' in body
    assert f"user #{clinician.pk}" not in body


def test_an_implausible_weight_is_refused_with_a_clear_message_and_keeps_everything_typed(client_for, front_desk):
    response = client_for(front_desk).post(reverse("patients:create"), registration(weight_kg="500"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ensure this value is less than or equal to 350." in body
    assert input_value(body, "weight_kg") == "500"
    for name in ("given_name", "family_name", "preferred_name", "date_of_birth", "email", "emergency_contact_name"):
        assert input_value(body, name) == registration()[name]
    assert input_value(body, "emergency_contact_relationship") == "Sister"
    assert is_checked(body, "consents_to_email") and is_checked(body, "consents_to_sms")
    assert not Patient.objects.exists()


def test_consent_to_texts_without_a_phone_number_is_refused_and_keeps_the_consent(client_for, front_desk):
    response = client_for(front_desk).post(reverse("patients:create"), registration(phone=""))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a phone number to send text reminders." in body
    assert is_checked(body, "consents_to_sms")
    assert input_value(body, "weight_kg") == "72.5"
    assert input_value(body, "emergency_contact_phone") == "617-555-0199"
    assert not Patient.objects.exists()


def test_consent_to_email_without_an_address_is_refused(client_for, front_desk):
    response = client_for(front_desk).post(reverse("patients:create"), registration(email=""))
    assert response.status_code == 400
    assert "Enter an email address to send reminders by email." in response.content.decode()
    assert not Patient.objects.exists()


def test_a_phone_number_with_letters_is_refused(client_for, front_desk):
    response = client_for(front_desk).post(reverse("patients:create"), registration(phone="call me maybe"))
    assert response.status_code == 400
    assert "Enter a phone number: digits, spaces and + ( ) - only." in response.content.decode()


def test_a_patient_cannot_register_patients(client_for, patient_user):
    response = client_for(patient_user).post(reverse("patients:create"), registration())
    assert response.status_code == 403
    assert not Patient.objects.filter(family_name="Ashby").exists()


def test_editing_saves_the_changes(client_for, front_desk):
    patient = register(weight_kg=Decimal("70"))
    response = client_for(front_desk).post(
        reverse("patients:edit", kwargs={"pk": patient.pk}), registration(weight_kg="68.4", phone="617 555 0100")
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("68.4")
    assert patient.phone == "617 555 0100"


def test_an_invalid_edit_changes_nothing_and_keeps_what_was_typed(client_for, front_desk):
    patient = register(weight_kg=Decimal("70"))
    response = client_for(front_desk).post(
        reverse("patients:edit", kwargs={"pk": patient.pk}), registration(given_name="Rowena", weight_kg="5")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ensure this value is greater than or equal to 20." in body
    assert input_value(body, "given_name") == "Rowena"
    patient.refresh_from_db()
    assert (patient.given_name, patient.weight_kg) == ("Rowan", Decimal("70.0"))


# ---- Status path --------------------------------------------------------------------------------


def transition(client, patient, to, reason="Chose a clinic closer to home."):
    return client.post(reverse("homes:patient_transition", kwargs={"pk": patient.pk}), {"to": to, "reason": reason})


def test_staff_discharge_a_referred_patient_with_a_reason(client_for, front_desk):
    patient = register()
    client = client_for(front_desk)
    response = transition(client, patient, Status.DISCHARGED)
    assert response.status_code == 302
    assert response["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    patient.refresh_from_db()
    assert patient.status == Status.DISCHARGED
    change = PatientStatusChange.objects.get(patient=patient)
    assert (change.from_status, change.to_status) == (Status.REFERRED, Status.DISCHARGED)
    assert change.changed_by == front_desk
    assert change.reason == "Chose a clinic closer to home."
    chart = client.get(response["Location"]).content.decode()
    assert "Status changed to discharged." in chart
    assert "Referred → Discharged (Chose a clinic closer to home.)" in chart


def test_a_move_the_current_status_does_not_allow_is_refused(client_for, clinician):
    patient = register()
    response = transition(client_for(clinician), patient, Status.INDUCTION)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED
    assert not PatientStatusChange.objects.exists()


@pytest.mark.parametrize("target", [Status.ENROLLED, Status.ELIGIBLE, Status.NOT_ELIGIBLE])
def test_enrolled_and_eligible_cannot_be_set_by_hand(client_for, clinician, target):
    patient = register()
    client = client_for(clinician)
    transition(client, patient, Status.DISCHARGED)
    transition(client, patient, Status.REFERRED, reason="Referred again by the GP.")
    response = transition(client, patient, target, reason="Looks ready.")
    assert response.status_code == 400
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED
    assert not PatientStatusChange.objects.filter(to_status=target).exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_status_change_needs_a_reason_and_keeps_the_choice(client_for, front_desk, reason):
    patient = register()
    response = transition(client_for(front_desk), patient, Status.DISCHARGED, reason=reason)
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body
    assert '<option value="discharged" selected>' in body
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED


def test_a_refused_status_change_keeps_the_reason_typed(client_for, front_desk):
    patient = register()
    response = transition(client_for(front_desk), patient, Status.MAINTENANCE, reason="Doing well after six sessions.")
    assert response.status_code == 400
    assert "Doing well after six sessions." in response.content.decode()


def test_the_chart_offers_only_the_moves_staff_may_make(client_for, front_desk):
    patient = register()
    body = client_for(front_desk).get(reverse("homes:patient_chart", kwargs={"pk": patient.pk})).content.decode()
    options = re.findall(r'<option value="([a-z_]+)"', body)
    assert options == ["discharged"]


def test_another_clinicians_patient_cannot_be_moved(client_for, other_clinician, patient):
    response = transition(client_for(other_clinician), patient, Status.DISCHARGED)
    assert response.status_code == 404
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED


def test_a_patient_cannot_change_their_own_status(client_for, patient_user, patient):
    response = transition(client_for(patient_user), patient, Status.DISCHARGED)
    assert response.status_code == 403
    assert Patient.objects.get(pk=patient.pk).status == Status.REFERRED


def test_status_changes_are_made_by_post_only(client_for, front_desk):
    patient = register()
    response = client_for(front_desk).get(reverse("homes:patient_transition", kwargs={"pk": patient.pk}))
    assert response.status_code == 405


# ---- Search -------------------------------------------------------------------------------------


@pytest.fixture
def ashbys(db):
    return {
        "rowan": register(given_name="Rowan", family_name="Ashby", date_of_birth=date(1984, 6, 2)),
        "sam": register(given_name="Sam", family_name="Ashbury", date_of_birth=date(1990, 1, 15)),
        "lee": register(given_name="Lee", family_name="Van Dyke", date_of_birth=date(1984, 6, 2)),
        "kit": register(given_name="Kit", family_name="Brook", date_of_birth=date(1971, 12, 30)),
    }


def test_search_by_chart_number_finds_exactly_that_patient(client_for, front_desk, ashbys):
    client = client_for(front_desk)
    wanted = ashbys["sam"].mrn
    assert listed_mrns(search(client, wanted)) == {wanted}
    assert listed_mrns(search(client, wanted.lower())) == {wanted}
    assert listed_mrns(search(client, f"  {wanted} ")) == {wanted}


@pytest.mark.parametrize("typed", ["1984-06-02", "06/02/1984"])
def test_search_by_date_of_birth_in_either_format(client_for, front_desk, ashbys, typed):
    found = listed_mrns(search(client_for(front_desk), typed))
    assert found == {ashbys["rowan"].mrn, ashbys["lee"].mrn}


@pytest.mark.parametrize("typed", ["ash", "ASH", "Ash"])
def test_search_by_the_start_of_the_family_name_ignores_case(client_for, front_desk, ashbys, typed):
    assert listed_mrns(search(client_for(front_desk), typed)) == {ashbys["rowan"].mrn, ashbys["sam"].mrn}


def test_search_matches_the_start_of_the_family_name_only(client_for, front_desk, ashbys):
    assert listed_mrns(search(client_for(front_desk), "shby")) == set()


@pytest.mark.parametrize("typed", ["Ashby, Rowan", "ashby, ro", "Ashby,Rowan", "ashby ro"])
def test_search_by_family_then_given_name(client_for, front_desk, ashbys, typed):
    assert listed_mrns(search(client_for(front_desk), typed)) == {ashbys["rowan"].mrn}


def test_a_family_then_given_name_search_compares_what_the_name_index_holds(front_desk, ashbys):
    """On PostgreSQL "family, given" can be answered inside one index of both names (a family name that starts many
    others does not mean reading each of their rows): the index holds the family key and the upper-cased given name,
    each for prefix search, and the search compares exactly those two expressions."""
    from django.db import connection

    from patients.selectors import patient_search

    if connection.vendor != "postgresql":
        pytest.skip("The prefix indexes are PostgreSQL's.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'patient_family_given_prefix_idx'")
        (definition,) = cursor.fetchone()
    assert definition.endswith("(family_name_key text_pattern_ops, upper((given_name)::text) text_pattern_ops)"), (
        definition
    )
    sql = str(patient_search(front_desk, "Ashby, Ro").query)
    assert '"patients_patient"."family_name_key"::text LIKE ashby%' in sql
    assert 'UPPER("patients_patient"."given_name"::text) LIKE UPPER(Ro%)' in sql


@pytest.mark.parametrize("typed", ["van dyke", "Van Dyke, Lee", "van d"])
def test_search_finds_a_family_name_of_two_words(client_for, front_desk, ashbys, typed):
    assert listed_mrns(search(client_for(front_desk), typed)) == {ashbys["lee"].mrn}


def test_an_empty_search_lists_everyone_the_user_may_see(client_for, front_desk, ashbys):
    assert len(listed_mrns(search(client_for(front_desk), "   "))) == 4


def test_names_never_appear_in_urls(client_for, front_desk, ashbys):
    client = client_for(front_desk)
    page = client.get(reverse("patients:list")).content.decode()
    assert re.search(r'<form method="post" action="/patients/"[^>]*role="search"', page)
    response = search(client, "Ashby")
    assert response.status_code == 200  # the results page itself: no redirect to a URL holding the name
    assert "?q=" not in response.content.decode()
    # A name put into a URL by hand is ignored, not searched for.
    assert len(listed_mrns(client.get(reverse("patients:list"), {"q": "Ashby"}))) == 4


def test_search_results_page_on_by_post(client_for, front_desk):
    for i in range(30):
        register(given_name=f"G{i}", family_name=f"Ashby{i:02d}")
    register(family_name="Brook")
    client = client_for(front_desk)
    first = search(client, "ashby")
    body = first.content.decode()
    assert len(first.context["page"].object_list) == 25
    assert "Page 1 of 2" in body
    assert 'name="q" value="ashby"' in body
    second = search(client, "ashby", page="2")
    assert len(second.context["page"].object_list) == 5
    assert "Brook" not in second.content.decode()


def test_a_clinicians_search_never_returns_another_clinicians_patient(client_for, clinician, patient, other_patient):
    client = client_for(clinician)
    chart_link = f'href="{reverse("homes:patient_chart", kwargs={"pk": other_patient.pk})}"'
    for typed in (other_patient.mrn, "Holt", "holt, bram", "1975-02-03", "02/03/1975", ""):
        response = search(client, typed)
        assert other_patient.mrn not in listed_mrns(response), typed
        assert chart_link not in response.content.decode()
    assert listed_mrns(search(client, "quill")) == {patient.mrn}


def test_a_clinicians_search_includes_unassigned_referrals(client_for, clinician, patient):
    new = register(family_name="Quillon")
    assert listed_mrns(search(client_for(clinician), "quill")) == {patient.mrn, new.mrn}


def test_a_patient_cannot_search(client_for, patient_user, patient):
    assert search(client_for(patient_user), "Quill").status_code == 403


def queries_for(client, request) -> int:
    request(client)  # warm up: sessions, settings
    with CaptureQueriesContext(connection) as captured:
        assert request(client).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "request_list",
    [
        pytest.param(lambda c: c.get(reverse("patients:list")), id="list"),
        pytest.param(lambda c: search(c, "ashby"), id="search"),
        pytest.param(lambda c: search(c, "1984-06-02"), id="date-of-birth"),
    ],
)
def test_the_patient_list_keeps_a_constant_number_of_queries(
    client_for, front_desk, clinician, other_clinician, django_assert_max_num_queries, request_list
):
    def add(n, start):
        for i in range(start, start + n):
            register(
                given_name=f"G{i}",
                family_name=f"Ashby{i:03d}",
                primary_clinician=(clinician, other_clinician, None)[i % 3],
            )

    client = client_for(front_desk)
    add(5, 0)
    few = queries_for(client, request_list)
    add(55, 5)
    with django_assert_max_num_queries(few):
        assert request_list(client).status_code == 200


# ---- Invitations --------------------------------------------------------------------------------


def invite(client, patient, capture):
    with capture(execute=True):
        return client.post(reverse("patients:invite", kwargs={"pk": patient.pk}))


@pytest.fixture
def invited(client_for, front_desk, django_capture_on_commit_callbacks, mailoutbox):
    """A registered patient with an email address, invited by the front desk; returns (patient, link path)."""
    patient = register(email="rowan.ashby@example.org")
    response = invite(client_for(front_desk), patient, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    patient.refresh_from_db()
    return patient, invite_path_from(mailoutbox[-1])


def test_staff_invite_a_patient_and_one_email_is_sent_after_commit(
    client_for, front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    patient = register(email="rowan.ashby@example.org")
    client = client_for(front_desk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("patients:invite", kwargs={"pk": patient.pk}))
        assert mailoutbox == []  # nothing leaves before the request's transaction commits
    assert len(callbacks) == 1
    assert response.status_code == 302
    patient.refresh_from_db()
    user = patient.user
    assert user.role == Role.PATIENT and not user.has_usable_password()
    [message] = mailoutbox
    assert message.to == ["rowan.ashby@example.org"]
    assert message.subject == f"Your {settings.CLINIC_NAME} patient portal"
    for private in ("Rowan", "Ashby", patient.mrn, "ketamine", "screening"):
        assert private.lower() not in message.subject.lower()
    assert invite_path_from(message).startswith(reverse("invite_accept", args=["x"])[: -len("x/")])
    chart = client.get(response["Location"]).content.decode()
    assert "Invitation sent to the patient&#x27;s email address." in chart
    assert "Send a new invitation" in chart


def test_the_invitation_link_lets_the_patient_choose_a_password_once(client, invited):
    patient, path = invited
    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    assert "Choose your password" in page.content.decode()
    response = client.post(path, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert User.objects.get(pk=patient.user_id).check_password(STRONG_PASSWORD)
    again = client.get(path)
    assert again.status_code == 404
    assert "not valid" in again.content.decode()
    reuse = client.post(path, {"new_password1": "other-long-passphrase-2", "new_password2": "other-long-passphrase-2"})
    assert reuse.status_code == 404
    assert User.objects.get(pk=patient.user_id).check_password(STRONG_PASSWORD)


def test_an_expired_invitation_link_is_not_valid(client, invited):
    _, path = invited
    client.logout()
    later = timezone.now() + timedelta(hours=settings.PATIENT_INVITE_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.get(path)
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_a_tampered_invitation_link_is_not_valid(client, invited):
    patient, path = invited
    client.logout()
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    for bad in (forged, "hello", token.replace(":", ";")):
        response = client.post(
            reverse("invite_accept", args=[bad]),
            {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD},
        )
        assert response.status_code == 404
    assert not User.objects.get(pk=patient.user_id).has_usable_password()


def test_a_new_invitation_makes_the_earlier_link_lapse(
    client, client_for, front_desk, invited, django_capture_on_commit_callbacks, mailoutbox
):
    patient, first_path = invited
    invite(client_for(front_desk), patient, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2
    second_path = invite_path_from(mailoutbox[-1])
    assert second_path != first_path
    client.logout()
    assert client.get(first_path).status_code == 404
    assert client.get(second_path).status_code == 200
    assert PatientInvite.objects.filter(patient=patient).count() == 2


def test_inviting_a_patient_without_an_email_gives_a_clear_error(
    client_for, front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    patient = register()
    client = client_for(front_desk)
    response = invite(client, patient, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    chart = client.get(response["Location"]).content.decode()
    assert "Add the patient&#x27;s email address before inviting them." in chart
    assert mailoutbox == []
    patient.refresh_from_db()
    assert patient.user is None


def test_a_weak_password_is_refused_with_the_validators_message(client, invited):
    patient, path = invited
    client.logout()
    response = client.post(path, {"new_password1": "password", "new_password2": "password"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This password is too short. It must contain at least 12 characters." in body
    assert "This password is too common." in body
    assert not User.objects.get(pk=patient.user_id).has_usable_password()
    assert client.get(path).status_code == 200  # a refused password does not use up the link


def test_a_password_like_the_patients_email_is_refused(client, invited):
    _, path = invited
    client.logout()
    response = client.post(path, {"new_password1": "rowan.ashby@example", "new_password2": "rowan.ashby@example"})
    assert response.status_code == 400
    assert "The password is too similar to the" in response.content.decode()


def test_someone_signed_in_cannot_use_an_invitation_link(client_for, front_desk, invited):
    patient, path = invited
    response = client_for(front_desk).post(path, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD})
    assert response.status_code == 403
    assert not User.objects.get(pk=patient.user_id).has_usable_password()


def test_after_setting_a_password_the_patient_signs_in_and_sees_only_their_own_record(client, invited, other_patient):
    patient, path = invited
    client.logout()
    client.post(path, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD})
    response = client.post(
        reverse("accounts:login"), {"username": "rowan.ashby@example.org", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("homes:home")
    home = client.get(reverse("homes:home"))
    body = home.content.decode()
    assert "My care" in body
    assert f"Welcome, Rowan. Your chart number is {patient.mrn}." in body
    assert client.get(reverse("homes:patient_chart", kwargs={"pk": patient.pk})).status_code == 200
    foreign = client.get(reverse("homes:patient_chart", kwargs={"pk": other_patient.pk}))
    assert foreign.status_code == 404
    assert other_patient.mrn not in foreign.content.decode()
    assert client.get(reverse("patients:list")).status_code == 403


def test_a_patient_signs_in_with_their_email_as_the_clinic_recorded_it(
    client, client_for, front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    patient = register(email="Rowan.Ashby@Example.org")
    invite(client_for(front_desk), patient, django_capture_on_commit_callbacks)
    path = invite_path_from(mailoutbox[-1])
    client.logout()
    client.post(path, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD})
    response = client.post(
        reverse("accounts:login"), {"username": "Rowan.Ashby@Example.org", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 302


def test_the_chart_does_not_call_an_expired_invitation_open(client_for, front_desk, invited):
    patient, _ = invited
    client = client_for(front_desk)
    chart_url = reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    assert "Invited " in client.get(chart_url).content.decode()
    later = timezone.now() + timedelta(hours=settings.PATIENT_INVITE_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        sign_in(client, front_desk)  # the session would have timed out meanwhile
        body = client.get(chart_url).content.decode()
    assert "Invited " not in body
    assert "Invite to the portal" in body


def test_another_clinicians_patient_cannot_be_invited(
    client_for, other_clinician, patient, django_capture_on_commit_callbacks, mailoutbox
):
    response = invite(client_for(other_clinician), patient, django_capture_on_commit_callbacks)
    assert response.status_code == 404
    assert mailoutbox == []
    assert not PatientInvite.objects.exists()


# ---- Audit --------------------------------------------------------------------------------------


def entries_for(patient, model=Patient):
    return LogEntry.objects.filter(
        additional_data__patient_id=patient.pk, content_type=ContentType.objects.get_for_model(model)
    )


def test_registration_edit_status_change_and_invitation_each_leave_audit_entries(
    client_for, front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    client = client_for(front_desk)
    client.post(reverse("patients:create"), registration_form(client, registration(weight_kg="72.5")))
    patient = Patient.objects.get()
    created = entries_for(patient).get(action=LogEntry.Action.CREATE)
    assert created.actor == front_desk

    client.post(reverse("patients:edit", kwargs={"pk": patient.pk}), registration(weight_kg="70.1"))
    edit = entries_for(patient).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert edit.actor == front_desk
    assert set(edit.changes) == {"weight_kg"}

    transition(client, patient, Status.DISCHARGED, reason="Moved out of state.")
    change = entries_for(patient, PatientStatusChange).get(action=LogEntry.Action.CREATE)
    assert change.actor == front_desk
    assert "Moved out of state." in str(change.changes)
    moved = entries_for(patient).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert "status" in moved.changes

    invite(client, patient, django_capture_on_commit_callbacks)
    invitation = PatientInvite.objects.get(patient=patient)
    logged = entries_for(patient, PatientInvite).get(action=LogEntry.Action.CREATE)
    assert logged.actor == front_desk
    assert "nonce" not in logged.changes
    everything = " ".join(str(e.changes) for e in LogEntry.objects.filter(additional_data__patient_id=patient.pk))
    assert invitation.nonce not in everything
    assert invite_token(invitation) not in everything


def test_the_record_keeps_sex_apart_from_the_scoring_sex(client_for, front_desk):
    """Issue item 18: the chart records sex as forms such as the REMS form ask it (Male / Female / Other), apart
    from the scoring sex that only picks instrument cut-offs."""
    client = client_for(front_desk)
    client.post(
        reverse("patients:create"), registration_form(client, registration(sex="other", sex_for_scoring="female"))
    )

    patient = Patient.objects.get()
    assert (patient.sex, patient.sex_for_scoring) == ("other", "female")
    html = client.get(reverse("homes:patient_chart", kwargs={"pk": patient.pk})).content.decode()
    assert '<dt class="col-sm-5">Sex</dt><dd class="col-sm-7">Other</dd>' in html
