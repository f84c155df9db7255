import csv
import io
import json
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from patients.services import patient_create

from .clinic import at, checked_in, dosing, plan, room, screened


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def reads_of(user, patient) -> int:
    return LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, actor=user, additional_data__patient_id=patient.pk
    ).count()


@pytest.fixture
def treated(patient, clinician, other_patient, other_clinician):
    a = plan(patient, clinician, route="iv", on=date(2026, 3, 1))
    dosing(a, at(date(2026, 3, 2)), chair=room("Chair A"), mg="35")
    screened(patient, clinician, at(date(2026, 2, 27)), {"phq9": 20})
    checked_in(patient, at(date(2026, 3, 20)), {"phq9": 8})
    b = plan(other_patient, other_clinician, route="intranasal", on=date(2026, 3, 1))
    dosing(b, at(date(2026, 3, 2), 13), chair=room("Chair B"), mg="56")
    checked_in(other_patient, at(date(2026, 3, 21)), {"phq9": 9})


def test_patient_list_for_intake_staff_names_everyone_and_records_each_read(
    client_for, front_desk, patient, other_patient
):
    client = client_for(front_desk)
    rows = read_csv(client.get(reverse("exports:patients")))
    assert rows[0][:3] == ["MRN", "Family name", "Given name"]
    assert {row[0] for row in rows[1:]} == {patient.mrn, other_patient.mrn}
    assert reads_of(front_desk, patient) == 1 and reads_of(front_desk, other_patient) == 1


def test_a_clinician_exports_only_the_patients_they_may_open(client_for, clinician, patient, other_patient, treated):
    client = client_for(clinician)
    patients = read_csv(client.get(reverse("exports:patients")))
    assert [row[0] for row in patients[1:]] == [patient.mrn]
    sessions = read_csv(client.get(reverse("exports:sessions")))
    assert [row[0] for row in sessions[1:]] == [patient.mrn]
    assert sessions[1][3] == "Intravenous (IV) ketamine" and sessions[1][-1] == "35.0"
    checkins = read_csv(client.get(reverse("exports:checkins")))
    assert [(row[0], row[5], row[6]) for row in checkins[1:]] == [(patient.mrn, "PHQ-9", "8")]
    assert reads_of(clinician, other_patient) == 0
    assert reads_of(clinician, patient) == 3


def test_admins_export_every_patients_sessions(client_for, admin_user, patient, other_patient, treated):
    rows = read_csv(client_for(admin_user).get(reverse("exports:sessions")))
    assert sorted(row[0] for row in rows[1:]) == sorted([patient.mrn, other_patient.mrn])
    assert rows[1][1] == "2026-03-02T10:00:00-05:00"  # clinic time, ISO 8601


def test_a_name_that_looks_like_a_formula_is_neutralised(client_for, admin_user, clinician):
    patient_create(
        created_by=None,
        given_name='=HYPERLINK("http://evil.example","x")',
        family_name="+Cmd",
        date_of_birth=date(1970, 1, 1),
        primary_clinician=clinician,
    )
    rows = read_csv(client_for(admin_user).get(reverse("exports:patients")))
    (row,) = [row for row in rows[1:] if row[1].endswith("Cmd")]
    assert row[1] == "'+Cmd" and row[2].startswith("'=HYPERLINK")


def test_authorizations_export(client_for, admin_user, patient, front_desk):
    from billing.models import Payer
    from billing.services import authorization_create

    authorization_create(
        patient=patient, payer=Payer.objects.create(name="Acme"), by=front_desk, reference="PA-7",
        starts_on=date(2026, 1, 5), ends_on=date(2026, 3, 31),
    )  # fmt: skip
    rows = read_csv(client_for(admin_user).get(reverse("exports:authorizations")))
    assert rows[1][:3] == [patient.mrn, "Acme", "PA-7"] and rows[1][5:7] == ["2026-01-05", "2026-03-31"]
    assert reads_of(admin_user, patient) == 1


def test_outcomes_csv_for_a_period(client_for, admin_user, treated):
    response = client_for(admin_user).get(reverse("exports:outcomes"), {"start": "2026-03-01", "end": "2026-03-31"})
    rows = read_csv(response)
    assert rows[0][:2] == ["Clinic outcomes", "2026-03-01 to 2026-03-31"]
    flat = [row[: len([c for c in row if c != ""])] for row in rows]
    assert ["Response and remission (PHQ-9)"] in flat
    assert ["Response (50% or more below baseline)", "1", "1", "100.0%"] in flat


def test_a_clinicians_outcomes_are_their_own(client_for, clinician, treated):
    rows = read_csv(
        client_for(clinician).get(reverse("exports:outcomes"), {"start": "2026-03-01", "end": "2026-03-31"})
    )
    assert ["Patients treated", "1", "", ""] in rows or ["Patients treated", "1"] in [r[:2] for r in rows]
    assert ["Sessions delivered: Intranasal esketamine", "0"] in [r[:2] for r in rows]


