"""Authorization pages: who may do what, forms that keep what was typed, status steps and counting through views."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import PriorAuthorization
from billing.services import authorization_create

from .factories import approved, book, payer, request_facts

pytestmark = pytest.mark.django_db


def detail_url(authorization):
    return reverse("billing:authorization_detail", kwargs={"pk": authorization.pk})


def form_data(**overrides):
    data = {
        "payer": payer().pk,
        "reference": "PA-77",
        "codes": "g2083, +J0013",
        "units_authorized": "12",
        "starts_on": "2027-01-04",
        "ends_on": "2027-03-31",
        "notes": "",
    }
    return {**data, **overrides}


def test_intake_enters_an_authorization_from_the_chart(client_for, front_desk, patient):
    client = client_for(front_desk)
    chart = client.get(reverse("homes:patient_chart", kwargs={"pk": patient.pk})).content.decode()
    list_url = reverse("billing:patient_authorizations", kwargs={"patient_pk": patient.pk})
    assert f'href="{list_url}"' in chart
    create_url = reverse("billing:authorization_create", kwargs={"patient_pk": patient.pk})
    assert create_url in client.get(list_url).content.decode()

    response = client.post(create_url, form_data())

    authorization = PriorAuthorization.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(authorization)
    assert authorization.codes == ["G2083", "J0013"]
    assert (authorization.status, authorization.created_by, authorization.patient) == ("draft", front_desk, patient)


def test_unknown_codes_are_refused_and_what_was_typed_is_kept(client_for, front_desk, patient):
    response = client_for(front_desk).post(
        reverse("billing:authorization_create", kwargs={"patient_pk": patient.pk}),
        form_data(codes="G2083, X999, S0013", reference="PA-KEEP-ME"),
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "X999 is not a code the clinic bills under an authorization." in page
    assert "S0013 was replaced by J0013" in page
    assert 'value="G2083, X999, S0013"' in page
    assert 'value="PA-KEEP-ME"' in page
    assert not PriorAuthorization.objects.exists()


def test_edit_shows_the_codes_as_typed_text_and_keeps_input_on_error(client_for, front_desk, patient):
    authorization = approved(patient, front_desk, codes=("G2083", "J0013"))
    client = client_for(front_desk)
    url = reverse("billing:authorization_edit", kwargs={"pk": authorization.pk})
    assert 'value="G2083, J0013"' in client.get(url).content.decode()

    response = client.post(url, form_data(starts_on="2027-04-01", ends_on="2027-03-01", notes="typed note"))

    assert response.status_code == 400
    page = response.content.decode()
    assert "The last day must not be before the first day." in page
    assert "typed note" in page and 'value="2027-04-01"' in page
    response = client.post(url, form_data(reference=""))  # an approved authorization keeps its number
    assert response.status_code == 400
    assert "needs the payer&#x27;s authorization number" in response.content.decode()
    authorization.refresh_from_db()
    assert authorization.reference == "PA-1001" and authorization.starts_on == date(2027, 1, 4)


def test_status_steps_through_the_page(client_for, front_desk, patient):
    authorization = authorization_create(patient=patient, payer=payer(), by=front_desk, **request_facts())
    client = client_for(front_desk)
    url = reverse("billing:authorization_transition", kwargs={"pk": authorization.pk})
    page = client.get(detail_url(authorization)).content.decode()
    assert '<option value="sent_outside">Submitted outside the app (say how in the note)</option>' in page
    assert 'value="submitted"' not in page  # no bare "Submitted" step

    assert client.post(url, {"to": "submitted", "note": "Sent"}).status_code == 400  # not a choice
    response = client.post(url, {"to": "sent_outside", "note": ""})
    assert response.status_code == 400
    assert "Say how the request was sent" in response.content.decode()
    authorization.refresh_from_db()
    assert authorization.status == "draft"

    assert client.post(url, {"to": "sent_outside", "note": "Sent to payer portal"}).status_code == 302
    response = client.post(url, {"to": "approved"})
    assert response.status_code == 400
    assert "needs the number of units approved" in response.content.decode()

    client.post(reverse("billing:authorization_edit", kwargs={"pk": authorization.pk}), form_data())
    assert client.post(url, {"to": "approved"}).status_code == 302
    page = client.get(detail_url(authorization)).content.decode()
    assert "Being assembled → Submitted by Intake1 Tester (Sent to payer portal)" in page
    assert "Submitted → Approved by Intake1 Tester" in page
    assert client.post(url, {"to": "denied"}).status_code == 400  # not offered from approved
    authorization.refresh_from_db()
    assert authorization.status == "approved"


def test_recording_as_sent_needs_the_request_facts_and_keeps_the_note(client_for, front_desk, patient):
    authorization = authorization_create(patient=patient, payer=payer(), by=front_desk)
    url = reverse("billing:authorization_transition", kwargs={"pk": authorization.pk})

    response = client_for(front_desk).post(url, {"to": "sent_outside", "note": "Faxed at 10:05"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter at least one ICD-10 diagnosis." in page and "Write the clinical justification." in page
    assert 'value="Faxed at 10:05"' in page
    authorization.refresh_from_db()
    assert authorization.status == "draft"


def test_clinicians_read_but_do_not_work_authorizations(client_for, clinician, front_desk, patient):
    authorization = approved(patient, front_desk)
    client = client_for(clinician)

    page = client.get(detail_url(authorization))
    assert page.status_code == 200
    content = page.content.decode()
    assert reverse("billing:authorization_edit", kwargs={"pk": authorization.pk}) not in content
    assert reverse("billing:authorization_transition", kwargs={"pk": authorization.pk}) not in content
    assert reverse("billing:authorization_refresh", kwargs={"pk": authorization.pk}) not in content
    for name in ("authorization_edit", "authorization_transition", "authorization_refresh"):
        assert client.post(reverse(f"billing:{name}", kwargs={"pk": authorization.pk})).status_code == 403
    assert client.get(reverse("billing:authorization_create", kwargs={"patient_pk": patient.pk})).status_code == 403


def test_patients_are_refused_billing_pages(client_for, patient_user, front_desk, patient):
    authorization = approved(patient, front_desk)
    client = client_for(patient_user)
    for url in (
        detail_url(authorization),
        reverse("billing:authorization_list"),
        reverse("billing:patient_authorizations", kwargs={"patient_pk": patient.pk}),
        reverse("billing:payer_list"),
    ):
        assert client.get(url).status_code == 403, url


def test_another_clinicians_patient_is_not_found(client_for, other_clinician, front_desk, patient):
    authorization = approved(patient, front_desk)
    client = client_for(other_clinician)

    assert client.get(detail_url(authorization)).status_code == 404
    assert client.get(reverse("billing:patient_authorizations", kwargs={"patient_pk": patient.pk})).status_code == 404
    assert "PA-1001" not in client.get(reverse("billing:authorization_list")).content.decode()


def test_an_unknown_id_is_not_found_for_intake(client_for, front_desk):
    client = client_for(front_desk)
    assert client.get(reverse("billing:authorization_detail", kwargs={"pk": 999999})).status_code == 404
    assert client.post(reverse("billing:authorization_transition", kwargs={"pk": 999999})).status_code == 404


def test_the_clinic_list_filters_by_status_and_running_out(client_for, front_desk, patient, other_patient):
    today = timezone.localdate()
    soon = approved(patient, front_desk, starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=5))
    later = approved(
        other_patient, front_desk, starts_on=today, ends_on=today + timedelta(days=90), reference="PA-2002"
    )
    authorization_create(patient=patient, payer=payer(), by=front_desk, reference="PA-DRAFT")
    client = client_for(front_desk)
    url = reverse("billing:authorization_list")

    everything = client.get(url).content.decode()
    running_out = client.get(url, {"ending_soon": "on"}).content.decode()
    drafts = client.get(url, {"status": "draft"}).content.decode()

    assert all(ref in everything for ref in ("PA-1001", "PA-2002", "PA-DRAFT"))
    assert soon.reference in running_out and later.reference not in running_out and "PA-DRAFT" not in running_out
    assert "PA-DRAFT" in drafts and "PA-1001" not in drafts
    assert client.get(url, {"status": "nonsense"}).status_code == 200


def test_reading_the_page_never_counts_units_but_the_button_does(client_for, front_desk, clinician, patient):
    authorization = approved(patient, front_desk)
    book(patient, clinician, date(2027, 1, 11), status="completed")
    client = client_for(front_desk)

    client.get(detail_url(authorization))
    authorization.refresh_from_db()
    assert authorization.units_used == 0

    response = client.post(reverse("billing:authorization_refresh", kwargs={"pk": authorization.pk}), follow=True)
    authorization.refresh_from_db()
    assert authorization.units_used == 1
    assert "Units counted again: 1 used." in response.content.decode()


def test_admin_home_lists_authorizations_running_out_in_constant_queries(
    client_for, admin_user, front_desk, clinician, django_assert_max_num_queries
):
    from patients.services import patient_create

    today = timezone.localdate()
    for i in range(12):
        someone = patient_create(
            created_by=None, given_name="A", family_name=f"B{i}", date_of_birth=date(1980, 1, 1), primary_clinician=None
        )
        ends_on = today + timedelta(days=3 if i % 2 else 200)
        authorization = approved(
            someone, front_desk, starts_on=today, ends_on=ends_on, units=10, reference=f"PA-{i:03d}"
        )
        if i % 2 == 0:  # ending late, but 9 of 10 units used
            PriorAuthorization.objects.filter(pk=authorization.pk).update(units_used=9)
    quiet = approved(clinician_patient(clinician), front_desk, starts_on=today, ends_on=today + timedelta(days=200))
    client = client_for(admin_user)

    with django_assert_max_num_queries(18):  # 2 of them record who saw which patients
        page = client.get(reverse("homes:home")).content.decode()

    assert "Expiring authorizations" in page
    assert page.count('data-testid="authorization-row"') == 12
    assert quiet.reference not in page


def clinician_patient(clinician):
    from patients.services import patient_create

    born = date(1980, 1, 1)
    return patient_create(
        created_by=None, given_name="Q", family_name="Q", date_of_birth=born, primary_clinician=clinician
    )
