"""What the reports read: a patient's whole course of treatment, and the audit trail of a patient or a user.

Reads only; access is checked by the callers (views and the report kinds) before anything here runs.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

from django.db.models import QuerySet
from django.utils import timezone

from aftercare.models import CheckIn, IntegrationSession
from aftercare.selectors import outcome_episodes, outcome_trend
from kap_clinic.kernel.audit.selectors import audit_entries, changed_fields, entry_record, entry_who
from kap_clinic.rules import instruments, outcomes
from patients.models import Patient
from screening.models import Diagnosis, Screening
from sessions.models import DosingSession, RemsMonitoringForm, ScaleScore

from .charts import Point, outcome_chart_svg

# ---- The patient treatment summary ---------------------------------------------------------------


def _span(values: list) -> str:
    values = [value for value in values if value is not None]
    if not values:
        return ""
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}–{high}"


@dataclass(frozen=True)
class SessionLine:
    """One dosing session as the summary prints it, in plain values: a long course is read in chunks and no session
    object (with its vitals and scores) outlives its line."""

    starts_at: datetime
    status: str
    status_label: str
    kind: str
    dosed_at: datetime | None
    dose: str
    bp: str
    hr: str
    spo2: str
    moaas: str
    cadss: str
    adverse_events: list[str]


def _session_line(session: DosingSession) -> SessionLine:
    unit = session.protocol.get_dose_unit_display()
    given = getattr(session, "dose_administration", None)
    if given is not None:
        dose = f"{given.dose_mg_given} mg"
        if given.dose_mg_per_kg is not None:
            dose += f" ({given.dose_mg_per_kg} mg/kg)"
        top_ups = sum(top_up.dose_mg for top_up in session.dose_top_ups.all())
        if top_ups:
            dose += f" + {top_ups} mg top-up"
    else:
        dose = f"planned {session.planned_dose.normalize():f} {unit}".strip()
    vitals = list(session.vital_signs.all())
    systolic = _span([v.sbp for v in vitals])
    diastolic = _span([v.dbp for v in vitals])
    scores = list(session.scale_scores.all())
    moaas = [s.score for s in scores if s.scale == ScaleScore.Scale.MOAAS]
    cadss = [s for s in scores if s.scale in (ScaleScore.Scale.CADSS, ScaleScore.Scale.CADSS6)]
    cadss_text = ""
    if cadss:
        peak = max(cadss, key=lambda s: s.score)
        cadss_text = f"{peak.score}" + (" (short form)" if peak.scale == ScaleScore.Scale.CADSS6 else "")
    return SessionLine(
        starts_at=session.starts_at,
        status=session.status,
        status_label=session.get_status_display(),
        kind=session.kind,
        dosed_at=given.dosed_at if given is not None else None,
        dose=dose,
        bp=f"{systolic}/{diastolic}" if systolic or diastolic else "",
        hr=_span([v.hr for v in vitals]),
        spo2=_span([v.spo2 for v in vitals]),
        moaas=f"lowest {min(moaas)}" if moaas else "",
        cadss=f"peak {cadss_text}" if cadss_text else "",
        adverse_events=[
            f"{event.name} ({event.get_severity_display().lower()})" for event in session.adverse_events.all()
        ],
    )


SESSION_CHUNK = 100


def patient_sessions(patient: Patient) -> QuerySet[DosingSession]:
    return (
        DosingSession.objects.filter(patient=patient)
        .select_related("protocol", "clinician", "dose_administration")
        .prefetch_related("vital_signs", "scale_scores", "adverse_events", "dose_top_ups")
        .order_by("starts_at", "pk")
    )


def patient_summary_rows(patient_id: int) -> int:
    """How long the treatment summary is, cheaply (three counts): its dosing sessions (each with its vitals, scores
    and REMS form), integration sessions and check-ins."""
    return (
        DosingSession.objects.filter(patient_id=patient_id).count()
        + IntegrationSession.objects.filter(patient_id=patient_id).count()
        + CheckIn.objects.filter(patient_id=patient_id).count()
    )


def patient_summary(patient: Patient) -> dict:
    """Everything the treatment summary prints, for this patient only."""
    screenings = list(
        Screening.objects.filter(patient=patient)
        .select_related("signed_off_by", "completed_by")
        .prefetch_related("responses")
        .order_by("created_at", "pk")
    )
    # A chunk of sessions at a time, each with its prefetched vitals, scores and events, turned into plain lines.
    sessions = [_session_line(session) for session in patient_sessions(patient).iterator(chunk_size=SESSION_CHUNK)]
    points = outcome_trend(patient)
    episode = outcome_episodes([patient.pk])[patient.pk]
    dose_times = [line.dosed_at or line.starts_at for line in sessions if line.status in DosingSession.TREATED_STATUSES]
    baseline = episode.baseline
    chart = outcome_chart_svg(
        [
            Point(at=point["at"], code=point["code"], total=point["total"])
            for point in points
            if point["total"] is not None
        ],
        dose_times,
        baseline=baseline,
        response_at=None if baseline is None else baseline * (100 - outcomes.RESPONSE_DROP_PERCENT) / 100,
        remission_below=outcomes.REMISSION_BELOW,
    )
    return {
        "patient": patient,
        "diagnoses": Diagnosis.objects.filter(screening__patient=patient).order_by("-is_primary", "icd10_code"),
        "screenings": screenings,
        "plans": patient.treatment_plans.select_related("protocol", "created_by").order_by("first_day", "pk"),
        "sessions": sessions,
        "rems_forms": rems_form_lines(patient),
        "integration_sessions": integration_lines(patient),
        "checkins": checkin_lines(patient),
        "episode": episode,
        "outcome": episode.latest,
        "chart": chart,
        "generated_at": timezone.localtime(),
    }


# The summary's other long lists, each read in one query as plain tuples, streamed from the database (`iterator`) and
# kept as plain lines: however long the course, no model object is held and the query count does not grow.
ROW_CHUNK = 500


@dataclass(frozen=True)
class RemsFormLine:
    treatment_date: date | None
    session_starts_at: datetime
    dose: str
    signed_at: datetime | None
    submitted_at: datetime | None


def rems_form_lines(patient: Patient) -> list[RemsFormLine]:
    doses = dict(RemsMonitoringForm.Dose.choices)
    rows = (
        RemsMonitoringForm.objects.filter(session__patient=patient)
        .order_by("session__starts_at", "pk")
        .values_list("treatment_date", "session__starts_at", "dose", "dose_other_mg", "signed_at", "submitted_at")
    )
    return [
        RemsFormLine(
            treatment_date=treated_on,
            session_starts_at=starts_at,
            dose=f"{doses.get(dose, dose)} {other_mg} mg" if other_mg else doses.get(dose, dose),
            signed_at=signed_at,
            submitted_at=submitted_at,
        )
        for treated_on, starts_at, dose, other_mg, signed_at, submitted_at in rows.iterator(chunk_size=ROW_CHUNK)
    ]


@dataclass(frozen=True)
class IntegrationLine:
    starts_at: datetime
    modality: str
    clinician: str
    status: str


def integration_lines(patient: Patient) -> list[IntegrationLine]:
    modalities = dict(IntegrationSession.Modality.choices)
    statuses = dict(IntegrationSession.Status.choices)
    rows = (
        IntegrationSession.objects.filter(patient=patient)
        .order_by("starts_at", "pk")
        .values_list(
            "starts_at", "modality", "status", "clinician__first_name", "clinician__last_name", "clinician__username"
        )
    )
    return [
        IntegrationLine(
            starts_at=starts_at,
            modality=modalities.get(modality, modality),
            clinician=f"{first} {last}".strip() or username,
            status=statuses.get(status, status),
        )
        for starts_at, modality, status, first, last, username in rows.iterator(chunk_size=ROW_CHUNK)
    ]


@dataclass(frozen=True)
class CheckInLine:
    opens_at: datetime
    status: str
    completed_at: datetime | None
    scores: str  # "PHQ-9 12; GAD-7 8", in the order they were entered


def checkin_lines(patient: Patient) -> list[CheckInLine]:
    """Each check-in with its scores, from one query over check-ins joined to their responses (one row per response,
    or one row for a check-in without any)."""
    statuses = dict(CheckIn.Status.choices)
    rows = (
        CheckIn.objects.filter(patient=patient)
        .order_by("opens_at", "pk", "responses__pk")
        .values_list("pk", "opens_at", "status", "completed_at", "responses__code", "responses__total")
    )
    lines: list[CheckInLine] = []
    current, scores = None, []

    def close():
        if current is not None:
            _, opens_at, status, completed_at = current
            lines.append(CheckInLine(opens_at, statuses.get(status, status), completed_at, "; ".join(scores)))

    for pk, opens_at, status, completed_at, code, total in rows.iterator(chunk_size=ROW_CHUNK):
        if current is None or current[0] != pk:
            close()
            current, scores = (pk, opens_at, status, completed_at), []
        if code is not None:
            scores.append(f"{instruments.display_name(code)} {'' if total is None else total}")
    close()
    return lines


# ---- The audit report -----------------------------------------------------------------------------

AUDIT_HEADERS = ["When", "Who", "Action", "Record", "Patient", "Field", "Old value", "New value", "From address"]


def audit_queryset(*, patient: Patient | None, user, start: date | None, end: date | None):
    return audit_entries(
        patient_id=patient.pk if patient else None, actor_id=user.pk if user else None, start=start, end=end
    ).order_by("timestamp", "pk")


def _patient_of(entry) -> int | None:
    data = entry.additional_data
    return data.get("patient_id") if isinstance(data, dict) else None


def _batches(entries, size: int = 500) -> Iterator[list]:
    rows = iter(entries.iterator(chunk_size=size) if isinstance(entries, QuerySet) else entries)
    while batch := list(islice(rows, size)):
        yield batch


def audit_rows(entries) -> Iterator[list]:
    """One row per changed field (a read or a change without fields is one row), oldest first, streamed.

    The chart numbers of the patients the entries name are looked up once per 500 entries, not once per patient."""
    mrns: dict[int, str] = {}
    kinds: dict[int, str] = {}
    labels: dict = {}
    for batch in _batches(entries):
        unknown = {_patient_of(entry) for entry in batch} - mrns.keys() - {None}
        if unknown:
            mrns.update(dict.fromkeys(unknown, ""))
            mrns.update(Patient.objects.filter(pk__in=unknown).values_list("pk", "mrn"))
        for entry in batch:
            patient_id = _patient_of(entry)
            action = entry.get_action_display().capitalize()
            base = [entry.timestamp, entry_who(entry), action, entry_record(entry, kinds), mrns.get(patient_id, "")]
            changes = changed_fields(entry, labels) if entry.action != entry.Action.ACCESS else []
            if not changes:
                yield [*base, "", "", "", entry.remote_addr or ""]
            for field_name, old, new in changes:
                yield [*base, field_name, old, new, entry.remote_addr or ""]
