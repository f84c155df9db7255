"""What the pages that gather several apps show: each role's home, the staff chart and the patient's schedule."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from aftercare.models import CheckIn, IntegrationSession
from aftercare.selectors import (
    checkins_due,
    outcome_episodes,
    overdue_checkins_for_clinician,
    upcoming_integration_sessions,
)
from billing.coverage import coverage_of
from billing.models import PriorAuthorization
from billing.selectors import running_out
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.clinic.models import WorkerHeartbeat
from kap_clinic.kernel.labels import day_label
from kap_clinic.kernel.notifications.alerts import alerts_open_for
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.kernel.notifications.selectors import reminder_problems
from kap_clinic.kernel.outbox.selectors import outbox_problems
from kap_clinic.kernel.paging import TOTAL, Bounded, bounded, with_total
from patients.models import Patient
from patients.selectors import patient_of_portal_user, patients_visible_to
from screening.models import InstrumentResponse, Screening, SuicideRiskAlert
from screening.selectors import open_alerts_for, screenings_awaiting_sign_off, screenings_in_progress
from screening.services import SELF_REPORT_STATUSES, self_report_open
from sessions.calendar import portal_sessions
from sessions.consent.services import consent_statuses, patient_routes
from sessions.models import DosingSession, Enrollment
from sessions.scheduling.schedule import SCHEDULE_FIELDS, attendance_of
from sessions.selectors import todays_sessions, unconfirmed_tomorrow

# ---- Role homes ----------------------------------------------------------------------------------


# How many rows each list of a home page shows; the rest are counted and linked ("12 more").
HOME_LIST_LIMIT = 20
HOME_TODAY_LIMIT = 40


def _work(kind: str) -> str:
    return reverse("homes:work_list", kwargs={"kind": kind})


def _tomorrows_schedule() -> str:
    return f"{reverse('sessions:schedule')}?day={timezone.localdate() + timedelta(days=1):%Y-%m-%d}"


def clinician_home(user: User) -> dict:
    return {
        "alerts": bounded(open_alerts_for(user), HOME_LIST_LIMIT, more_url=_work("risk-alerts")),
        "staff_alerts": bounded(alerts_open_for(user), HOME_LIST_LIMIT, more_url=reverse("notifications:alerts")),
        "today": _today_rows(
            bounded(
                todays_sessions(user).only(*SCHEDULE_FIELDS), HOME_TODAY_LIMIT, more_url=reverse("sessions:schedule")
            )
        ),
        "awaiting": bounded(screenings_awaiting_sign_off(user), HOME_LIST_LIMIT, more_url=_work("sign-off")),
        "my_patients": my_patients_flagged_first(user),
        "unassigned": bounded(unassigned_patients(), HOME_LIST_LIMIT, more_url=_work("unassigned")),
        "overdue_checkins": checkin_rows(
            bounded(overdue_checkins_for_clinician(user), HOME_LIST_LIMIT, more_url=_work("overdue-checkins"))
        ),
    }


def _today_rows(sessions: Bounded) -> Bounded:
    """Today's sessions, each with its start time and attendance worked out once (a row shows the attendance twice,
    for wide and narrow screens)."""
    for session in sessions:
        session.start_label = f"{timezone.localtime(session.starts_at):%H:%M}"
        session.attendance, session.driver = attendance_of(session)
    return sessions


def checkin_rows(checkins: list[CheckIn]) -> list[CheckIn]:
    """Check-ins with their due and closing days written out once (`due_label`, `closes_label`)."""
    for checkin in checkins:
        checkin.due_label = day_label(checkin.due_at)
        checkin.closes_label = day_label(checkin.closes_at)
    return checkins


def unassigned_patients() -> QuerySet[Patient]:
    # Inside what a clinician may see (unassigned referrals); filtering the patient table directly uses the
    # (primary_clinician, family_name, given_name) index.
    return Patient.objects.filter(primary_clinician__isnull=True).select_related("primary_clinician")


def my_patients(user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(primary_clinician=user).select_related("primary_clinician")


def new_referrals(user: User) -> QuerySet[Patient]:
    return (
        patients_visible_to(user)
        .filter(status__in=SELF_REPORT_STATUSES)
        .select_related("primary_clinician")
        .order_by("-created_at")
    )


def my_patients_flagged_first(user: User, limit: int = HOME_LIST_LIMIT) -> Bounded:
    """The clinician's own patients, those with an open flag first (suicide risk under review, an unacknowledged
    staff alert, an overdue check-in), each row carrying which flags it has and its PHQ-9 course (`outcome`).

    Open flags are few, so they are read first (three small indexed queries) and the rest of the list comes from the
    (primary_clinician, family_name, given_name) index, however many patients the clinician has.
    """
    mine = {"patient__primary_clinician": user}
    now = timezone.now()
    flags = {
        "flag_risk": set(SuicideRiskAlert.objects.filter(status="open", **mine).values_list("patient_id", flat=True)),
        "flag_alert": set(
            StaffAlert.objects.filter(acknowledged_at__isnull=True, **mine).values_list("patient_id", flat=True)
        ),
        "flag_overdue": set(
            CheckIn.objects.filter(status="open", due_at__lt=now, **mine).values_list("patient_id", flat=True)
        ),
    }
    flagged_ids = set().union(*flags.values()) - {None}
    patients = my_patients(user)
    flagged = list(patients.filter(pk__in=flagged_ids)[:limit])
    # The rest is read even when the flagged fill the list (one row at least), for its count of the whole list.
    rest = list(with_total(patients.exclude(pk__in=flagged_ids))[: max(limit - len(flagged), 1)])
    more = len(flagged_ids) + (getattr(rest[0], TOTAL) if rest else 0) - limit
    rest = rest[: limit - len(flagged)]
    for patient in flagged:
        for name, ids in flags.items():
            setattr(patient, name, patient.pk in ids)
    listed = Bounded(flagged + rest)
    listed.more, listed.more_url = max(more, 0), _work("my-patients")
    # PHQ-9 baseline, response and remission per row, read for the whole list at once (three queries, not per row).
    episodes = outcome_episodes([patient.pk for patient in listed]) if listed else {}
    for patient in listed:
        patient.outcome = episodes.get(patient.pk)
    return listed


def intake_home(user: User) -> dict:
    return {
        "staff_alerts": bounded(alerts_open_for(user), HOME_LIST_LIMIT, more_url=reverse("notifications:alerts")),
        "today": _today_rows(
            bounded(todays_sessions(user).only(*SCHEDULE_FIELDS), 60, more_url=reverse("sessions:schedule"))
        ),
        "unconfirmed": bounded(unconfirmed_tomorrow(user), HOME_LIST_LIMIT, more_url=_tomorrows_schedule()),
        "in_progress": bounded(screenings_in_progress(user), HOME_LIST_LIMIT, more_url=_work("in-progress")),
        "awaiting": bounded(screenings_awaiting_sign_off(user), HOME_LIST_LIMIT, more_url=_work("sign-off")),
        "new_referrals": bounded(new_referrals(user), HOME_LIST_LIMIT, more_url=_work("new-referrals")),
    }


@dataclass(frozen=True)
class WorkList:
    """A home page's list read in full, a page at a time."""

    title: str
    rows: Callable[[User], QuerySet]
    empty: str
    shown: Callable[[list], list] = list  # what a page's rows need worked out before they are drawn


