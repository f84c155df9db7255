"""Open suicide-risk alerts of any level stop a screening being signed off as eligible (clinical review 2026-12-01)."""

import pytest
from django.core.exceptions import ValidationError

from patients.status import Status
from screening import services
from screening.models import Screening

from .test_services import fill_screening

pytestmark = pytest.mark.django_db

REVIEW = "Seen in person today; passive thoughts only, no intent; safety plan agreed."


@pytest.mark.parametrize(
    ("code", "answers", "level"),
    [
        ("cssrs", [1, 0, None, None, None, 0, None], "low"),
        ("phq9", [2, 2, 1, 1, 1, 1, 1, 1, 1], "moderate"),
        ("cssrs", [1, 1, 0, 1, 0, 0, None], "high"),
    ],
)
def test_sign_off_as_eligible_is_refused_while_any_risk_alert_is_open(patient, clinician, code, answers, level):
    """C-SSRS triage (docs/clinical-references.md#c-ssrs, #clinical-review): low needs a clinician's review before the
    next dose, moderate the same day, high at once. Today a screening could be signed off eligible with high and
    moderate alerts unreviewed."""
    screening = fill_screening(patient, clinician, answers={code: answers})
    alert = screening.risk_alerts.get()
    assert alert.level == level

    with pytest.raises(ValidationError, match="must be reviewed and cleared before the patient is signed off"):
        services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible", note=REVIEW)
    screening.refresh_from_db()
    assert screening.status == Screening.Status.COMPLETED

    services.alert_clear(alert=alert, by=clinician, note=REVIEW)
    services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible", note=REVIEW)
    patient.refresh_from_db()
    assert patient.status == Status.ELIGIBLE


def test_not_eligible_may_be_signed_off_with_an_alert_open(patient, clinician):
    """Refusing treatment never waits for the review: only the eligible decision does."""
    screening = fill_screening(patient, clinician, answers={"cssrs": [1, 1, 0, 1, 0, 0, None]})

    services.screening_sign_off(
        screening=screening, by=clinician, final_outcome="ineligible", note="High risk; referred to crisis care."
    )

    patient.refresh_from_db()
    assert patient.status == Status.NOT_ELIGIBLE


def test_the_sign_off_page_says_why_eligible_is_refused(client_for, patient, clinician):
    from django.urls import reverse

    screening = fill_screening(patient, clinician, answers={"phq9": [2, 2, 1, 1, 1, 1, 1, 1, 1]})

    response = client_for(clinician).post(
        reverse("screening:sign_off", kwargs={"pk": screening.pk}), {"final_outcome": "eligible", "note": REVIEW}
    )

    assert response.status_code == 400
    assert "must be reviewed and cleared" in response.content.decode()
    screening.refresh_from_db()
    assert screening.status == Screening.Status.COMPLETED
