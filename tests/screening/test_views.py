"""Screening pages as staff and patients use them: draft and resume, alerts, completion, sign-off, self-report,
access checks and query counts."""

from datetime import date
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kap_clinic.rules.contraindications import CONDITIONS
from patients.services import patient_create
from patients.status import Status
from screening import services
from screening.models import Diagnosis, InstrumentResponse, MedicalHistory, Screening, SuicideRiskAlert

from .test_services import FINE_ANSWERS, fill_screening

pytestmark = pytest.mark.django_db

CRISIS_TEXT = "988lifeline.org"  # only in the crisis banner; the page footer mentions 988 on every page


class _FormState(HTMLParser):
    """What a person sees entered in a page's form: text values, checked boxes and radios, chosen options."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select = None
        self._textarea = None

    def _add(self, name, value):
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("hidden", "submit"):
            if a.get("type") in ("radio", "checkbox"):
                if "checked" in a:
                    self._add(a["name"], a.get("value", "on"))
            elif a.get("value"):
                self._add(a["name"], a["value"])
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and data.strip():
            self._add(self._textarea, data.strip())


def form_state(response) -> dict[str, str]:
    parser = _FormState()
    parser.feed(response.content.decode())
    return {name: values[0] if len(values) == 1 else values for name, values in parser.values.items()}


def instrument_url(screening, code):
    return reverse("screening:instrument", kwargs={"pk": screening.pk, "code": code})


def detail_url(screening):
    return reverse("screening:detail", kwargs={"pk": screening.pk})


def medical_post(*, meds=(), diagnoses=(), action="complete", **fields):
    """The medical-history form as a browser submits it, with the fine (eligible) values unless told otherwise."""
    data = {
        "bp_systolic": "120",
        "bp_diastolic": "80",
        "heart_rate": "70",
        "spo2": "98",
        "weight_kg": "70.0",
        "pregnant": "false",
        "breastfeeding": "false",
        "adequate_antidepressant_trials": "2",
        "substance_use_history": "",
        "notes": "",
        "action": action,
        "med-TOTAL_FORMS": str(max(len(meds), 2)),
        "med-INITIAL_FORMS": "0",
        "dx-TOTAL_FORMS": str(max(len(diagnoses), 1)),
        "dx-INITIAL_FORMS": "0",
    }
    if not meds:
        data["no_medications_attested"] = "on"
    for i, (name, dose) in enumerate(meds):
        data[f"med-{i}-name"], data[f"med-{i}-dose"] = name, dose
    for i, code in enumerate(diagnoses):
        data[f"dx-{i}-icd10_code"] = code
    data.update(fields)
    return data


@pytest.fixture
def screening(patient, front_desk):
    """Patient A's screening in progress, started by intake staff."""
    return services.screening_start(patient=patient, by=front_desk)


def raise_phq9_alert(screening, by):
    services.response_save(screening=screening, code="phq9", answers=[None] * 8 + [1], complete=False, by=by)
    return SuicideRiskAlert.objects.get(screening=screening, instrument_code="phq9", status="open")


# ---- Draft and resume ---------------------------------------------------------------------------------------------


def test_draft_answers_are_checked_again_when_the_form_is_reopened(client_for, front_desk, screening):
    client = client_for(front_desk)
    url = instrument_url(screening, "phq9")

    response = client.post(url, {"action": "draft", "item_1": "2", "item_3": "1", "item_7": "0"})

    assert response.status_code == 302
    assert response["Location"] == detail_url(screening)
    saved = InstrumentResponse.objects.get(screening=screening, code="phq9")
    assert saved.answers == [2, None, 1, None, None, None, 0, None, None]
    assert (saved.is_complete, saved.total) == (False, None)
    assert form_state(client.get(url)) == {"item_1": "2", "item_3": "1", "item_7": "0"}


def test_detail_page_lists_a_draft_part_as_draft(client_for, front_desk, screening):
    client = client_for(front_desk)
    client.post(instrument_url(screening, "gad7"), {"action": "draft", "item_1": "2"})

    body = client.get(detail_url(screening)).content.decode()

    assert "Draft" in body
    assert "Still to do: PHQ-9, GAD-7, C-SSRS Screener, AUDIT, DAST-10, Medical history." in body


def test_completing_with_a_missing_item_names_it_and_keeps_every_answer(client_for, front_desk, screening):
    typed = {f"item_{n}": "1" for n in range(1, 10) if n != 5}

    response = client_for(front_desk).post(instrument_url(screening, "phq9"), {**typed, "action": "complete"})

    assert response.status_code == 400
    assert "PHQ-9 item 5: missing answer" in response.content.decode()
    assert form_state(response) == typed
    assert not InstrumentResponse.objects.filter(screening=screening).exists()