def test_an_admin_narrows_the_outcomes_to_one_clinician_and_a_clinician_cannot(
    client_for, admin_user, clinician, other_clinician, treated
):
    period = {"start": "2026-03-01", "end": "2026-03-31"}
    page = client_for(admin_user).get(reverse("exports:index"))
    assert 'name="clinician"' in page.content.decode()
    assert 'name="clinician"' not in client_for(clinician).get(reverse("exports:index")).content.decode()

    theirs = read_csv(
        client_for(admin_user).get(reverse("exports:outcomes"), {**period, "clinician": other_clinician.pk})
    )
    assert ["Sessions delivered: Intranasal esketamine", "1"] in [r[:2] for r in theirs]
    assert ["Sessions delivered: Intravenous (IV) ketamine", "0"] in [r[:2] for r in theirs]
    # A clinician who names another clinician still gets their own patients' outcomes.
    own = read_csv(client_for(clinician).get(reverse("exports:outcomes"), {**period, "clinician": other_clinician.pk}))
    assert ["Sessions delivered: Intranasal esketamine", "0"] in [r[:2] for r in own]
    # Not a clinician: refused with the form and its message, nothing downloaded.
    refused = client_for(admin_user).get(reverse("exports:outcomes"), {**period, "clinician": admin_user.pk})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()


def test_a_period_that_ends_before_it_starts_is_refused(client_for, admin_user):
    response = client_for(admin_user).get(reverse("exports:operations"), {"start": "2026-03-31", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "end date is before the start date" in response.content.decode()


def test_operations_csv(client_for, admin_user, treated):
    rows = read_csv(
        client_for(admin_user).get(reverse("exports:operations"), {"start": "2026-03-02", "end": "2026-03-08"})
    )
    assert rows[0][:2] == ["Operations and authorizations", "2026-03-02 to 2026-03-08"]
    assert ["Intravenous (IV) ketamine", "1", "0", "0", "0"] in [r[:5] for r in rows]


def test_fhir_download_from_the_chart(client_for, clinician, patient, treated):
    response = client_for(clinician).get(reverse("exports:patient_fhir", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "attachment" in response["Content-Disposition"]
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.entry[0].resource.identifier[0].value == patient.mrn
    assert reads_of(clinician, patient) == 1


def test_the_patient_downloads_their_own_record_from_the_portal(
    client_for, patient_user, patient, other_patient, treated
):
    client = client_for(patient_user)
    assert reverse("exports:my_fhir") in client.get(reverse("homes:home")).content.decode()
    before = reads_of(patient_user, patient)
    response = client.get(reverse("exports:my_fhir"))
    text = response.content.decode()
    Bundle.model_validate_json(text)
    assert patient.mrn in text and other_patient.mrn not in text
    assert reads_of(patient_user, patient) == before + 1
    data = json.loads(text)
    assert {e["resource"]["resourceType"] for e in data["entry"]} >= {"Patient", "Appointment", "Observation"}


def test_another_clinicians_patient_is_not_found(client_for, clinician, other_patient, treated):
    client = client_for(clinician)
    assert client.get(reverse("exports:patient_fhir", args=[other_patient.pk])).status_code == 404
    assert client.get(reverse("exports:patient_sessions", args=[other_patient.pk])).status_code == 404
    assert reads_of(clinician, other_patient) == 0


def test_a_patient_cannot_reach_the_staff_downloads(client_for, patient_user, other_patient):
    client = client_for(patient_user)
    assert client.get(reverse("exports:patient_fhir", args=[other_patient.pk])).status_code == 403
    assert client.get(reverse("exports:patients")).status_code == 403


def test_per_patient_sessions_csv(client_for, admin_user, patient, other_patient, treated):
    rows = read_csv(client_for(admin_user).get(reverse("exports:patient_sessions", args=[patient.pk])))
    assert [row[0] for row in rows[1:]] == [patient.mrn]


def test_homes_and_chart_link_to_the_exports(client_for, admin_user, clinician, patient):
    index = reverse("exports:index")
    assert index in client_for(admin_user).get(reverse("homes:home")).content.decode()
    client = client_for(clinician)
    assert index in client.get(reverse("homes:home")).content.decode()
    chart = client.get(reverse("homes:patient_chart", args=[patient.pk])).content.decode()
    assert reverse("exports:patient_fhir", args=[patient.pk]) in chart
    page = client.get(index).content.decode()
    assert reverse("exports:outcomes") in page and reverse("exports:operations") not in page


def test_intake_staff_see_only_the_patient_list(client_for, front_desk):
    page = client_for(front_desk).get(reverse("exports:index")).content.decode()
    assert reverse("exports:patients") in page and reverse("exports:sessions") not in page