WORK_LISTS = {
    "risk-alerts": WorkList("Open suicide-risk alerts", open_alerts_for, "No open alerts."),
    "sign-off": WorkList("Screenings waiting for sign-off", screenings_awaiting_sign_off, "None waiting."),
    "in-progress": WorkList("Screenings in progress", screenings_in_progress, "None in progress."),
    "my-patients": WorkList("Patients in my care", my_patients, "No patients are assigned to you yet."),
    "unassigned": WorkList("New referrals without a clinician", lambda user: unassigned_patients(), "None."),
    "overdue-checkins": WorkList(
        "Overdue check-ins", overdue_checkins_for_clinician, "No overdue check-ins.", shown=checkin_rows
    ),
    "new-referrals": WorkList("New referrals", new_referrals, "No new referrals."),
}


@dataclass(frozen=True)
class SetupLink:
    label: str
    url_name: str
    hint: str


# What the clinic admin sets up, in the order a new clinic does it: the clinic's own pages where they exist,
# otherwise the back office's list of that kind of record.
CLINIC_SETUP_LINKS = (
    SetupLink("Clinic settings", "clinic:settings", "Sign-in, thresholds and booking windows"),
    SetupLink("Staff and roles", "accounts:staff_list", "Accounts, roles, deactivation and two-factor resets"),
    SetupLink("Treatment protocols", "admin:treatment_sessions_protocol_changelist", "Phases and number of sessions"),
    SetupLink("Rooms", "admin:treatment_sessions_room_changelist", "Where dosing sessions take place"),
    SetupLink("Clinic hours", "admin:treatment_sessions_clinichours_changelist", "Opening hours by weekday"),
    SetupLink("Closures", "admin:treatment_sessions_clinicclosure_changelist", "Holidays and other closed days"),
    SetupLink(
        "Clinician hours", "admin:treatment_sessions_clinicianhours_changelist", "When each clinician sees patients"
    ),
    SetupLink(
        "Reminder rules", "admin:notifications_reminderrule_changelist", "What patients are reminded of, and when"
    ),
    SetupLink(
        "Preparation texts", "admin:notifications_preparationtext_changelist", "What patients read before a session"
    ),
    SetupLink("Payers", "admin:billing_payer_changelist", "Insurers and plans the clinic bills"),
    SetupLink(
        "Fee schedule", "admin:billing_feescheduleitem_changelist", "Prices per code, route and length of service"
    ),
    SetupLink(
        "Poverty guidelines", "admin:billing_povertyguideline_changelist", "Each year's figures for the sliding scale"
    ),
    SetupLink(
        "Sliding-fee tiers",
        "admin:billing_slidingscaletier_changelist",
        "The discount for each band of income against the poverty guideline",
    ),
    SetupLink(
        "Controlled-substance products",
        "admin:treatment_sessions_controlledproduct_changelist",
        "Products the clinic stocks and logs",
    ),
    SetupLink(
        "Screening condition rules",
        "admin:screening_conditionrule_changelist",
        "The clinic's own severity for a condition",
    ),
    SetupLink("Back office", "admin:index", "Every record kind the back office lists"),
)


