"""The record page's read model: everything it shows for one session (`session_record`), read in a fixed number
of queries, for a caller already allowed to see the session.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch

from kap_clinic.rules import safety
from screening.models import SuicideRiskAlert
from screening.services import open_risk_alerts

from ..models import (
    AdverseEvent,
    Discharge,
    DoseAdministration,
    DoseTopUp,
    DosingSession,
    PreDoseCheck,
    PreDoseRiskAcknowledgement,
    RecordAmendment,
    RecordSignature,
    ScaleScore,
    VitalSign,
)
from ..models.record import bp_level, vital_limits
from .discharge import discharge_earliest_at, discharge_facts, end_of_dosing_at, monitoring_minutes
from .predose import BP_OK, dosing_problems


@dataclass
class SessionRecord:
    """Everything the record page shows for one session, read in a fixed number of queries."""

    session: DosingSession
    check: PreDoseCheck | None
    dose: DoseAdministration | None
    discharge: Discharge | None
    signature: RecordSignature | None
    vitals: list[VitalSign] = field(default_factory=list)
    scores: list[ScaleScore] = field(default_factory=list)
    events: list[AdverseEvent] = field(default_factory=list)
    amendments: list[RecordAmendment] = field(default_factory=list)
    dosing_problems: list[str] = field(default_factory=list)
    top_ups: list[DoseTopUp] = field(default_factory=list)
    limits: safety.VitalLimits = field(default_factory=safety.VitalLimits)
    # Open low suicide-risk alerts a clinician may acknowledge for this dose, and the acknowledgements made.
    low_risk_alerts: list[SuicideRiskAlert] = field(default_factory=list)
    risk_acknowledgements: list[PreDoseRiskAcknowledgement] = field(default_factory=list)

    @property
    def is_signed(self) -> bool:
        return self.signature is not None

    @property
    def bp_level(self) -> str:
        return bp_level(self.check.sbp, self.check.dbp, self.limits) if self.check else BP_OK

    @property
    def end_of_dosing_at(self) -> datetime | None:
        return end_of_dosing_at(self.session, self.dose, self.top_ups) if self.dose else None

    @property
    def discharge_earliest_at(self) -> datetime | None:
        return discharge_earliest_at(self.session, self.dose, self.top_ups) if self.dose else None

    @property
    def monitoring_minutes(self) -> int:
        return monitoring_minutes(self.session)

    @property
    def unacknowledged_low_risk_alerts(self) -> list[SuicideRiskAlert]:
        done = {ack.alert_id for ack in self.risk_acknowledgements}
        return [alert for alert in self.low_risk_alerts if alert.pk not in done]

    @property
    def dangerous_vitals(self) -> list[VitalSign]:
        return [v for v in self.vitals if v.dangers]

    @property
    def discharge_contradictions(self) -> list[str]:
        """What in the record contradicts a discharge now (shown before the clinician tries)."""
        if self.dose is None or self.discharge is not None:
            return []
        facts = discharge_facts(self.session, self.vitals, self.scores, self.events)
        return safety.discharge_contradictions(facts, self.limits)

    @property
    def open_events(self) -> list[AdverseEvent]:
        return [event for event in self.events if event.resolved_at is None]

    def timeline(self) -> list[tuple[datetime, str, object]]:
        """Vitals, scores and adverse events in time order, for the monitoring table."""
        rows = [(v.taken_at, "vitals", v) for v in self.vitals]
        rows += [(s.taken_at, "score", s) for s in self.scores]
        rows += [(e.onset_at, "event", e) for e in self.events]
        return sorted(rows, key=lambda row: (row[0], row[2].pk))


def session_record(session: DosingSession) -> SessionRecord:
    """The whole record of a session the caller has already been allowed to see."""
    users = ("recorded_by",)
    row = (
        DosingSession.objects.select_related(
            "pre_dose_check__checked_by",
            "pre_dose_check__bp_acknowledged_by",
            "dose_administration__dosed_by",
            "dose_administration__range_override_by",
            "discharge__discharged_by",
            "record_signature__signed_by",
        )
        .prefetch_related(
            Prefetch("vital_signs", queryset=VitalSign.objects.select_related(*users)),
            Prefetch("scale_scores", queryset=ScaleScore.objects.select_related(*users)),
            Prefetch("adverse_events", queryset=AdverseEvent.objects.select_related(*users)),
            Prefetch("record_amendments", queryset=RecordAmendment.objects.select_related("author")),
            Prefetch("dose_top_ups", queryset=DoseTopUp.objects.select_related("given_by")),
            Prefetch(
                "risk_acknowledgements",
                queryset=PreDoseRiskAcknowledgement.objects.select_related("acknowledged_by", "alert"),
            ),
        )
        .get(pk=session.pk)
    )

    def related(name):
        return getattr(row, name, None)

    check = related("pre_dose_check")
    record = SessionRecord(
        session=session,
        check=check,
        dose=related("dose_administration"),
        discharge=related("discharge"),
        signature=related("record_signature"),
        vitals=list(row.vital_signs.all()),
        scores=list(row.scale_scores.all()),
        events=list(row.adverse_events.all()),
        amendments=list(row.record_amendments.all()),
        top_ups=list(row.dose_top_ups.all()),
        risk_acknowledgements=list(row.risk_acknowledgements.all()),
        limits=vital_limits(),
    )
    for vital in record.vitals:
        vital.limits = record.limits
        vital.dangers = safety.dangerous_vitals(
            sbp=vital.sbp, dbp=vital.dbp, hr=vital.hr, spo2=vital.spo2, limits=record.limits
        )
    if record.dose is None and session.status not in DosingSession.CLOSED_STATUSES:
        record.dosing_problems = dosing_problems(session, check)
        record.low_risk_alerts = [a for a in open_risk_alerts(session.patient) if a.level == "low"]
    return record
