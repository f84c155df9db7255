"""What the pages that gather several apps show: each role's home, the staff chart and the patient's schedule."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.db.models import Case, CharField, Count, F, IntegerField, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from aftercare.models import CheckIn, IntegrationSession
from aftercare.selectors import (
    checkins_due,
    episode_start,
    outcome_episodes,
    overdue_checkins_for_clinician,
    upcoming_integration_sessions,
)
from billing.coverage import coverage_of
from billing.models import PriorAuthorization
from billing.selectors import running_out
from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.audit.selectors import audit_log_rows
from kap_clinic.kernel.clinic.models import WorkerHeartbeat
from kap_clinic.kernel.labels import day_label
from kap_clinic.kernel.notifications.alerts import alerts_open_for
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.kernel.notifications.selectors import reminder_problems
from kap_clinic.kernel.outbox.selectors import outbox_problems
from kap_clinic.kernel.paging import Bounded, bounded
from kap_clinic.kernel.urltags import row_address
from patients.models import Patient
from patients.selectors import patient_of_portal_user, patients_visible_to
from screening.models import InstrumentResponse, Screening, SuicideRiskAlert
from screening.selectors import open_alerts_for, screenings_awaiting_sign_off, screenings_in_progress
from screening.services import SELF_REPORT_STATUSES, self_report_open
from sessions.attendance import MISSING, attendance, attendance_shown
from sessions.calendar import portal_sessions
from sessions.consent.services import consent_statuses, patient_routes
from sessions.models import DosingSession, Enrollment
from sessions.scheduling.schedule import STATUSES
from sessions.selectors import todays_sessions, unconfirmed_tomorrow, week_by_route

# ---- Role homes ----------------------------------------------------------------------------------


# How many rows each list of a home page shows; the rest are counted and linked ("12 more"). Today's sessions on a
# home are those still to come or under way, the first 20 in time order: a morning's worth for the front desk and
# more than a clinician's day; the day schedule behind "N more" shows the whole day.
HOME_LIST_LIMIT = 20
HOME_TODAY_LIMIT = 20
# A list whose whole length costs a long read to count (the authorizations running out, picked out of every approved
# one) is counted no further than this ("80+ more"), so it costs the same at any size of clinic.
HOME_COUNT_CAP = 100

# What a row of today's sessions reads: the booking's own columns, and its patient's, room's, clinician's and
# confirmation's as plain values beside it (no related records built per row), and its attendance as the database
# works it out (`sessions.attendance`).
TODAY_FIELDS = ("starts_at", "status", "patient_id")
TODAY_VALUES = {
    "room_name": F("room__name"),
    "mrn": F("patient__mrn"),
    "family_name": F("patient__family_name"),
    "given_name": F("patient__given_name"),
    "clinician_first": F("clinician__first_name"),
    "clinician_last": F("clinician__last_name"),
    "attendance_state": attendance(),
    "driver_name": F("confirmation__driver_name"),
}


def _work(kind: str) -> str:
    return reverse("homes:work_list", kwargs={"kind": kind})


def _tomorrows_schedule() -> str:
    return f"{reverse('sessions:schedule')}?day={timezone.localdate() + timedelta(days=1):%Y-%m-%d}"


def _first(rows: QuerySet, more_url: str) -> Bounded:
    """A home list's first rows, with the rest counted and linked."""
    return bounded(rows, HOME_LIST_LIMIT, more_url=more_url)


# What a row of the patient tables on the homes reads of a patient and of their clinician.
PATIENT_ROW_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "primary_clinician__first_name",
    "primary_clinician__last_name",
)
# What the rows of the other home lists read (and their work lists', which draw the same rows).
SCREENING_ROW_FIELDS = (
    "patient_id",
    "computed_outcome",
    "updated_at",
    "patient__mrn",
    "patient__family_name",
    "patient__given_name",
)
RISK_ALERT_ROW_FIELDS = ("patient_id", "source", "instrument_code", "level", "raised_at", "patient__mrn")
STAFF_ALERT_ROW_FIELDS = ("kind", "urgent", "patient_id", "summary", "link", "created_at", "patient__mrn")
CHECKIN_ROW_FIELDS = ("patient_id", "due_at", "closes_at", *SCREENING_ROW_FIELDS[3:])


def risk_alerts(user: User) -> QuerySet[SuicideRiskAlert]:
    return open_alerts_for(user).only(*RISK_ALERT_ROW_FIELDS)


def staff_alerts(user: User) -> Bounded:
    rows = alerts_open_for(user).select_related(None).select_related("patient").only(*STAFF_ALERT_ROW_FIELDS)
    return _first(rows, reverse("notifications:alerts"))


def awaiting_sign_off(user: User) -> QuerySet[Screening]:
    return screenings_awaiting_sign_off(user).only(*SCREENING_ROW_FIELDS)


def in_progress(user: User) -> QuerySet[Screening]:
    return screenings_in_progress(user).only(*SCREENING_ROW_FIELDS)


