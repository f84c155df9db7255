"""Home page work lists show a fixed number of rows and say how many more there are, linking to the whole list."""

from datetime import date

from auditlog.models import LogEntry
from django.urls import reverse

from kap_clinic.homes.selectors import HOME_LIST_LIMIT
from patients.models import Patient
from patients.services import patient_create


def _patients(count, **fields):
    return [
        patient_create(
            created_by=None, given_name="A", family_name=f"Bound{i:03d}", date_of_birth=date(1980, 1, 1), **fields
        )
        for i in range(count)
    ]


def _section(body, testid):
    return body.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


def test_the_clinicians_own_patients_stop_at_the_bound_with_a_count_of_the_rest(client_for, clinician):
    _patients(HOME_LIST_LIMIT + 12, primary_clinician=clinician)
    body = client_for(clinician).get(reverse("homes:home")).content.decode()
    mine = body.split('id="mine-h"', 1)[1].split("</section>", 1)[0]
    assert mine.count("Bound") == HOME_LIST_LIMIT
    more = _section(body, "more-my-patients")
    assert "12 more" in more
    assert reverse("homes:work_list", kwargs={"kind": "my-patients"}) in more


def test_a_list_within_the_bound_has_no_more_link(client_for, clinician):
    _patients(3, primary_clinician=clinician)
    body = client_for(clinician).get(reverse("homes:home")).content.decode()
    assert 'data-testid="more-my-patients"' not in body


def test_new_referrals_on_the_intake_home_count_the_rest(client_for, front_desk):
    _patients(HOME_LIST_LIMIT + 5)
    body = client_for(front_desk).get(reverse("homes:home")).content.decode()
    referrals = body.split('data-testid="new-referrals"', 1)[1].split("</div>", 1)[0]
    assert referrals.count("Bound") == HOME_LIST_LIMIT
    assert "5 more" in _section(body, "more-new-referrals")


def test_the_whole_list_is_paged_and_records_the_reads(client_for, clinician):
    patients = _patients(HOME_LIST_LIMIT + 12, primary_clinician=clinician)
    client = client_for(clinician)
    url = reverse("homes:work_list", kwargs={"kind": "my-patients"})
    body = client.get(url).content.decode()
    assert "Patients in my care" in body
    assert body.count("Bound") == HOME_LIST_LIMIT + 12
    assert Patient.objects.filter(pk=patients[-1].pk).exists()
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(patients[-1].pk)).exists()


def test_an_unknown_list_is_not_found(client_for, clinician):
    assert client_for(clinician).get(reverse("homes:work_list", kwargs={"kind": "nothing"})).status_code == 404


def test_another_clinicians_patients_are_not_in_my_list(client_for, clinician, django_user_model):
    other = django_user_model.objects.create_user(username="other-clin", password="x", role="clinician")
    _patients(2, primary_clinician=other)
    body = client_for(clinician).get(reverse("homes:work_list", kwargs={"kind": "my-patients"})).content.decode()
    assert "Bound" not in body
