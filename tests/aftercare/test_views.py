"""Aftercare pages: staff chart page and forms, the patient's portal check-ins and schedule, home pages, access."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aftercare import services
from aftercare.models import CheckIn, IntegrationSession
from kap_clinic.kernel.notifications.models import StaffAlert
from screening.models import SuicideRiskAlert
from screening.services import response_save, screening_start
from tests.aftercare.helpers import GAD7_CALM, PHQ9_CALM, book, open_checkin
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _fill_data(phq9, gad7=None):
    data = {f"phq9-item_{n}": str(v) for n, v in enumerate(phq9, start=1) if v is not None}
    if gad7 is not None:
        data.update({f"gad7-item_{n}": str(v) for n, v in enumerate(gad7, start=1) if v is not None})
    return data


# ---- Staff page ---------------------------------------------------------------------------------


def test_staff_page_shows_sessions_notes_checkins_and_the_trend(client_for, clinician, patient, patient_user):
    session = book(patient, clinician)
    IntegrationSession.objects.create(
        patient=patient,
        clinician=clinician,
        modality="cbt",
        starts_at=timezone.now() - timedelta(days=3),
        status="completed",
        notes="Discussed the insight from session 2.",
    )
    checkin = open_checkin(patient)
    services.checkin_submit(checkin=checkin, answers={"phq9": PHQ9_CALM, "gad7": GAD7_CALM}, by=patient_user)
    screening = screening_start(patient=patient, by=clinician)
    response_save(screening=screening, code="phq9", answers=[2] * 9, complete=True, by=clinician)

    response = client_for(clinician).get(reverse("aftercare:patient", kwargs={"patient_pk": patient.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Discussed the insight from session 2." in html
    assert reverse("aftercare:integration_reschedule", kwargs={"pk": session.pk}) in html
    assert reverse("aftercare:checkin_detail", kwargs={"pk": checkin.pk}) in html
    chart = json.loads(html.split('id="outcome-chart-data" type="application/json">')[1].split("</script>")[0])
    assert sorted(v for v in chart["series"]["phq9"] if v is not None) == [3, 18]
    assert [v for v in chart["series"]["gad7"] if v is not None] == [2]
    assert "js/outcome_chart.js" in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "<script>" not in html  # the CSP forbids inline scripts


def test_integration_notes_are_read_by_clinicians_only(client_for, clinician, front_desk, admin_user, patient):
    """Least privilege: psychotherapy (integration) notes are for clinicians; intake staff and admins still see the
    sessions themselves, to book and move them, but neither the notes nor the place they would be."""
    IntegrationSession.objects.create(
        patient=patient,
        clinician=clinician,
        modality="cbt",
        starts_at=timezone.now() - timedelta(days=3),
        status="completed",
        notes="Talked through the grief for her brother.",
    )
    url = reverse("aftercare:patient", kwargs={"patient_pk": patient.pk})

    page = client_for(clinician).get(url).content.decode()
    assert "Talked through the grief" in page and 'data-testid="integration-notes"' in page
    for reader in (front_desk, admin_user):
        page = client_for(reader).get(url).content.decode()
        assert 'data-testid="integration-sessions"' in page
        assert "Talked through the grief" not in page and "Notes (clinicians only)" not in page


def test_the_audit_log_records_a_change_to_integration_notes_without_their_text(client_for, clinician, patient):
    from auditlog.models import LogEntry

    started = IntegrationSession.objects.create(
        patient=patient, clinician=clinician, modality="cbt", starts_at=timezone.now() - timedelta(hours=1)
    )
    url = reverse("aftercare:integration_complete", kwargs={"pk": started.pk})
    assert client_for(clinician).post(url, {"notes": "Talked through the grief for her brother."}).status_code == 302

    entry = LogEntry.objects.filter(object_pk=str(started.pk), action=LogEntry.Action.UPDATE).latest("pk")
    assert entry.changes_dict["notes"] == ["", "(withheld: clinicians only)"]
    assert "grief" not in json.dumps(list(LogEntry.objects.values_list("changes", flat=True)), default=str)


def test_patient_chart_links_to_aftercare_for_staff_only(client_for, clinician, patient, patient_user):
    url = reverse("aftercare:patient", kwargs={"patient_pk": patient.pk})
    detail = reverse("homes:patient_chart", kwargs={"pk": patient.pk})
    assert url in client_for(clinician).get(detail).content.decode()
    assert url not in client_for(patient_user).get(detail).content.decode()


def test_another_clinicians_patient_is_not_found(client_for, other_clinician, patient, clinician):
    session = book(patient, clinician)
    checkin = open_checkin(patient)
    client = client_for(other_clinician)
    for name, kwargs in [
        ("aftercare:patient", {"patient_pk": patient.pk}),
        ("aftercare:integration_book", {"patient_pk": patient.pk}),
        ("aftercare:integration_reschedule", {"pk": session.pk}),
        ("aftercare:integration_cancel", {"pk": session.pk}),
        ("aftercare:integration_complete", {"pk": session.pk}),
        ("aftercare:checkin_series_create", {"patient_pk": patient.pk}),
        ("aftercare:checkin_detail", {"pk": checkin.pk}),
    ]:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    for name, kwargs in [
        ("aftercare:integration_no_show", {"pk": session.pk}),
        ("aftercare:checkin_cancel", {"pk": checkin.pk}),
        ("aftercare:checkin_series_cancel", {"patient_pk": patient.pk}),
    ]:
        assert client.post(reverse(name, kwargs=kwargs)).status_code == 404, name
    assert CheckIn.objects.get().status == "open"


def test_booking_form_books_and_its_errors_keep_the_input(client_for, clinician, patient, other_patient):
    client = client_for(clinician)
    url = reverse("aftercare:integration_book", kwargs={"patient_pk": patient.pk})
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    data = {"clinician": clinician.pk, "modality": "mbct", "day": day, "start_time": "11:00", "duration_minutes": 50}
    response = client.post(url, data)
    assert response.status_code == 302
    session = IntegrationSession.objects.get()
    assert timezone.localtime(session.starts_at).hour == 11

    clash = client.post(
        reverse("aftercare:integration_book", kwargs={"patient_pk": other_patient.pk}),
        {**data, "start_time": "11:30", "duration_minutes": 45},
    )
    # other_patient is another clinician's: this clinician may not book for them at all.
    assert clash.status_code == 404

    unassigned = make_user("clinician3", "clinician")
    again = client_for(unassigned).post(url, {**data, "start_time": "11:30", "duration_minutes": 45})
    assert again.status_code == 404  # patient is clinician1's

    clash = client_for(clinician).post(url, {**data, "start_time": "11:30", "duration_minutes": 45})
    assert clash.status_code == 400
    html = clash.content.decode()
    assert "already has an integration session" in html
    assert 'value="11:30"' in html and 'value="45"' in html and f'value="{day}"' in html


def test_cancel_form_requires_a_reason_and_complete_keeps_notes(client_for, clinician, patient):
    session = book(patient, clinician)
    client = client_for(clinician)
    url = reverse("aftercare:integration_cancel", kwargs={"pk": session.pk})
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Clinician ill"}).status_code == 302
    session.refresh_from_db()
    assert (session.status, session.status_reason) == ("cancelled", "Clinician ill")

    started = IntegrationSession.objects.create(
        patient=patient, clinician=clinician, modality="cbt", starts_at=timezone.now() - timedelta(hours=1)
    )
    url = reverse("aftercare:integration_complete", kwargs={"pk": started.pk})
    assert client.post(url, {"notes": "Grounding practice; plan next steps."}).status_code == 302
    started.refresh_from_db()
    assert started.status == "completed" and started.notes.startswith("Grounding")


def test_series_form_plans_checkins(client_for, clinician, patient):
    client = client_for(clinician)
    url = reverse("aftercare:checkin_series_create", kwargs={"patient_pk": patient.pk})
    form = client.get(url)
    assert timezone.localdate().isoformat() in form.content.decode()  # no dose yet: counts from today
    data = {
        "induction_ended_on": timezone.localdate().isoformat(),
        "instrument_codes": ["phq9", "gad7"],
        "weekly": 4,
        "later_every_weeks": 3,
        "horizon_weeks": 12,
    }
    assert client.post(url, data).status_code == 302
    assert CheckIn.objects.filter(patient=patient).count() == 6  # weeks 1, 2, 3, 4, 7, 10
    bad = client.post(url, {**data, "later_every_weeks": 0})
    assert bad.status_code == 400


# ---- Patient portal -----------------------------------------------------------------------------


def test_patient_sees_due_checkins_on_home_and_list(client_for, patient_user, patient):
    checkin = open_checkin(patient)
    later = open_checkin(patient, opened_ago=-timedelta(days=2))
    client = client_for(patient_user)
    fill = reverse("aftercare:portal_checkin_fill", kwargs={"pk": checkin.pk})
    for page in (reverse("homes:home"), reverse("aftercare:portal_checkins")):
        html = client.get(page).content.decode()
        assert fill in html
        assert reverse("aftercare:portal_checkin_fill", kwargs={"pk": later.pk}) not in html


def test_patient_fills_a_checkin(client_for, patient_user, patient):
    checkin = open_checkin(patient)
    client = client_for(patient_user)
    url = reverse("aftercare:portal_checkin_fill", kwargs={"pk": checkin.pk})
    page = client.get(url).content.decode()
    assert "Little interest or pleasure in doing things" in page
    response = client.post(url, _fill_data(PHQ9_CALM, GAD7_CALM))
    assert response.status_code == 302
    checkin.refresh_from_db()
    assert checkin.status == "completed"


def test_missing_answers_keep_what_was_typed(client_for, patient_user, patient):
    checkin = open_checkin(patient)
    client = client_for(patient_user)
    url = reverse("aftercare:portal_checkin_fill", kwargs={"pk": checkin.pk})
    response = client.post(url, _fill_data([2, 1, 3, 0, 1, 2, 0, 1, None], GAD7_CALM))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please choose an answer." in html
    assert "Some questions have no answer yet" in html
    assert html.count("checked") == 8 + 7
    assert 'name="phq9-item_3" value="3" class="form-check-input" id="id_phq9-item_3_3" checked' in html
    checkin.refresh_from_db()
    assert checkin.status == "open"


def test_thoughts_of_self_harm_alert_at_once_even_when_other_questions_are_left_blank(
    client_for, patient_user, patient, clinician
):
    """PHQ-9 item 9 above 0 means urgent clinician review (docs/clinical-references.md#instruments): the answer reaches
    the care team as soon as the patient sends it, as in a screening draft, even if a question is still unanswered and
    the patient never comes back to finish."""
    checkin = open_checkin(patient)
    client = client_for(patient_user)
    url = reverse("aftercare:portal_checkin_fill", kwargs={"pk": checkin.pk})
    response = client.post(url, _fill_data([0, 1, 0, 1, 0, 0, 1, 0, 2], [1, 0, None, 1, 0, 0, 0]))
    assert response.status_code == 400
    alert = SuicideRiskAlert.objects.get(patient=patient)
    assert (alert.status, alert.source, alert.source_ref) == ("open", "checkin", f"checkin-{checkin.pk}")
    assert StaffAlert.objects.filter(kind="suicide_risk", patient=patient, urgent=True).count() == 1
    assert client_for(clinician).get(reverse("screening:alert_clear", args=[alert.pk])).status_code == 200
    client = client_for(patient_user)

    # Sending the finished check-in later does not alert a second time for the same answer.
    assert client.post(url, _fill_data([0, 1, 0, 1, 0, 0, 1, 0, 2], GAD7_CALM)).status_code == 302
    assert SuicideRiskAlert.objects.filter(patient=patient).count() == 1
    assert StaffAlert.objects.filter(kind="suicide_risk", patient=patient).count() == 1


def test_a_blank_check_in_sent_by_mistake_raises_no_alert(client_for, patient_user, patient):
    checkin = open_checkin(patient)
    client = client_for(patient_user)
    url = reverse("aftercare:portal_checkin_fill", kwargs={"pk": checkin.pk})
    assert client.post(url, _fill_data([0, 1, 0, None, 0, 0, 1, 0, 0])).status_code == 400
    assert not SuicideRiskAlert.objects.exists()


def test_a_completed_or_closed_checkin_cannot_be_refilled(client_for, patient_user, patient):
    checkin = open_checkin(patient)
    client = client_for(patient_user)
    url = reverse("aftercare:portal_checkin_fill", kwargs={"pk": checkin.pk})
    client.post(url, _fill_data(PHQ9_CALM, GAD7_CALM))
    again = client.post(url, _fill_data([3] * 9, [3] * 7))
    assert again.status_code == 409
    assert "cannot be filled in again" in again.content.decode()
    assert sorted(checkin.responses.values_list("total", flat=True)) == [2, 3]

    closed = open_checkin(patient, opened_ago=timedelta(days=11))
    response = client.get(reverse("aftercare:portal_checkin_fill", kwargs={"pk": closed.pk}))
    assert "has closed" in response.content.decode()
    assert client.post(reverse("aftercare:portal_checkin_fill", kwargs={"pk": closed.pk})).status_code == 409


def test_another_patients_checkin_is_not_found(client_for, patient_user, other_patient):
    theirs = open_checkin(other_patient)
    client = client_for(patient_user)
    url = reverse("aftercare:portal_checkin_fill", kwargs={"pk": theirs.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, _fill_data(PHQ9_CALM, GAD7_CALM)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "open"


def test_portal_schedule_shows_integration_sessions_without_notes(client_for, patient_user, patient, clinician):
    book(patient, clinician)
    IntegrationSession.objects.filter(patient=patient).update(notes="Staff-only reflection text.")
    html = client_for(patient_user).get(reverse("homes:portal_schedule")).content.decode()
    block = html.split('data-testid="integration-sessions"')[1].split("</ul>")[0]
    assert "Mindfulness-based cognitive therapy" in block
    assert "Staff-only reflection text." not in html


# ---- Home pages and query counts ----------------------------------------------------------------


def test_clinician_home_lists_overdue_checkins_of_their_patients_only(client_for, clinician, patient, other_patient):
    mine = open_checkin(patient, opened_ago=timedelta(days=5))
    open_checkin(other_patient, opened_ago=timedelta(days=5))
    open_checkin(patient, opened_ago=timedelta(hours=1), opens_at=timezone.now() - timedelta(hours=2))  # not yet due
    html = client_for(clinician).get(reverse("homes:home")).content.decode()
    block = html.split('data-testid="overdue-checkins"')[1].split("</ul>")[0]
    assert block.count("<li") == 1
    assert patient.mrn in block and other_patient.mrn not in block
    assert mine.due_at < timezone.now()


def _many_patients(clinician, n):
    from patients.services import patient_create

    for i in range(n):
        p = patient_create(
            created_by=None,
            given_name=f"P{i}",
            family_name=f"Many{i}",
            date_of_birth="1990-01-01",
            primary_clinician=clinician,
        )
        open_checkin(p, opened_ago=timedelta(days=5))


def test_clinician_home_queries_do_not_grow_with_overdue_checkins(client_for, clinician, django_assert_max_num_queries):
    client = client_for(clinician)
    _many_patients(clinician, 2)
    client.get(reverse("homes:home"))
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("homes:home"))
    _many_patients(clinician, 15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("homes:home"))


def test_staff_page_queries_do_not_grow_with_data(
    client_for, clinician, patient, patient_user, django_assert_max_num_queries
):
    client = client_for(clinician)
    url = reverse("aftercare:patient", kwargs={"patient_pk": patient.pk})

    def add(days_back):
        now = timezone.now()
        checkin = open_checkin(
            patient, opened_ago=timedelta(days=days_back, hours=1), due_at=now, closes_at=now + timedelta(days=1)
        )
        services.checkin_submit(checkin=checkin, answers={"phq9": PHQ9_CALM, "gad7": GAD7_CALM}, by=patient_user)
        IntegrationSession.objects.create(
            patient=patient, clinician=clinician, modality="cbt", starts_at=timezone.now() - timedelta(days=days_back)
        )

    add(1)
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for n in range(2, 12):
        add(n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_portal_pages_queries_do_not_grow(client_for, patient_user, patient, clinician, django_assert_max_num_queries):
    client = client_for(patient_user)
    pages = [reverse("homes:home"), reverse("aftercare:portal_checkins"), reverse("homes:portal_schedule")]
    open_checkin(patient)
    book(patient, clinician, days=1)
    counts = {}
    for page in pages:
        client.get(page)
        with django_assert_max_num_queries(40) as few:
            client.get(page)
        counts[page] = len(few.captured_queries)
    for n in range(2, 8):
        open_checkin(patient, opened_ago=timedelta(hours=n))
        book(patient, clinician, days=n)
    for page in pages:
        with django_assert_max_num_queries(counts[page]):
            client.get(page)


def test_staff_page_shows_open_flags_next_to_a_booster_button(client_for, clinician, patient, patient_user):
    from tests.aftercare.helpers import phq9_total
    from tests.sessions.test_portal import book_plan

    plan = book_plan(patient, clinician)
    checkin = open_checkin(patient)
    services.checkin_submit(
        checkin=checkin, answers={"phq9": phq9_total(3, item9=1), "gad7": GAD7_CALM}, by=patient_user
    )
    url = reverse("aftercare:patient", kwargs={"patient_pk": patient.pk})
    booster = reverse("sessions:booster_book", kwargs={"pk": plan.pk})
    html = client_for(clinician).get(url).content.decode()
    flags = html.split('data-testid="flags"')[1].split("</section>")[0]
    assert "Suicide-risk flag" in flags
    assert booster not in flags  # still in induction: no booster offered yet

    plan.sessions.update(status="completed")  # test setup: the induction series attended
    flags = client_for(clinician).get(url).content.decode().split('data-testid="flags"')[1].split("</section>")[0]
    assert booster in flags


# ---- Baseline, response and remission (issue item 16) -------------------------------------------------------------


def _episode_with_scores(patient, clinician, patient_user, later_totals):
    """A pre-treatment PHQ-9 of 18 from the screening, dosing begun 45 hours ago, then one check-in per total."""
    from screening.models import InstrumentResponse
    from tests.aftercare.helpers import phq9_total
    from tests.sessions.test_portal import book_plan

    screening = screening_start(patient=patient, by=clinician)
    # Item 9 "not at all": a positive item 9 opens a suicide-risk alert, and enrollment is refused while it is open.
    response_save(screening=screening, code="phq9", answers=phq9_total(18), complete=True, by=clinician)
    InstrumentResponse.objects.filter(screening=screening).update(updated_at=timezone.now() - timedelta(hours=60))
    plan = book_plan(patient, clinician)
    first = plan.sessions.order_by("starts_at").first()
    type(first).objects.filter(pk=first.pk).update(
        starts_at=timezone.now() - timedelta(hours=45), ends_at=timezone.now() - timedelta(hours=43)
    )
    for hours, total in zip((40, 30, 20), later_totals, strict=False):
        checkin = open_checkin(patient, opened_ago=timedelta(hours=hours), instruments=["phq9"])
        services.checkin_submit(checkin=checkin, answers={"phq9": phq9_total(total)}, by=patient_user)
        CheckIn.objects.filter(pk=checkin.pk).update(completed_at=timezone.now() - timedelta(hours=hours - 1))


def test_trend_shows_the_baseline_and_each_later_scores_change_response_and_remission(
    client_for, clinician, patient, patient_user
):
    """docs/clinical-references.md#outcomes, #clinical-review: baseline = the pre-treatment PHQ-9; response = a drop
    of 50% or more; remission = below 5."""
    _episode_with_scores(patient, clinician, patient_user, [12, 8])

    html = client_for(clinician).get(reverse("aftercare:patient", kwargs={"patient_pk": patient.pk})).content.decode()

    assert "Baseline PHQ-9 <strong>18</strong>" in html
    assert "Latest 8: -10 points (-55%) from baseline 18: Response." in html
    assert "-6 points (-33%) from baseline 18: Not responding" in html  # the table row of the first check-in
    chart = json.loads(html.split('id="outcome-chart-data" type="application/json">')[1].split("</script>")[0])
    assert (chart["baseline"], chart["response_at"], chart["remission_below"]) == (18, 9.0, 5)


def test_clinician_home_shows_each_patients_response_status(client_for, clinician, patient, patient_user):
    _episode_with_scores(patient, clinician, patient_user, [17, 18])

    html = client_for(clinician).get(reverse("homes:home")).content.decode()

    cell = html.split('data-testid="patient-outcome">')[1].split("</td>")[0]
    assert "Not responding" in cell and "18 from 18 (+0%)" in cell


@pytest.mark.parametrize(
    ("day", "start_time"),
    [("2027-03-14", "02:30"), ("2027-11-07", "01:30")],  # skipped, then repeated, when New York's clocks change
)
def test_a_time_the_clock_change_skips_or_repeats_is_refused_with_what_was_typed(
    settings, time_machine, client_for, clinician, patient, day, start_time
):
    settings.TIME_ZONE = "America/New_York"
    time_machine.move_to(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    url = reverse("aftercare:integration_book", kwargs={"patient_pk": patient.pk})
    data = {"clinician": clinician.pk, "modality": "mbct", "day": day, "start_time": start_time, "duration_minutes": 50}
    response = client_for(clinician).post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "skipped or repeated when the clocks change" in html
    assert f'value="{start_time}"' in html and f'value="{day}"' in html
    assert not IntegrationSession.objects.exists()