def overdue_checkins(user: User) -> QuerySet[CheckIn]:
    return overdue_checkins_for_clinician(user).only(*CHECKIN_ROW_FIELDS)


def clinician_home(user: User) -> dict:
    return {
        "alerts": _first(risk_alerts(user), _work("risk-alerts")),
        "staff_alerts": staff_alerts(user),
        "today": todays_rows(user),
        "awaiting": _first(awaiting_sign_off(user), _work("sign-off")),
        "my_patients": my_patients_flagged_first(user),
        "unassigned": _first(unassigned_patients(), _work("unassigned")),
        "overdue_checkins": checkin_rows(_first(overdue_checkins(user), _work("overdue-checkins"))),
    }


def todays_rows(user: User, limit: int = HOME_TODAY_LIMIT) -> Bounded:
    """Today's sessions still to come or under way (scheduled, checked in, in progress) that the user sees, the first
    `limit` in time order with a count of the rest, each row carrying what it shows worked out once: `start_label`,
    `patient_name`, `clinician_name`, `status_label`, its attendance as the schedule prints it (`attendance`, `badge`,
    `driver`, `no_driver`, `no_driver_badge`: see `sessions.attendance.AttendanceShown`), its addresses (`chart_url`,
    `record_url`) and the check-in step it offers (`action`: "check_in" or "undo", with `action_url`)."""
    sessions = (
        todays_sessions(user)
        .filter(status__in=DosingSession.UPCOMING_STATUSES)
        .select_related(None)
        .only(*TODAY_FIELDS)
        .annotate(**TODAY_VALUES)
    )
    rows = bounded(sessions, limit, more_url=reverse("sessions:schedule"))
    chart, record = row_address("homes:patient_chart"), row_address("sessions:record_detail")
    check_in, undo = row_address("sessions:session_check_in"), row_address("sessions:session_check_in_undo")
    for s in rows:
        s.start_label = f"{timezone.localtime(s.starts_at):%H:%M}"
        s.patient_name = f"{s.family_name}, {s.given_name}"
        s.clinician_name = f"{s.clinician_first} {s.clinician_last}".strip()
        s.status_label = STATUSES.get(s.status, s.status)
        s.chart_url, s.record_url = chart(s.patient_id), record(s.pk)
        shown = attendance_shown(s.attendance_state, s.driver_name)
        s.attendance, s.badge, s.driver, s.no_driver, s.no_driver_badge = shown
        s.action, s.action_url = "", ""
        if s.status == DosingSession.Status.SCHEDULED:
            s.action, s.action_url = "check_in", check_in(s.pk)
        elif s.status == DosingSession.Status.CHECKED_IN:
            s.action, s.action_url = "undo", undo(s.pk)
    return rows


def unconfirmed_rows(user: User, limit: int = HOME_LIST_LIMIT) -> Bounded:
    """Tomorrow's sessions not confirmed or without a driver, the first `limit` with a count of the rest, each row
    carrying its `start_label`, `patient_name`, `chart_url` and what is missing (`problem`)."""
    rows = bounded(unconfirmed_tomorrow(user), limit, more_url=_tomorrows_schedule())
    chart = row_address("homes:patient_chart")
    for s in rows:
        s.start_label = f"{timezone.localtime(s.starts_at):%H:%M}"
        s.patient_name, s.chart_url = s.patient.full_name, chart(s.patient_id)
        s.problem = MISSING[s.missing]
    return rows


def checkin_rows(checkins: list[CheckIn]) -> list[CheckIn]:
    """Check-ins with their due and closing days written out once (`due_label`, `closes_label`)."""
    for checkin in checkins:
        checkin.due_label = day_label(checkin.due_at)
        checkin.closes_label = day_label(checkin.closes_at)
    return checkins


def unassigned_patients() -> QuerySet[Patient]:
    # Inside what a clinician may see (unassigned referrals); filtering the patient table directly uses the
    # (primary_clinician, family_name, given_name) index.
    return (
        Patient.objects.filter(primary_clinician__isnull=True)
        .select_related("primary_clinician")
        .only(*PATIENT_ROW_FIELDS)
    )