def admin_home(user: User) -> dict:
    return {
        "setup_links": CLINIC_SETUP_LINKS,
        "staff_alerts": bounded(alerts_open_for(user), HOME_LIST_LIMIT, more_url=reverse("notifications:alerts")),
        "reminder_problems": reminder_problems(),
        "outbox_problems": outbox_problems(),
        "last_heartbeat": WorkerHeartbeat.objects.select_related("requested_by").first(),
        "staff_by_role": User.objects.filter(is_active=True).values("role").annotate(n=Count("pk")).order_by("role"),
        "patient_count": Patient.objects.count(),
        "recent_audit": LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp")[:10],
        "expiring_authorizations": bounded(
            running_out(PriorAuthorization.objects.select_related("patient", "payer"), today=timezone.localdate()),
            HOME_LIST_LIMIT,
            more_url=reverse("billing:authorization_list") + "?ending_soon=on",
        ),
    }


def patient_home(user: User) -> dict:
    patient = patient_of_portal_user(user)
    done, schedule, due, consent_pending = {}, None, [], []
    if patient is not None:
        # Consent forms of the patient's treatment routes in force and not yet accepted: asked for on the home page.
        consent_pending = [
            s for s in consent_statuses(patient, patient_routes(patient)) if s.document and not s.acceptance
        ]
        due = list(checkins_due(patient)[:10])
        rows = InstrumentResponse.objects.filter(
            screening__patient=patient, reported_by_patient=True, is_complete=True
        ).values_list("code", "updated_at")
        done = dict(rows)
        schedule = patient_schedule(patient)
    return {
        "patient": patient,
        "intake_questionnaires": patient is not None and self_report_open(patient),
        "done": done,
        "schedule": schedule,
        "due": due,
        "now": timezone.now(),
        "consent_pending": consent_pending,
    }


# ---- The staff chart -----------------------------------------------------------------------------


def patient_chart(patient: Patient) -> dict:
    """What the staff chart shows beside the demographics: screenings, open risk alerts, enrollment and plans."""
    return {
        "patient": patient,
        "screenings": Screening.objects.filter(patient=patient).select_related("signed_off_by")[:10],
        "alerts": SuicideRiskAlert.objects.filter(patient=patient, status="open"),
        "enrollment": Enrollment.objects.filter(patient=patient, status="active").first(),
        "plans": patient.treatment_plans.select_related("protocol")[:10],
        "status_changes": patient.status_changes.select_related("changed_by")[:10],
        # A lapsed or expired invitation is not "open": the chart must not claim the patient can still use it.
        "open_invite": patient.invites.filter(used_at__isnull=True, expires_at__gt=timezone.now()).first(),
        "coverage": coverage_of(patient),
    }


# ---- The patient's schedule ----------------------------------------------------------------------


@dataclass(frozen=True)
class PatientSchedule:
    """What the portal shows: the next session (with how to prepare), the rest, and recent cancellations.

    `integration` holds the upcoming integration (psychotherapy) sessions, shown view-only, without their notes.
    """

    next_session: DosingSession | None
    later: list[DosingSession] = field(default_factory=list)
    cancelled: list[DosingSession] = field(default_factory=list)
    integration: list[IntegrationSession] = field(default_factory=list)

    @property
    def preparation(self) -> str:
        return self.next_session.protocol.preparation_instructions if self.next_session else ""


def patient_schedule(patient: Patient, *, now: datetime | None = None) -> PatientSchedule:
    """The patient's own upcoming sessions in order, and those cancelled lately; nothing of anyone else."""
    now = now or timezone.now()
    upcoming, cancelled = portal_sessions(patient, now=now)
    return PatientSchedule(
        next_session=upcoming[0] if upcoming else None,
        later=upcoming[1:],
        cancelled=cancelled,
        integration=upcoming_integration_sessions(patient, now=now),
    )
