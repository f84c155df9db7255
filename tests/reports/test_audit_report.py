"""The audit report: who saw or changed a patient's record (or what a user did) over a period, as PDF and CSV."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kap_clinic.reports.csv_export import write_csv
from kap_clinic.reports.kinds import KINDS
from tests.reports.helpers import pdf_text

pytestmark = pytest.mark.django_db


def _seen_and_changed(client_for, patient, other_patient, clinician, front_desk):
    client_for(clinician).get(reverse("homes:patient_chart", args=[patient.pk]))
    client_for(front_desk).get(reverse("homes:patient_chart", args=[other_patient.pk]))
    patient.phone = "+1 617 555 0100"
    patient.save()
    patient.phone = "+1 617 555 0199"
    patient.save()


def test_csv_names_who_saw_and_changed_the_patient_with_old_and_new_values(
    client_for, patient, other_patient, clinician, front_desk, admin_user
):
    _seen_and_changed(client_for, patient, other_patient, clinician, front_desk)
    client = client_for(admin_user)
    today = timezone.localdate()
    response = client.post(
        reverse("reports:run", args=["audit"]),
        {"patient": patient.mrn, "start": today - timedelta(days=1), "end": today, "format": "csv"},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffWhen,Who,Action")
    assert "clinician1,Access" in text  # the clinician's read of the chart
    assert "'+1 617 555 0100,'+1 617 555 0199" in text  # old and new phone numbers, kept from being formulas
    assert other_patient.mrn not in text and "Holt" not in text


def test_pdf_for_a_user_lists_what_they_did(client_for, patient, other_patient, clinician, front_desk, admin_user):
    _seen_and_changed(client_for, patient, other_patient, clinician, front_desk)
    output = KINDS["audit"].render({"user": front_desk.pk, "format": "pdf"}, "pdf")
    text = pdf_text(output.content)
    assert "Audit report" in text and "user intake1" in text
    assert other_patient.mrn in text  # the front desk read patient B's chart
    assert "Page 1 of 1" in text


def test_the_audit_report_is_for_admins_only(client_for, patient, clinician):
    url = reverse("reports:run", args=["audit"])
    assert client_for(clinician).post(url, {"patient": patient.mrn, "format": "csv"}).status_code == 403


def test_the_form_asks_for_a_patient_or_a_user(client_for, admin_user):
    response = client_for(admin_user).post(reverse("reports:run", args=["audit"]), {"format": "csv"})
    assert response.status_code == 400 and "Choose a patient or a user." in response.content.decode()


def test_csv_neutralises_formulas_and_writes_iso_dates():
    when = timezone.make_aware(timezone.datetime(2026, 3, 4, 9, 30))
    text = "".join(
        write_csv([["=1+2", "+SUM(A1)", "-3", "@cmd", "\tx", when, "plain"]], ["a", "b", "c", "d", "e", "f", "g"])
    )
    assert text.startswith("\ufeffa,b,c")
    assert "'=1+2,'+SUM(A1),'-3,'@cmd,'\tx,2026-03-04T09:30:00-05:00,plain" in text


def test_the_report_forms_name_staff_as_people_know_them(client_for, admin_user, clinician, front_desk):
    """The staff member of the audit report and the clinician of the outcomes report are chosen by name."""
    page = client_for(admin_user).get(reverse("reports:index")).content.decode()
    assert "user #" not in page
    assert f'<option value="{front_desk.username}">Intake1 Tester (intake1, intake staff)</option>' in page
    assert f'<option value="{clinician.pk}">Clinician1 Tester</option>' in page
    exports = client_for(admin_user).get(reverse("exports:index")).content.decode()
    assert "user #" not in exports and f'<option value="{clinician.pk}">Clinician1 Tester</option>' in exports
