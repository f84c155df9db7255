"""Aftercare services through the real database: booking rules, status changes, check-in series and answers, flags."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aftercare import services
from aftercare.models import CheckIn, CheckInResponse, IntegrationSession
from aftercare.tasks import checkins_close_overdue
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.notifications.models import StaffAlert
from sessions.models import TreatmentPlan
from sessions.scheduling import booking
from tests.aftercare.helpers import GAD7_CALM, PHQ9_CALM, book, local_at, open_checkin, phq9_total
from tests.reports.clinic import dosing, room
from tests.sessions.test_portal import book_plan

pytestmark = pytest.mark.django_db


# ---- Integration sessions -----------------------------------------------------------------------


def test_booking_an_integration_session(patient, clinician, front_desk):
    session = book(patient, clinician, by=front_desk)
    assert session.status == "scheduled"
    assert session.ends_at - session.starts_at == timedelta(minutes=50)
    assert session.created_by == front_desk


def test_clinician_cannot_be_double_booked_with_another_integration_session(patient, other_patient, clinician):
    book(patient, clinician, hour=11)
    with pytest.raises(ValidationError, match="clinician already has an integration session"):
        book(other_patient, clinician, hour=11, minute=30)


def test_back_to_back_sessions_are_fine(patient, other_patient, clinician):
    book(patient, clinician, hour=11, duration=60)
    assert book(other_patient, clinician, hour=12).pk


def test_patient_cannot_be_in_two_integration_sessions_at_once(patient, clinician, other_clinician):
    book(patient, clinician, hour=11)
    with pytest.raises(ValidationError, match="patient already has an integration session"):
        book(patient, other_clinician, hour=11, minute=20)


def test_clinician_cannot_be_booked_over_their_dosing_session(patient, other_patient, clinician):
    plan = book_plan(other_patient, clinician)
    dose = plan.sessions.order_by("starts_at").first()
    with pytest.raises(ValidationError, match="clinician already has a dosing session"):
        services.integration_session_book(
            patient=patient,
            clinician=clinician,
            modality="cbt",
            starts_at=dose.starts_at + timedelta(minutes=30),
            by=clinician,
        )


def test_patient_cannot_be_booked_over_their_own_dosing_session(patient, clinician, other_clinician):
    plan = book_plan(patient, clinician)
    dose = plan.sessions.order_by("starts_at").first()
    with pytest.raises(ValidationError, match="patient already has a dosing session"):
        services.integration_session_book(
            patient=patient, clinician=other_clinician, modality="cbt", starts_at=dose.starts_at, by=other_clinician
        )


@pytest.mark.parametrize("whose", ["clinician", "patient"])
def test_a_dosing_session_cannot_be_moved_onto_an_integration_session(
    patient, other_patient, clinician, whose, time_machine
):
    from sessions.scheduling.changes import session_reschedule

    # A Tuesday morning: the series starts on Wednesday, so the day after the first dose is a Thursday, an open day.
    time_machine.move_to(timezone.make_aware(datetime(2026, 12, 1, 8, 0)), tick=False)
    dose = book_plan(patient, clinician).sessions.order_by("starts_at").first()
    later = dose.starts_at + timedelta(days=1, hours=5)  # inside clinic hours, clear of the next dose
    if whose == "clinician":
        services.integration_session_book(
            patient=other_patient, clinician=clinician, modality="cbt", starts_at=later, by=clinician
        )
    else:
        other = User.objects.create_user(username="clin-x", password="x-Secret-123", role="clinician")
        services.integration_session_book(patient=patient, clinician=other, modality="cbt", starts_at=later, by=other)
    with pytest.raises(ValidationError, match=f"{whose} already has an integration session"):
        session_reschedule(session=dose, new_start=later, by=clinician)


def test_one_booking_core_knows_both_kinds_of_appointment():
    assert booking.busy_sources() == ("dosing session", "integration session")


def test_the_booking_core_names_every_clash_in_one_wording(patient, other_patient, clinician, other_clinician):
    """The clinician is dosing someone else and the patient is in an integration session: both clashes, one wording."""
    dose = book_plan(other_patient, clinician).sessions.order_by("starts_at").first()
    services.integration_session_book(
        patient=patient, clinician=other_clinician, modality="cbt", starts_at=dose.starts_at, by=other_clinician
    )
    when = timezone.localtime(dose.starts_at).strftime("%a %d %b %H:%M")
    clashes = booking.booking_conflicts(
        kind="integration session",
        pk=None,
        clinician=clinician,
        patient=patient,
        starts_at=dose.starts_at,
        ends_at=dose.starts_at + timedelta(minutes=50),
    )
    assert clashes == [
        f"The clinician already has a dosing session at {when}.",
        f"The patient already has an integration session at {when}.",
    ]


def test_a_cancelled_session_frees_its_time(patient, other_patient, clinician):
    first = book(patient, clinician)
    services.integration_session_cancel(integration_session=first, reason="Patient unwell", by=clinician)
    assert book(other_patient, clinician).pk


def test_booking_in_the_past_or_with_a_non_clinician_is_refused(patient, clinician, front_desk):
    with pytest.raises(ValidationError, match="already passed"):
        book(patient, clinician, days=-1)
    with pytest.raises(ValidationError, match="active clinician"):
        book(patient, front_desk)


def test_patients_cannot_book(patient, clinician, patient_user):
    with pytest.raises(PermissionDenied):
        book(patient, clinician, by=patient_user)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints exist on PostgreSQL only")
def test_database_refuses_overlap_the_service_did_not_see(patient, other_patient, clinician):
    book(patient, clinician, hour=11)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntegrationSession.objects.create(
            patient=other_patient, clinician=clinician, modality="cbt", starts_at=local_at(2, 11, 30)
        )


def test_reschedule_moves_a_scheduled_session_and_checks_the_new_time(patient, other_patient, clinician):
    session = book(patient, clinician, hour=11)
    book(other_patient, clinician, hour=14)
    moved = services.integration_session_reschedule(
        integration_session=session, starts_at=local_at(3, 10), by=clinician
    )
    assert moved.starts_at == local_at(3, 10)
    with pytest.raises(ValidationError, match="clinician already has"):
        services.integration_session_reschedule(integration_session=session, starts_at=local_at(2, 14), by=clinician)
    # Moving within its own old time is not a clash with itself.
    services.integration_session_reschedule(integration_session=session, starts_at=local_at(3, 10, 15), by=clinician)


def test_cancel_needs_a_reason(patient, clinician):
    session = book(patient, clinician)
    with pytest.raises(ValidationError, match="reason"):
        services.integration_session_cancel(integration_session=session, reason="  ", by=clinician)
    cancelled = services.integration_session_cancel(integration_session=session, reason="Holiday", by=clinician)
    assert (cancelled.status, cancelled.status_reason) == ("cancelled", "Holiday")
    with pytest.raises(ValidationError):
        services.integration_session_reschedule(integration_session=session, starts_at=local_at(5), by=clinician)


def _started(patient, clinician) -> IntegrationSession:
    return IntegrationSession.objects.create(
        patient=patient, clinician=clinician, modality="fap", starts_at=timezone.now() - timedelta(minutes=60)
    )


def test_complete_keeps_the_notes_and_only_clinicians_write_them(patient, clinician, other_clinician, front_desk):
    session = _started(patient, clinician)
    with pytest.raises(PermissionDenied):
        services.integration_session_complete(integration_session=session, notes="x", by=front_desk)
    with pytest.raises(PermissionDenied, match="who held the session"):
        services.integration_session_complete(integration_session=session, notes="x", by=other_clinician)
    with pytest.raises(ValidationError, match="notes"):
        services.integration_session_complete(integration_session=session, notes="", by=clinician)
    done = services.integration_session_complete(integration_session=session, notes="Worked on values.", by=clinician)
    assert (done.status, done.notes) == ("completed", "Worked on values.")


def test_no_show_and_complete_wait_for_the_start(patient, clinician):
    future = book(patient, clinician)
    with pytest.raises(ValidationError, match="before it starts"):
        services.integration_session_no_show(integration_session=future, by=clinician)
    with pytest.raises(ValidationError, match="before it starts"):
        services.integration_session_complete(integration_session=future, notes="Too early", by=clinician)
    started = _started(patient, clinician)
    assert services.integration_session_no_show(integration_session=started, by=clinician).status == "no_show"


# ---- Check-in series ----------------------------------------------------------------------------


def test_series_follows_the_cadence_in_clinic_time(patient, clinician):
    ended = timezone.localdate()
    created = services.checkin_series_create(patient=patient, by=clinician, induction_ended_on=ended)
    assert len(created) == 11
    first = created[0]
    opens = timezone.localtime(first.opens_at)
    assert (opens.date(), opens.hour, opens.minute) == (ended + timedelta(days=7), 9, 0)
    assert timezone.localtime(first.due_at).date() == ended + timedelta(days=10)
    assert timezone.localtime(first.closes_at).date() == ended + timedelta(days=17)
    assert timezone.localtime(first.closes_at).hour == 9
    assert all(checkin.instruments == ["phq9", "gad7"] for checkin in created)


def test_series_skips_closed_days_and_creating_it_twice_adds_nothing(patient, clinician):
    ended = timezone.localdate() - timedelta(days=30)
    created = services.checkin_series_create(patient=patient, by=clinician, induction_ended_on=ended)
    assert all(checkin.closes_at > timezone.now() for checkin in created)
    assert len(created) < 11
    with pytest.raises(ValidationError, match="No new check-ins"):
        services.checkin_series_create(patient=patient, by=clinician, induction_ended_on=ended)


def test_series_refuses_unknown_instruments(patient, clinician):
    with pytest.raises(ValidationError):
        services.checkin_series_create(
            patient=patient, by=clinician, induction_ended_on=date.today(), instrument_codes=["cssrs"]
        )


def test_cancel_one_and_cancel_the_rest(patient, clinician):
    created = services.checkin_series_create(patient=patient, by=clinician, induction_ended_on=timezone.localdate())
    services.checkin_cancel(checkin=created[0], by=clinician)
    with pytest.raises(ValidationError):
        services.checkin_cancel(checkin=created[0], by=clinician)
    cancelled = services.checkin_series_cancel(patient=patient, by=clinician)
    assert len(cancelled) == len(created) - 1
    assert set(CheckIn.objects.filter(patient=patient).values_list("status", flat=True)) == {"cancelled"}


# ---- Answers ------------------------------------------------------------------------------------


def test_submit_scores_each_instrument_and_completes(patient, patient_user):
    checkin = open_checkin(patient)
    services.checkin_submit(checkin=checkin, answers={"phq9": PHQ9_CALM, "gad7": GAD7_CALM}, by=patient_user)
    checkin.refresh_from_db()
    assert checkin.status == "completed" and checkin.completed_at is not None
    scores = {r.code: (r.total, r.band) for r in checkin.responses.all()}
    assert scores == {"phq9": (3, "minimal"), "gad7": (2, "minimal")}
    assert not StaffAlert.objects.exists()


def test_a_completed_checkin_cannot_be_filled_again(patient, patient_user):
    checkin = open_checkin(patient)
    answers = {"phq9": PHQ9_CALM, "gad7": GAD7_CALM}
    services.checkin_submit(checkin=checkin, answers=answers, by=patient_user)
    with pytest.raises(ValidationError, match="cannot be filled again"):
        services.checkin_submit(checkin=checkin, answers=answers, by=patient_user)
    assert CheckInResponse.objects.count() == 2


def test_submit_refuses_closed_unopened_incomplete_and_others(patient, patient_user, other_patient_user):
    answers = {"phq9": PHQ9_CALM, "gad7": GAD7_CALM}
    closed = open_checkin(patient, opened_ago=timedelta(days=11))
    with pytest.raises(ValidationError, match="closed"):
        services.checkin_submit(checkin=closed, answers=answers, by=patient_user)
    later = open_checkin(patient, opened_ago=-timedelta(days=1))
    with pytest.raises(ValidationError, match="not open yet"):
        services.checkin_submit(checkin=later, answers=answers, by=patient_user)
    now_open = open_checkin(patient, opened_ago=timedelta(hours=2))
    with pytest.raises(ValidationError, match="GAD-7"):
        services.checkin_submit(checkin=now_open, answers={"phq9": PHQ9_CALM}, by=patient_user)
    with pytest.raises(ValidationError, match="item 9"):
        services.checkin_submit(
            checkin=now_open, answers={"phq9": PHQ9_CALM[:8] + [None], "gad7": GAD7_CALM}, by=patient_user
        )
    with pytest.raises(PermissionDenied):
        services.checkin_submit(checkin=now_open, answers=answers, by=other_patient_user)
    assert not CheckInResponse.objects.exists()


def test_item_nine_raises_an_urgent_suicide_risk_alert(patient, patient_user):
    checkin = open_checkin(patient)
    services.checkin_submit(
        checkin=checkin, answers={"phq9": phq9_total(4, item9=1), "gad7": GAD7_CALM}, by=patient_user
    )
    alert = StaffAlert.objects.get()
    assert (alert.kind, alert.urgent, alert.patient) == ("suicide_risk", True, patient)
    assert patient.family_name not in alert.summary and patient.given_name not in alert.summary
    assert alert.link.endswith(f"/aftercare/patient/{patient.pk}/")


def _answer(patient, patient_user, total, *, ago_hours):
    checkin = open_checkin(patient, opened_ago=timedelta(hours=ago_hours), instruments=["phq9"])
    services.checkin_submit(checkin=checkin, answers={"phq9": phq9_total(total)}, by=patient_user)
    CheckIn.objects.filter(pk=checkin.pk).update(completed_at=timezone.now() - timedelta(hours=ago_hours - 1))
    return checkin


def test_a_rise_of_five_from_the_lowest_score_raises_a_relapse_warning(patient, patient_user):
    _answer(patient, patient_user, 12, ago_hours=50)
    _answer(patient, patient_user, 6, ago_hours=40)
    _answer(patient, patient_user, 10, ago_hours=30)
    assert not StaffAlert.objects.exists()
    last = _answer(patient, patient_user, 11, ago_hours=20)
    alert = StaffAlert.objects.get()
    assert (alert.kind, alert.urgent, alert.key) == ("relapse", False, f"checkin-{last.pk}-relapse")
    assert "6 to 11" in alert.summary


def _dosing_began(patient, clinician, *, ago_hours):
    plan = book_plan(patient, clinician)
    first = plan.sessions.order_by("starts_at").first()
    type(first).objects.filter(pk=first.pk).update(
        starts_at=timezone.now() - timedelta(hours=ago_hours), ends_at=timezone.now() - timedelta(hours=ago_hours - 2)
    )
    return plan


def test_a_score_before_the_first_dose_is_the_baseline_not_the_nadir(patient, clinician, patient_user):
    """docs/clinical-references.md#outcomes: the pre-treatment PHQ-9 is the episode's baseline. Rising 5 or more above
    it warns (Löwe 2004: 5 points is the minimal clinically important difference); the nadir counts only scores since
    dosing began."""
    _answer(patient, patient_user, 2, ago_hours=50)  # before dosing began
    _dosing_began(patient, clinician, ago_hours=45)
    first = _answer(patient, patient_user, 6, ago_hours=40)
    assert not StaffAlert.objects.filter(kind="relapse").exists()
    second = _answer(patient, patient_user, 8, ago_hours=30)
    alert = StaffAlert.objects.get(kind="relapse")
    assert alert.key == f"checkin-{second.pk}-relapse" != f"checkin-{first.pk}-relapse"
    assert alert.summary == "Relapse warning on a check-in: PHQ-9 8 is 6 points above the pre-treatment baseline of 2."


def test_a_patient_who_stays_at_22_to_24_is_flagged_as_not_responding(patient, clinician, patient_user):
    """Issue item 16: response needs a 50% drop from the pre-treatment baseline (docs/clinical-references.md#outcomes,
    #clinical-review); a patient who stays near the baseline never rises 5 from the nadir, so before the baseline rule
    # nothing fired."""
    _answer(patient, patient_user, 23, ago_hours=60)  # baseline
    _dosing_began(patient, clinician, ago_hours=55)
    _answer(patient, patient_user, 22, ago_hours=50)
    assert not StaffAlert.objects.filter(kind="relapse").exists()  # one score after dosing: too early to say
    last = _answer(patient, patient_user, 24, ago_hours=40)
    alert = StaffAlert.objects.get(kind="relapse")
    assert alert.key == f"checkin-{last.pk}-relapse"
    assert "Not responding: PHQ-9 24 after 2 scores since dosing began" in alert.summary
    assert "baseline of 23" in alert.summary


def test_a_response_from_the_baseline_raises_no_warning(patient, clinician, patient_user):
    _answer(patient, patient_user, 22, ago_hours=60)
    _dosing_began(patient, clinician, ago_hours=55)
    _answer(patient, patient_user, 14, ago_hours=50)
    _answer(patient, patient_user, 11, ago_hours=40)  # exactly 50% below 22: a response
    assert not StaffAlert.objects.filter(kind="relapse").exists()


def test_a_new_series_booked_ahead_does_not_silence_the_relapse_warning(patient, clinician, patient_user):
    """Between one series and the next one booked ahead, a check-in is still read against the series that has
    begun: a rise from remission warns."""
    _answer(patient, patient_user, 20, ago_hours=100)  # baseline
    first_series = _dosing_began(patient, clinician, ago_hours=95)
    _answer(patient, patient_user, 4, ago_hours=80)  # remission
    next_series = TreatmentPlan.objects.create(
        patient=patient,
        enrollment=first_series.enrollment,
        protocol=first_series.protocol,
        planned_dose=first_series.planned_dose,
        first_day=timezone.localdate() + timedelta(days=60),
        created_by=clinician,
    )
    dosing(next_series, local_at(60), status="scheduled", chair=room("Room N"))
    last = _answer(patient, patient_user, 15, ago_hours=10)
    alert = StaffAlert.objects.get(kind="relapse")
    assert alert.key == f"checkin-{last.pk}-relapse"
    assert "4 to 15" in alert.summary


# ---- Missed check-ins ---------------------------------------------------------------------------


def test_overdue_sweep_marks_missed_once_and_alerts_once(patient):
    overdue = open_checkin(patient, opened_ago=timedelta(days=11))
    still_open = open_checkin(patient, opened_ago=timedelta(days=4))
    assert checkins_close_overdue.delay().get() == 1
    assert checkins_close_overdue.delay().get() == 0
    overdue.refresh_from_db()
    still_open.refresh_from_db()
    assert (overdue.status, still_open.status) == ("missed", "open")
    alert = StaffAlert.objects.get()
    assert (alert.kind, alert.urgent, alert.key) == ("checkin_missed", False, f"checkin-{overdue.pk}-missed")
    assert services.checkin_mark_missed(checkin_id=overdue.pk) is None


def test_a_check_in_pcl5_is_banded_at_the_clinics_cut_off(patient, patient_user):
    """Issue item 18; docs/clinical-references.md#instruments: the PCL-5 provisional PTSD cut-off (31-33, older 38) is a
    clinic setting."""
    from kap_clinic.kernel.clinic.models import ClinicSettings

    settings = ClinicSettings.load()
    settings.pcl5_cutoff = 31
    settings.save()
    checkin = open_checkin(patient, instruments=["pcl5"])

    services.checkin_submit(checkin=checkin, answers={"pcl5": [4] * 7 + [3] + [0] * 12}, by=patient_user)

    response = CheckInResponse.objects.get(checkin=checkin)
    assert (response.total, response.band) == (31, "probable_ptsd")
