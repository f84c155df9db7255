"""Which sessions owe a Spravato REMS Patient Monitoring Form and by when (docs/clinical-references.md#rems):
enrollment before treatment, the seven-day submission deadline and the staff warnings as it nears.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.clinic.models import ClinicSettings
from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from kap_clinic.kernel.notifications.models import StaffAlert
from patients.selectors import patients_visible_to

from ..models import DosingSession, RemsMonitoringForm
from ..models.rems import REMS_SUBMISSION_DAYS


def rems_enrollment_problems(session: DosingSession) -> list[str]:
    """Pre-dose check: a Spravato patient is enrolled in the REMS before treatment (docs/clinical-references.md#rems,
    #clinical-review: "enroll patients prior to patient treatment"), with the enrollment dated on or before the day of
    the dose."""
    if not session.protocol.requires_rems:
        return []
    patient = session.patient
    day = timezone.localdate(session.starts_at)
    if patient.rems_enrolled_on is None:
        return [
            "The patient is not enrolled in the Spravato REMS: enroll them and record the enrollment on their chart "
            "before the first treatment."
        ]
    if patient.rems_enrolled_on > day:
        return [f"The patient's Spravato REMS enrollment is dated after this session ({patient.rems_enrolled_on})."]
    return []


@dataclass(frozen=True)
class RemsDue:
    """A REMS session whose form has not been submitted yet, with its 7-day deadline."""

    session: DosingSession
    form: RemsMonitoringForm | None
    treatment_date: date
    due_on: date
    days_left: int

    @property
    def is_overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)

    @property
    def state(self) -> str:
        if self.form is None:
            return "Not started"
        return "Signed, not submitted" if self.form.is_signed else "Draft"


def pending_sessions(user: User | None) -> QuerySet[DosingSession]:
    """Sessions owing a REMS form not yet submitted: of the patients `user` may see, or of everyone (None)."""
    owed = Q(status__in=DosingSession.TREATED_STATUSES) | Q(
        status__in=DosingSession.ACTIVE_STATUSES, rems_form__isnull=False
    )
    sessions = DosingSession.objects.filter(owed, protocol__requires_rems=True)
    if user is not None:
        sessions = sessions.filter(patient__in=patients_visible_to(user))
    return (
        sessions.filter(Q(rems_form__isnull=True) | Q(rems_form__submitted_at__isnull=True))
        .select_related("patient", "clinician", "rems_form")
        .order_by("starts_at", "pk")
    )


def overdue(today: date) -> Q:
    """The pending sessions whose form is past its deadline (a due row's `is_overdue`), as a filter."""
    still_in_time = today - timedelta(days=REMS_SUBMISSION_DAYS)  # treated on this day or later: not yet overdue
    midnight = timezone.make_aware(datetime.combine(still_in_time, time()))
    return Q(rems_form__treatment_date__lt=still_in_time) | Q(
        rems_form__treatment_date__isnull=True, starts_at__lt=midnight
    )


def due_rows(sessions: QuerySet[DosingSession], *, limit: int | None, today: date) -> list[RemsDue]:
    if limit is not None:
        sessions = sessions[:limit]
    rows = []
    for session in sessions:
        form = getattr(session, "rems_form", None)
        treated_on = (form.treatment_date if form else None) or timezone.localtime(session.starts_at).date()
        due_on = treated_on + timedelta(days=REMS_SUBMISSION_DAYS)
        rows.append(RemsDue(session, form, treated_on, due_on, (due_on - today).days))
    return rows


# ---- Deadline warnings --------------------------------------------------------------------------


def rems_deadline_warnings(*, today: date | None = None) -> list:
    """Staff alerts for REMS forms not yet submitted: one when the deadline is the clinic's rems_warn_days
    (ClinicSettings) away or nearer, an urgent one once it has passed. Raised once each (the alert key); the beat
    runs this every morning."""
    today = today or timezone.localdate()
    warn_days = ClinicSettings.load().rems_warn_days
    raised = []
    for due in due_rows(pending_sessions(None), limit=None, today=today):
        if due.days_left > warn_days:
            continue
        overdue = due.is_overdue
        raised.append(
            staff_alert_raise(
                kind=StaffAlert.Kind.REMS_DUE,
                key=f"rems-{due.session.pk}-{'overdue' if overdue else 'due'}",
                patient_id=due.session.patient_id,
                clinician_id=due.session.patient.primary_clinician_id,
                summary=(
                    f"REMS monitoring form {'overdue since' if overdue else 'due'} {due.due_on:%a %d %b} "
                    f"({due.state.lower()})."
                ),
                link=reverse("sessions:rems_detail", args=[due.session.pk]),
                urgent=overdue,
            )
        )
    return raised