def test_an_answer_outside_the_options_is_refused_and_the_rest_kept(client_for, front_desk, screening):
    typed = {f"item_{n}": "1" for n in range(1, 8)}

    response = client_for(front_desk).post(
        instrument_url(screening, "gad7"), {**typed, "item_7": "9", "action": "complete"}
    )

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert form_state(response) == {f"item_{n}": "1" for n in range(1, 7)}
    assert not InstrumentResponse.objects.exists()


def test_completing_a_full_set_through_the_form_scores_it(client_for, front_desk, screening):
    answers = {f"item_{n}": "2" for n in range(1, 10)} | {"item_9": "0"}

    response = client_for(front_desk).post(instrument_url(screening, "phq9"), {**answers, "action": "complete"})

    assert response.status_code == 302
    saved = InstrumentResponse.objects.get(screening=screening, code="phq9")
    assert (saved.is_complete, saved.total, saved.band) == (True, 16, "moderately_severe")


def test_unknown_instrument_code_is_404(client_for, front_desk, screening):
    assert client_for(front_desk).get(instrument_url(screening, "audit_c")).status_code == 404


# ---- C-SSRS skip rules and alerts ---------------------------------------------------------------------------------


def test_cssrs_follow_up_chosen_after_q2_no_is_stored_as_not_asked(client_for, front_desk, screening):
    posted = {"item_1": "1", "item_2": "0", "item_3": "1", "item_4": "1", "item_6": "0", "item_7": "1"}

    response = client_for(front_desk).post(instrument_url(screening, "cssrs"), {**posted, "action": "complete"})

    assert response.status_code == 302
    saved = InstrumentResponse.objects.get(screening=screening, code="cssrs")
    assert saved.answers == [1, 0, None, None, None, 0, None]
    assert (saved.total, saved.band) == (1, "low")
    assert SuicideRiskAlert.objects.get(screening=screening).level == "low"


def test_cssrs_intent_answered_yes_raises_a_high_alert_shown_with_crisis_resources(client_for, front_desk, screening):
    client = client_for(front_desk)
    posted = {"item_1": "1", "item_2": "1", "item_3": "0", "item_4": "1", "item_5": "0", "item_6": "0"}

    client.post(instrument_url(screening, "cssrs"), {**posted, "action": "complete"})

    alert = SuicideRiskAlert.objects.get(screening=screening)
    assert (alert.level, alert.status) == ("high", "open")
    body = client.get(detail_url(screening)).content.decode()
    assert CRISIS_TEXT in body
    assert "High risk" in body
    assert "dosing on hold" in body


def test_phq9_item9_in_a_draft_raises_an_alert_at_once(client_for, front_desk, screening):
    client_for(front_desk).post(instrument_url(screening, "phq9"), {"item_9": "2", "action": "draft"})

    alert = SuicideRiskAlert.objects.get(screening=screening)
    assert (alert.instrument_code, alert.level, alert.status) == ("phq9", "moderate", "open")


def test_clinician_home_shows_open_alerts_with_crisis_resources(client_for, clinician, front_desk, patient, screening):
    alert = raise_phq9_alert(screening, front_desk)

    body = client_for(clinician).get(reverse("homes:home")).content.decode()

    assert CRISIS_TEXT in body
    assert "Moderate risk" in body
    assert patient.mrn in body
    assert reverse("screening:alert_clear", kwargs={"pk": alert.pk}) in body


def test_clinician_home_shows_no_crisis_banner_without_open_alerts(client_for, clinician, patient, screening):
    body = client_for(clinician).get(reverse("homes:home")).content.decode()

    assert CRISIS_TEXT not in body


def test_clinician_home_leaves_out_alerts_of_other_clinicians_patients(
    client_for, other_clinician, front_desk, patient, screening
):
    raise_phq9_alert(screening, front_desk)

    body = client_for(other_clinician).get(reverse("homes:home")).content.decode()

    assert CRISIS_TEXT not in body
    assert patient.mrn not in body


# ---- Clearing an alert --------------------------------------------------------------------------------------------