def my_patients(user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(primary_clinician=user).select_related("primary_clinician").only(*PATIENT_ROW_FIELDS)


def new_referrals(user: User) -> QuerySet[Patient]:
    return (
        patients_visible_to(user)
        .filter(status__in=SELF_REPORT_STATUSES)
        .select_related("primary_clinician")
        .only(*PATIENT_ROW_FIELDS)
        .order_by("-created_at")
    )


FLAGS = ("flag_risk", "flag_alert", "flag_overdue")


def open_flags(user: User) -> dict[int, set[str]]:
    """The open flags on the clinician's own patients, per patient: suicide risk under review (`flag_risk`), an
    unacknowledged staff alert (`flag_alert`), an overdue check-in (`flag_overdue`). One query (open flags are few)."""
    mine = {"patient__primary_clinician": user}
    flag = {name: Value(name, output_field=CharField()) for name in FLAGS}
    rows = (
        SuicideRiskAlert.objects.filter(status="open", **mine)
        .order_by()
        .values_list("patient_id", flag["flag_risk"])
        .union(
            StaffAlert.objects.filter(acknowledged_at__isnull=True, **mine)
            .order_by()
            .values_list("patient_id", flag["flag_alert"]),
            CheckIn.objects.filter(status="open", due_at__lt=timezone.now(), **mine)
            .order_by()
            .values_list("patient_id", flag["flag_overdue"]),
        )
    )
    flags: dict[int, set[str]] = {}
    for patient_id, name in rows:
        flags.setdefault(patient_id, set()).add(name)
    return flags


def my_patients_flagged_first(user: User, limit: int = HOME_LIST_LIMIT) -> Bounded:
    """The clinician's own patients, those with an open flag first (suicide risk under review, an unacknowledged
    staff alert, an overdue check-in), each row carrying which flags it has and its PHQ-9 course (`outcome`).

    Three queries however many patients the clinician has: the open flags (few), the first rows with a count of the
    whole list and each row's episode start, and the rows' PHQ-9 totals.
    """
    flags = open_flags(user)
    patients = my_patients(user).annotate(episode_start=episode_start())
    if flags:
        flagged_first = Case(When(pk__in=list(flags), then=Value(0)), default=Value(1), output_field=IntegerField())
        patients = patients.alias(flagged_first=flagged_first).order_by("flagged_first", *Patient._meta.ordering)
    listed = bounded(patients, limit, more_url=_work("my-patients"))
    # PHQ-9 baseline, response and remission per row, read for the whole list at once (not per row).
    starts = {patient.pk: patient.episode_start for patient in listed}
    episodes = outcome_episodes(list(starts), starts=starts) if listed else {}
    for patient in listed:
        on = flags.get(patient.pk, ())
        patient.flag_risk, patient.flag_alert, patient.flag_overdue = (name in on for name in FLAGS)
        patient.outcome = episodes.get(patient.pk)
    return listed


def intake_home(user: User) -> dict:
    return {
        "staff_alerts": staff_alerts(user),
        "today": todays_rows(user),
        "unconfirmed": unconfirmed_rows(user),
        "in_progress": _first(in_progress(user), _work("in-progress")),
        "awaiting": _first(awaiting_sign_off(user), _work("sign-off")),
        "new_referrals": _first(new_referrals(user), _work("new-referrals")),
    }


@dataclass(frozen=True)
class WorkList:
    """A home page's list read in full, a page at a time."""

    title: str
    rows: Callable[[User], QuerySet]
    empty: str
    shown: Callable[[list], list] = list  # what a page's rows need worked out before they are drawn


WORK_LISTS = {
    "risk-alerts": WorkList("Open suicide-risk alerts", risk_alerts, "No open alerts."),
    "sign-off": WorkList("Screenings waiting for sign-off", awaiting_sign_off, "None waiting."),
    "in-progress": WorkList("Screenings in progress", in_progress, "None in progress."),
    "my-patients": WorkList("Patients in my care", my_patients, "No patients are assigned to you yet."),
    "unassigned": WorkList("New referrals without a clinician", lambda user: unassigned_patients(), "None."),
    "overdue-checkins": WorkList("Overdue check-ins", overdue_checkins, "No overdue check-ins.", shown=checkin_rows),
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


# What a row of the expiring authorizations on the admin's home reads.
AUTHORIZATION_ROW_FIELDS = (
    "patient_id",
    "reference",
    "codes",
    "starts_on",
    "ends_on",
    "units_authorized",
    "units_used",
    "status",
    "patient__mrn",
    "payer__name",
)


def admin_home(user: User) -> dict:
    return {
        "setup_links": CLINIC_SETUP_LINKS,
        "staff_alerts": staff_alerts(user),
        "reminder_problems": reminder_problems(),
        "outbox_problems": outbox_problems(),
        "last_heartbeat": WorkerHeartbeat.objects.select_related("requested_by").first(),
        "staff_by_role": User.objects.filter(is_active=True).values("role").annotate(n=Count("pk")).order_by("role"),
        "patient_count": Patient.objects.count(),
        "week_by_route": week_by_route(timezone.localdate()),
        "recent_audit": audit_log_rows(
            LogEntry.objects.select_related("actor", "content_type")
            .defer("serialized_data", "changes_text", "additional_data")
            .order_by("-timestamp")[:10]
        ),
        "expiring_authorizations": bounded(
            running_out(
                PriorAuthorization.objects.select_related("patient", "payer").only(*AUTHORIZATION_ROW_FIELDS),
                today=timezone.localdate(),
            ),
            HOME_LIST_LIMIT,
            more_url=reverse("billing:authorization_list") + "?ending_soon=on",
            cap=HOME_COUNT_CAP,
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
