"""Monitoring after the dose: vital signs (an urgent staff alert for dangerous ones), MOAA/S and CADSS scores,
and adverse events with their resolution, each timed in minutes from the dose.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from kap_clinic.kernel.notifications.models import StaffAlert
from kap_clinic.rules import safety

from ..models import AdverseEvent, DosingSession, ScaleScore, VitalSign
from ..models.record import vital_limits
from .guards import (
    RECORDING_ROLES,
    _dose_of,
    _lock,
    _minutes_after,
    _record_link,
    _require_open,
    _require_past,
    _require_role,
    _require_session_day,
)


@transaction.atomic
def vital_sign_record(
    *,
    session: DosingSession,
    by: User,
    taken_at: datetime | None = None,
    sbp: int | None = None,
    dbp: int | None = None,
    hr: int | None = None,
    spo2: int | None = None,
    rr: int | None = None,
    position: str = "",
    note: str = "",
) -> VitalSign:
    """Add one set of readings (taken now unless told when) to the timeline, timed in minutes from the dose."""
    _require_role(by, *RECORDING_ROLES, doing="record vital signs")
    session = _lock(session)
    _require_open(session)
    dose = _dose_of(session)
    taken_at = taken_at or timezone.now()
    _require_past(taken_at, "The reading time")
    _require_session_day(session, taken_at, "The reading")
    if all(value is None for value in (sbp, dbp, hr, spo2, rr)):
        raise ValidationError("Enter at least one reading.")
    vital = VitalSign(
        session=session,
        taken_at=taken_at,
        minutes_from_dose=_minutes_after(dose, taken_at),
        sbp=sbp,
        dbp=dbp,
        hr=hr,
        spo2=spo2,
        rr=rr,
        position=position,
        note=(note or "").strip(),
        recorded_by=by,
    )
    vital.full_clean(exclude=["session", "recorded_by"])
    vital.save()
    dangers = safety.dangerous_vitals(sbp=sbp, dbp=dbp, hr=hr, spo2=spo2, limits=vital_limits())
    if dangers:
        # An urgent alert to the patient's clinician and admins, on their home pages and by email
        # (docs/clinical-references.md#blood-pressure: BP at about 40 minutes for Spravato; refer hypertensive-crisis
        # symptoms for emergency care).
        staff_alert_raise(
            kind=StaffAlert.Kind.POST_DOSE_VITALS,
            key=f"post-dose-vitals-{vital.pk}",
            patient_id=session.patient_id,
            clinician_id=session.patient.primary_clinician_id,
            summary=f"Dangerous vital signs {vital.minutes_from_dose} min after a dose: " + "; ".join(dangers) + ".",
            link=_record_link(session) + "#monitoring",
            urgent=True,
        )
    return vital


@transaction.atomic
def scale_score_record(
    *, session: DosingSession, by: User, scale: str, score: int, taken_at: datetime | None = None
) -> ScaleScore:
    """Add a MOAA/S or CADSS score to the timeline; a score outside the scale's range is refused."""
    _require_role(by, *RECORDING_ROLES, doing="record scale scores")
    session = _lock(session)
    _require_open(session)
    dose = _dose_of(session)
    taken_at = taken_at or timezone.now()
    _require_past(taken_at, "The score time")
    _require_session_day(session, taken_at, "The score")
    row = ScaleScore(
        session=session,
        scale=scale,
        score=score,
        taken_at=taken_at,
        minutes_from_dose=_minutes_after(dose, taken_at),
        recorded_by=by,
    )
    row.full_clean(exclude=["session", "recorded_by"])
    row.save()
    return row


@transaction.atomic
def adverse_event_record(
    *,
    session: DosingSession,
    by: User,
    kind: str,
    severity: str,
    onset_at: datetime | None = None,
    other_description: str = "",
    intervention: str = "",
    resolved_at: datetime | None = None,
    is_serious: bool = False,
    is_reportable: bool = False,
    details: str = "",
) -> AdverseEvent:
    """Record an adverse event with its onset, severity and intervention; "other" needs a description."""
    _require_role(by, *RECORDING_ROLES, doing="record adverse events")
    session = _lock(session)
    _require_open(session)
    onset_at = onset_at or timezone.now()
    _require_past(onset_at, "The onset")
    _require_session_day(session, onset_at, "The onset")
    if resolved_at is not None:
        _require_past(resolved_at, "The resolution time")
    event = AdverseEvent(
        session=session,
        kind=kind,
        other_description=(other_description or "").strip() if kind == AdverseEvent.Kind.OTHER else "",
        onset_at=onset_at,
        severity=severity,
        intervention=(intervention or "").strip(),
        resolved_at=resolved_at,
        is_serious=is_serious,
        is_reportable=is_reportable,
        details=(details or "").strip(),
        recorded_by=by,
    )
    if kind == AdverseEvent.Kind.OTHER and not event.other_description:
        raise ValidationError("Describe the event when it is not on the list.")
    if resolved_at is not None and resolved_at < onset_at:
        raise ValidationError("An event cannot resolve before its onset.")
    event.full_clean(exclude=["session", "recorded_by"])
    event.save()
    if event.is_serious or event.severity == AdverseEvent.Severity.SEVERE:
        staff_alert_raise(
            kind=StaffAlert.Kind.ADVERSE_EVENT,
            key=f"adverse-event-{event.pk}",
            patient_id=session.patient_id,
            clinician_id=session.patient.primary_clinician_id,
            summary=f"{'Serious' if event.is_serious else 'Severe'} adverse event recorded during a dosing session.",
            link=reverse("sessions:record_detail", args=[session.pk]),
            urgent=True,
        )
    return event


@transaction.atomic
def adverse_event_resolve(
    *, session: DosingSession, by: User, event_id: int, resolved_at: datetime | None = None
) -> AdverseEvent:
    """Record when an open adverse event of this session resolved."""
    _require_role(by, *RECORDING_ROLES, doing="record adverse events")
    session = _lock(session)
    event = AdverseEvent.objects.filter(session=session, pk=event_id, resolved_at__isnull=True).first()
    if event is None:
        raise ValidationError("Choose an unresolved adverse event of this session.")
    resolved_at = resolved_at or timezone.now()
    _require_past(resolved_at, "The resolution time")
    if resolved_at < event.onset_at:
        raise ValidationError("An event cannot resolve before its onset.")
    event.resolved_at = resolved_at
    event.save(update_fields=["resolved_at"])
    return event