def test_clinician_clears_an_alert_with_a_review_note(client_for, clinician, front_desk, patient, screening):
    alert = raise_phq9_alert(screening, front_desk)
    client = client_for(clinician)
    url = reverse("screening:alert_clear", kwargs={"pk": alert.pk})
    assert CRISIS_TEXT in client.get(url).content.decode()

    response = client.post(url, {"note": "Called the patient: passive thoughts, no plan; safety plan agreed."})

    assert response.status_code == 302
    assert response["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    alert.refresh_from_db()
    assert alert.status == SuicideRiskAlert.Status.CLEARED
    assert alert.cleared_by == clinician
    assert alert.cleared_at is not None
    assert alert.review_note == "Called the patient: passive thoughts, no plan; safety plan agreed."
    assert "Cleared by Clinician1 Tester" in client.get(url).content.decode()


@pytest.mark.parametrize("note", ["", "ok", "         "])
def test_an_alert_is_not_cleared_without_a_review_note(client_for, clinician, front_desk, screening, note):
    alert = raise_phq9_alert(screening, front_desk)

    response = client_for(clinician).post(reverse("screening:alert_clear", kwargs={"pk": alert.pk}), {"note": note})

    assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.status == SuicideRiskAlert.Status.OPEN
    assert alert.cleared_by is None


@pytest.mark.parametrize("person", ["front_desk", "admin_user"])
def test_only_a_clinician_may_open_or_clear_an_alert(request, client_for, front_desk, screening, person):
    alert = raise_phq9_alert(screening, front_desk)
    client = client_for(request.getfixturevalue(person))
    url = reverse("screening:alert_clear", kwargs={"pk": alert.pk})

    assert client.get(url).status_code == 403
    assert client.post(url, {"note": "Reviewed and safe to continue with the plan."}).status_code == 403
    alert.refresh_from_db()
    assert alert.status == SuicideRiskAlert.Status.OPEN


# ---- Completing a screening ---------------------------------------------------------------------------------------


def test_finishing_is_refused_while_parts_are_missing_and_the_page_lists_them(client_for, front_desk, screening):
    client = client_for(front_desk)
    client.post(instrument_url(screening, "phq9"), {f"item_{n}": "1" for n in range(1, 10)} | {"action": "complete"})

    response = client.post(reverse("screening:complete", kwargs={"pk": screening.pk}), follow=True)

    body = response.content.decode()
    assert "Finish these parts first: GAD-7, C-SSRS Screener, AUDIT, DAST-10, Medical history." in body
    screening.refresh_from_db()
    assert screening.status == Screening.Status.DRAFT


def test_finishing_a_whole_screening_shows_the_result_and_its_reasons(client_for, front_desk, patient):
    screening = fill_screening(patient, front_desk, complete=False, medical={"conditions": ["cystitis"]})

    response = client_for(front_desk).post(reverse("screening:complete", kwargs={"pk": screening.pk}), follow=True)

    body = response.content.decode()
    assert "Screening complete and waiting for a clinician&#x27;s sign-off." in body
    assert "Needs clinician review" in body
    assert "a relative contraindication" in body
    assert "Waiting for a clinician's sign-off." in body  # intake staff see no sign-off form
    screening.refresh_from_db()
    assert (screening.status, screening.computed_outcome) == ("completed", "review")


def test_finished_screening_cannot_be_edited_through_the_forms(client_for, front_desk, patient):
    screening = fill_screening(patient, front_desk)
    client = client_for(front_desk)

    response = client.post(
        instrument_url(screening, "gad7"), {f"item_{n}": "0" for n in range(1, 8)} | {"action": "complete"}
    )

    assert response.status_code == 400
    assert "This screening is finished" in response.content.decode()
    assert InstrumentResponse.objects.get(screening=screening, code="gad7").total == 7


# ---- Sign-off -----------------------------------------------------------------------------------------------------


def test_clinician_sees_the_sign_off_form_on_a_completed_screening(client_for, clinician, front_desk, patient):
    screening = fill_screening(patient, front_desk)

    body = client_for(clinician).get(detail_url(screening)).content.decode()

    assert reverse("screening:sign_off", kwargs={"pk": screening.pk}) in body
    assert "All eligibility checks passed." in body


@pytest.mark.parametrize("person", ["front_desk", "admin_user"])
def test_only_a_clinician_can_sign_off_through_the_page(request, client_for, front_desk, patient, person):
    screening = fill_screening(patient, front_desk)

    response = client_for(request.getfixturevalue(person)).post(
        reverse("screening:sign_off", kwargs={"pk": screening.pk}), {"final_outcome": "eligible"}
    )

    assert response.status_code == 403
    screening.refresh_from_db()
    assert screening.status == Screening.Status.COMPLETED


def test_sign_off_differing_from_the_result_without_a_note_is_refused(client_for, clinician, front_desk, patient):
    screening = fill_screening(patient, front_desk)

    response = client_for(clinician).post(
        reverse("screening:sign_off", kwargs={"pk": screening.pk}), {"final_outcome": "ineligible", "note": ""}
    )

    assert response.status_code == 400
    assert "Explain in a note why your decision differs from the screening result." in response.content.decode()
    screening.refresh_from_db()
    assert (screening.status, screening.final_outcome, screening.signed_off_by) == ("completed", "", None)
    patient.refresh_from_db()
    assert patient.status == Status.SCREENING


def test_sign_off_without_a_decision_is_refused(client_for, clinician, front_desk, patient):
    screening = fill_screening(patient, front_desk)

    response = client_for(clinician).post(reverse("screening:sign_off", kwargs={"pk": screening.pk}), {"note": "x"})

    assert response.status_code == 400
    screening.refresh_from_db()
    assert screening.status == Screening.Status.COMPLETED


def test_sign_off_as_eligible_moves_the_patient_to_eligible(client_for, clinician, front_desk, patient):
    screening = fill_screening(patient, front_desk)

    response = client_for(clinician).post(
        reverse("screening:sign_off", kwargs={"pk": screening.pk}), {"final_outcome": "eligible"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    screening.refresh_from_db()
    assert (screening.status, screening.final_outcome, screening.signed_off_by) == ("signed_off", "eligible", clinician)
    patient.refresh_from_db()
    assert patient.status == Status.ELIGIBLE


def test_sign_off_as_not_eligible_with_a_note_moves_the_patient_to_not_eligible(
    client_for, clinician, front_desk, patient
):
    screening = fill_screening(patient, front_desk)
    note = "Collateral history shows an active psychosis not disclosed at intake."

    response = client_for(clinician).post(
        reverse("screening:sign_off", kwargs={"pk": screening.pk}), {"final_outcome": "ineligible", "note": note}
    )

    assert response.status_code == 302
    screening.refresh_from_db()
    assert (screening.final_outcome, screening.sign_off_note) == ("ineligible", note)
    patient.refresh_from_db()
    assert patient.status == Status.NOT_ELIGIBLE
    assert note in client_for(clinician).get(detail_url(screening)).content.decode()


# ---- Self-report in the portal ------------------------------------------------------------------------------------


def self_report_url(code):
    return reverse("screening:self_report", kwargs={"code": code})


def test_patient_self_reports_phq9_and_staff_see_it_marked_patient_reported(
    client_for, patient_user, front_desk, patient
):
    client = client_for(patient_user)
    page = client.get(self_report_url("phq9"))
    assert page.status_code == 200
    assert CRISIS_TEXT in page.content.decode()

    response = client.post(self_report_url("phq9"), {f"item_{n}": "1" for n in range(1, 9)} | {"item_9": "0"})

    assert response.status_code == 302
    assert response["Location"] == reverse("homes:home")
    saved = InstrumentResponse.objects.get(screening__patient=patient, code="phq9")
    assert (saved.reported_by_patient, saved.is_complete, saved.total) == (True, True, 8)
    staff_page = client_for(front_desk).get(detail_url(saved.screening))
    assert "Patient-reported" in staff_page.content.decode()


def test_patient_home_shows_the_questionnaire_as_sent(client_for, patient_user, patient):
    client = client_for(patient_user)
    client.post(self_report_url("gad7"), {f"item_{n}": "0" for n in range(1, 8)})

    body = client.get(reverse("homes:home")).content.decode()

    assert "Anxiety (GAD-7)</a> — sent" in body


def test_patient_self_report_with_item9_above_zero_raises_an_alert(client_for, patient_user, patient):
    client_for(patient_user).post(self_report_url("phq9"), {f"item_{n}": "0" for n in range(1, 9)} | {"item_9": "1"})

    alert = SuicideRiskAlert.objects.get(patient=patient)
    assert (alert.instrument_code, alert.level, alert.status) == ("phq9", "moderate", "open")


def test_patient_self_report_with_a_missing_item_names_it_and_keeps_the_answers(client_for, patient_user, patient):
    typed = {f"item_{n}": "2" for n in range(1, 9)}

    response = client_for(patient_user).post(self_report_url("phq9"), typed)

    assert response.status_code == 400
    assert "PHQ-9 item 9: missing answer" in response.content.decode()
    assert form_state(response) == typed
    assert not InstrumentResponse.objects.exists()


@pytest.mark.parametrize("code", ["cssrs", "audit", "dast10", "pcl5", "nonsense"])
def test_patient_cannot_self_report_other_instruments(client_for, patient_user, patient, code):
    client = client_for(patient_user)

    assert client.get(self_report_url(code)).status_code == 404
    assert client.post(self_report_url(code), {"item_1": "1"}).status_code == 404
    assert not InstrumentResponse.objects.exists()


def test_portal_account_without_a_patient_record_gets_404(client_for, other_patient_user):
    assert client_for(other_patient_user).get(self_report_url("phq9")).status_code == 404


def test_staff_do_not_use_the_patient_questionnaire_page(client_for, front_desk):
    assert client_for(front_desk).get(self_report_url("phq9")).status_code == 403


# ---- Access: another clinician and patients -----------------------------------------------------------------------

STAFF_SCREENING_PAGES = [
    ("get", "screening:detail", {}),
    ("get", "screening:instrument", {"code": "phq9"}),
    ("post", "screening:instrument", {"code": "phq9"}),
    ("get", "screening:medical", {}),
    ("post", "screening:medical", {}),
    ("post", "screening:complete", {}),
    ("post", "screening:sign_off", {}),
]


def _request(client, method, url):
    if method == "get":
        return client.get(url)
    data = {"action": "complete", "final_outcome": "ineligible", "note": "Not mine to decide.", "item_9": "3"}
    return client.post(url, data)


@pytest.mark.parametrize(("method", "url_name", "extra"), STAFF_SCREENING_PAGES)
def test_another_clinician_gets_404_for_a_screening_of_a_patient_not_in_their_care(
    client_for, other_clinician, front_desk, patient, method, url_name, extra
):
    screening = fill_screening(patient, front_desk, complete=url_name == "screening:sign_off")

    response = _request(client_for(other_clinician), method, reverse(url_name, kwargs={"pk": screening.pk, **extra}))

    assert response.status_code == 404
    assert patient.family_name not in response.content.decode()
    assert patient.mrn not in response.content.decode()
    screening.refresh_from_db()
    assert screening.status in ("draft", "completed")
    assert not SuicideRiskAlert.objects.exists()


def test_another_clinician_gets_404_for_an_alert_of_a_patient_not_in_their_care(
    client_for, other_clinician, front_desk, patient, screening
):
    alert = raise_phq9_alert(screening, front_desk)
    client = client_for(other_clinician)
    url = reverse("screening:alert_clear", kwargs={"pk": alert.pk})

    assert client.get(url).status_code == 404
    assert client.post(url, {"note": "Cleared by someone who never saw the patient."}).status_code == 404
    alert.refresh_from_db()
    assert alert.status == SuicideRiskAlert.Status.OPEN


def test_another_clinician_cannot_start_a_screening_for_a_patient_not_in_their_care(
    client_for, other_clinician, patient
):
    response = client_for(other_clinician).post(reverse("screening:start", kwargs={"patient_pk": patient.pk}))

    assert response.status_code == 404
    assert not Screening.objects.exists()


@pytest.mark.parametrize(("method", "url_name", "extra"), STAFF_SCREENING_PAGES)
def test_a_patient_cannot_open_staff_screening_pages_even_for_their_own_screening(
    client_for, patient_user, front_desk, patient, method, url_name, extra
):
    screening = fill_screening(patient, front_desk, complete=url_name == "screening:sign_off")

    response = _request(client_for(patient_user), method, reverse(url_name, kwargs={"pk": screening.pk, **extra}))

    assert response.status_code in (403, 404)
    screening.refresh_from_db()
    assert screening.status in ("draft", "completed")
    assert not SuicideRiskAlert.objects.exists()


def test_a_patient_cannot_open_alerts_or_start_screenings(client_for, patient_user, front_desk, patient, screening):
    alert = raise_phq9_alert(screening, front_desk)
    client = client_for(patient_user)

    assert client.get(reverse("screening:alert_clear", kwargs={"pk": alert.pk})).status_code in (403, 404)
    assert client.post(reverse("screening:start", kwargs={"patient_pk": patient.pk})).status_code in (403, 404)


def test_the_clinician_in_charge_opens_every_page_of_their_patients_screening(
    client_for, clinician, front_desk, patient, screening
):
    alert = raise_phq9_alert(screening, front_desk)
    client = client_for(clinician)

    for url in (
        detail_url(screening),
        instrument_url(screening, "phq9"),
        reverse("screening:medical", kwargs={"pk": screening.pk}),
        reverse("screening:alert_clear", kwargs={"pk": alert.pk}),
    ):
        assert client.get(url).status_code == 200, url


# ---- Query counts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 20])
def test_screening_detail_page_keeps_a_constant_number_of_queries(
    client_for, front_desk, clinician, patient, django_assert_max_num_queries, n
):
    screening = services.screening_start(patient=patient, by=front_desk)
    for _ in range(n):
        alert = raise_phq9_alert(screening, front_desk)
        services.alert_clear(alert=alert, by=clinician, note="Reviewed with the patient today.")
    raise_phq9_alert(screening, front_desk)
    services.medical_save(
        screening=screening,
        by=front_desk,
        data={"bp_systolic": 120, "bp_diastolic": 80},
        medications_rows=[{"name": f"Xanax {i} mg"} for i in range(n)],
        diagnoses_rows=[{"icd10_code": "F33.2"} for _ in range(n)],
        complete=False,
    )
    client = client_for(clinician)

    # 19: the eligibility preview reads the diagnoses too (the indication rule).
    with django_assert_max_num_queries(19):
        response = client.get(detail_url(screening))

    assert response.status_code == 200


@pytest.mark.parametrize("n", [1, 20])
def test_clinician_home_keeps_a_constant_number_of_queries_as_alerts_grow(
    client_for, front_desk, clinician, django_assert_max_num_queries, n
):
    for i in range(n):
        person = patient_create(
            created_by=None,
            given_name="Test",
            family_name=f"Person{i}",
            date_of_birth=date(1985, 1, 1),
            primary_clinician=clinician,
        )
        fill_screening(person, front_desk)
        rescreen = services.screening_start(patient=person, by=front_desk)
        raise_phq9_alert(rescreen, front_desk)
    client = client_for(clinician)

    # The same bound for 1 and for 20 patients with alerts: 2 queries record who saw which patients, 3 give every row
    # its PHQ-9 response status.
    with django_assert_max_num_queries(24):
        response = client.get(reverse("homes:home"))

    assert response.status_code == 200
    assert response.content.decode().count("Moderate risk") == n


# ---- Medical history form -----------------------------------------------------------------------------------------


def test_medical_history_with_an_icd10_code_is_saved(client_for, front_desk, screening):
    response = client_for(front_desk).post(
        reverse("screening:medical", kwargs={"pk": screening.pk}), medical_post(diagnoses=["f33.2"])
    )

    assert response.status_code == 302
    assert list(Diagnosis.objects.filter(screening=screening).values_list("icd10_code", flat=True)) == ["F33.2"]
    history = MedicalHistory.objects.get(screening=screening)
    assert (history.bp_systolic, history.bp_diastolic, history.is_complete) == (120, 80, True)


def test_a_malformed_icd10_code_is_refused_and_everything_typed_is_kept(client_for, front_desk, screening):
    posted = medical_post(
        diagnoses=["33.2"],
        meds=[("Xanax 0.5 mg", "at night")],
        bp_systolic="132",
        bp_diastolic="84",
        notes="Seen with partner.",
        **{"ci-cond_cystitis": "yes"},
    )

    response = client_for(front_desk).post(reverse("screening:medical", kwargs={"pk": screening.pk}), posted)

    assert response.status_code == 400
    assert "Enter an ICD-10 code such as F33.2" in response.content.decode()
    state = form_state(response)
    assert state["dx-0-icd10_code"] == "33.2"
    assert (state["med-0-name"], state["med-0-dose"]) == ("Xanax 0.5 mg", "at night")
    assert (state["bp_systolic"], state["bp_diastolic"], state["weight_kg"]) == ("132", "84", "70.0")
    assert state["ci-cond_cystitis"] == "yes"
    assert state["notes"] == "Seen with partner."
    assert state["pregnant"] == "false"
    assert not MedicalHistory.objects.filter(screening=screening).exists()
    assert not screening.medications.exists()


def test_systolic_not_above_diastolic_is_refused(client_for, front_desk, screening):
    response = client_for(front_desk).post(
        reverse("screening:medical", kwargs={"pk": screening.pk}), medical_post(bp_systolic="80", bp_diastolic="90")
    )

    assert response.status_code == 400
    assert "Diastolic pressure must be lower than systolic." in response.content.decode()
    state = form_state(response)
    assert (state["bp_systolic"], state["bp_diastolic"]) == ("80", "90")
    assert not MedicalHistory.objects.exists()


def test_half_a_blood_pressure_is_refused(client_for, front_desk, screening):
    response = client_for(front_desk).post(
        reverse("screening:medical", kwargs={"pk": screening.pk}), medical_post(bp_diastolic="")
    )

    assert response.status_code == 400
    assert "Enter both blood pressure values." in response.content.decode()


def test_half_a_blood_pressure_is_kept_in_a_draft_and_flagged_incomplete(client_for, front_desk, screening):
    client = client_for(front_desk)

    response = client.post(
        reverse("screening:medical", kwargs={"pk": screening.pk}), medical_post(bp_diastolic="", action="draft")
    )

    assert response.status_code == 302
    history = MedicalHistory.objects.get(screening=screening)
    assert (history.bp_systolic, history.bp_diastolic, history.is_complete) == (120, None, False)
    detail = client.get(detail_url(screening)).content.decode()
    assert 'data-testid="bp-incomplete"' in detail
    assert "Medical history" in detail.split("Still to do:", 1)[1]


def test_a_benzodiazepine_entered_with_its_dose_is_classified_and_shown_in_the_provisional_decision(
    client_for, front_desk, screening
):
    client = client_for(front_desk)

    response = client.post(
        reverse("screening:medical", kwargs={"pk": screening.pk}),
        medical_post(meds=[("Xanax 0.5 mg", ""), ("Sertraline 100 mg", "")], action="draft"),
    )

    assert response.status_code == 302
    assert dict(screening.medications.values_list("name", "interaction_class")) == {
        "Xanax 0.5 mg": "benzodiazepine",
        "Sertraline 100 mg": "",
    }
    assert MedicalHistory.objects.get(screening=screening).is_complete is False
    body = client.get(detail_url(screening)).content.decode()
    assert "Provisional" in body
    assert "Current medications include a benzodiazepine." in body


def test_saved_medical_history_is_shown_again_for_editing(client_for, front_desk, screening):
    client = client_for(front_desk)
    url = reverse("screening:medical", kwargs={"pk": screening.pk})
    client.post(url, medical_post(meds=[("Lamictal", "100 mg")], diagnoses=["F33.2"], action="draft"))

    state = form_state(client.get(url))

    assert (state["bp_systolic"], state["bp_diastolic"]) == ("120", "80")
    assert (state["med-0-name"], state["dx-0-icd10_code"]) == ("Lamictal", "F33.2")


# ---- The contraindication checklist (issue item 13) ---------------------------------------------------------------


def test_the_checklist_stores_yes_no_and_unknown_and_an_unanswered_condition_reads_as_unknown(
    client_for, front_desk, screening
):
    """Issue item 13: each condition yes / no / unknown; unanswered is unknown and sends the screening to review."""
    posted = medical_post(diagnoses=["F33.2"], **{"ci-cond_cystitis": "yes", "ci-cond_bipolar_disorder": "unknown"})
    posted.update({f"ci-cond_{c.code}": "no" for c in CONDITIONS if c.code not in ("cystitis", "bipolar_disorder")})
    del posted["ci-cond_aortic_dissection"]

    response = client_for(front_desk).post(reverse("screening:medical", kwargs={"pk": screening.pk}), posted)

    assert response.status_code == 302
    history = MedicalHistory.objects.get(screening=screening)
    assert history.conditions == ["cystitis"]
    assert history.condition_answers["bipolar_disorder"] == "unknown"
    assert "aortic_dissection" not in history.condition_answers
    screening = Screening.objects.get(pk=screening.pk)
    reason = next(r for r in services.screening_preview(screening).reasons if r.code == "conditions_unknown")
    assert "Aortic dissection" in reason.text and "Bipolar disorder" in reason.text
    page = client_for(front_desk).get(reverse("screening:medical", kwargs={"pk": screening.pk})).content.decode()
    assert 'name="ci-cond_cystitis" value="yes" id="id_ci-cond_cystitis_0" aria-labelledby' in page
    labelled = 'aria-labelledby="id_ci-cond_cystitis_label id_ci-cond_cystitis_0_h" checked'
    assert f'value="yes" id="id_ci-cond_cystitis_0" {labelled}' in page


def test_none_of_these_with_a_condition_answered_yes_is_refused(client_for, front_desk, screening):
    posted = medical_post(**{"ci-no_conditions_attested": "on", "ci-cond_cystitis": "yes"})

    response = client_for(front_desk).post(reverse("screening:medical", kwargs={"pk": screening.pk}), posted)

    assert response.status_code == 400
    assert "cannot be ticked while a condition is answered yes or unknown" in response.content.decode()
    assert not MedicalHistory.objects.filter(screening=screening).exists()


def test_no_medications_with_a_medication_listed_is_refused(client_for, front_desk, screening):
    posted = medical_post(meds=[("Sertraline", "100 mg")], no_medications_attested="on")

    response = client_for(front_desk).post(reverse("screening:medical", kwargs={"pk": screening.pk}), posted)

    assert response.status_code == 400
    assert "takes no current medications" in response.content.decode()


def test_a_screening_saved_with_none_of_these_and_no_medications_is_eligible(client_for, front_desk, screening):
    """Issue items 13-14: the explicit attestations and a depressive-disorder diagnosis are what make eligible."""
    for code, answers in FINE_ANSWERS.items():
        services.response_save(screening=screening, code=code, answers=answers, complete=True, by=front_desk)
    posted = medical_post(diagnoses=["F33.2"], **{"ci-no_conditions_attested": "on"})

    response = client_for(front_desk).post(reverse("screening:medical", kwargs={"pk": screening.pk}), posted)

    assert response.status_code == 302
    assert services.screening_preview(Screening.objects.get(pk=screening.pk)).is_eligible
    history = MedicalHistory.objects.get(screening=screening)
    assert (history.no_conditions_attested, history.no_medications_attested) == (True, True)


def test_a_non_drinker_skips_audit_items_2_to_8_on_the_form(client_for, front_desk, screening):
    """WHO AUDIT manual (Babor et al. 2001): item 1 "Never" skips to items 9 and 10; items 2-8 are stored as not
    asked even if the form sent answers for them."""
    client = client_for(front_desk)
    page = client.get(instrument_url(screening, "audit")).content.decode()
    assert "(skip if item 1 is Never)" in page

    posted = {"action": "complete", "item_1": "0", "item_4": "0", "item_9": "2", "item_10": "0"}
    response = client.post(instrument_url(screening, "audit"), posted)

    assert response.status_code == 302
    saved = InstrumentResponse.objects.get(screening=screening, code="audit")
    assert saved.answers == [0, None, None, None, None, None, None, None, 2, 0]
    assert (saved.total, saved.band) == (2, "low_risk")


# ---- Words and read-only records ----------------------------------------------------------------------------------


def test_alert_review_page_shows_the_answers_that_raised_it_and_explains_review(
    client_for, clinician, front_desk, screening
):
    alert = raise_phq9_alert(screening, front_desk)

    body = client_for(clinician).get(reverse("screening:alert_clear", kwargs={"pk": alert.pk})).content.decode()

    assert "PHQ-9 answers" in body
    assert "PHQ9" not in body
    assert "item 9 · " in body  # the item that raised it, with the patient's answer
    assert "Several days" in body
    assert "clears the alert" in body


def test_clinician_home_explains_review_next_to_the_alert(client_for, clinician, front_desk, screening):
    raise_phq9_alert(screening, front_desk)

    body = client_for(clinician).get(reverse("homes:home")).content.decode()

    assert "PHQ-9 answer" in body
    assert 'data-testid="review-help"' in body


def test_a_signed_off_screening_reads_as_a_record_with_each_instruments_answers(
    client_for, clinician, front_desk, patient
):
    screening = fill_screening(patient, front_desk)
    services.screening_sign_off(screening=screening, by=clinician, final_outcome="eligible")
    client = client_for(clinician)

    detail = client.get(detail_url(screening)).content.decode()
    answers_url = reverse("screening:instrument", kwargs={"pk": screening.pk, "code": "cssrs"})
    page = client.get(answers_url)

    assert 'data-testid="read-only-note"' in detail
    assert answers_url in detail
    assert page.status_code == 200
    body = page.content.decode()
    assert "C-SSRS Screener answers" in body
    assert 'name="item_1"' not in body  # no form: the answers as they were given
    assert "item 1 · Wish to be dead" in body
    assert "Not asked" in body


def test_the_self_report_page_gives_the_patient_their_crisis_lines_not_the_staff_banner(
    client_for, patient_user, patient
):
    body = client_for(patient_user).get(self_report_url("phq9")).content.decode()

    assert 'data-testid="patient-crisis-resources"' in body
    assert "911" in body
    assert "Suicide risk.</strong>" not in body
    assert "If the patient is in immediate danger" not in body


def test_an_enrolled_patient_is_not_offered_the_intake_questionnaires(client_for, patient_user, patient):
    type(patient).objects.filter(pk=patient.pk).update(status=Status.ENROLLED)
    client = client_for(patient_user)

    home = client.get(reverse("homes:home")).content.decode()

    assert 'data-testid="intake-questionnaires"' not in home
    assert client.get(self_report_url("phq9")).status_code == 404
    with pytest.raises(ValidationError, match="intake questionnaires are closed"):
        patient.refresh_from_db()
        services.self_report_save(patient=patient, code="phq9", answers=[0] * 9, by=patient_user)


def test_a_referred_patient_is_offered_the_intake_questionnaires(client_for, patient_user, patient):
    home = client_for(patient_user).get(reverse("homes:home")).content.decode()

    assert 'data-testid="intake-questionnaires"' in home


def test_adding_a_medication_row_keeps_what_was_typed_and_saves_nothing(client_for, front_desk, screening):
    url = reverse("screening:medical", kwargs={"pk": screening.pk})
    data = medical_post(meds=[("sertraline", "100 mg daily"), ("lithium", "300 mg")], action="add_med")
    data.pop("no_medications_attested", None)
    data["notes"] = "Typed before adding a row"

    response = client_for(front_desk).post(url, data)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="med-TOTAL_FORMS" value="3"' in body
    assert 'name="med-2-name"' in body
    assert 'value="sertraline"' in body and 'value="100 mg daily"' in body
    assert "Typed before adding a row" in body
    assert "This field is required" not in body
    assert not MedicalHistory.objects.filter(screening=screening).exists()


def test_enter_in_a_text_box_saves_a_draft_rather_than_adding_a_row(client_for, front_desk, screening):
    """A browser submits a form on Enter with its first submit button: it must be the draft save."""
    body = client_for(front_desk).get(reverse("screening:medical", kwargs={"pk": screening.pk})).content.decode()
    marker = body.index('data-testid="enter-saves-draft"')
    form = body[body.rindex("<form", 0, marker) :]
    first_button = form[: form.index("</button>")]
    assert 'type="submit"' in first_button and 'value="draft"' in first_button
    assert form.index("enter-saves-draft") < form.index('value="add_med"')


def test_adding_a_diagnosis_row_saves_nothing(client_for, front_desk, screening):
    url = reverse("screening:medical", kwargs={"pk": screening.pk})

    response = client_for(front_desk).post(url, medical_post(diagnoses=["F33.1"], action="add_dx"))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="dx-TOTAL_FORMS" value="2"' in body
    assert 'value="F33.1"' in body
    assert not MedicalHistory.objects.filter(screening=screening).exists()
