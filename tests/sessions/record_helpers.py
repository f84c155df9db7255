"""Building blocks for the session record tests: a booked session, a complete checklist, a dose, a discharge."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from patients.models import Patient
from sessions.consent.services import consent_document_in_force
from sessions.models import ConsentAcceptance, DosingSession, Protocol, Room
from sessions.models.record import DISCHARGE_CRITERIA
from sessions.record.discharge import discharge_earliest_at, discharge_record
from sessions.record.dose import dose_record
from sessions.record.monitoring import scale_score_record, vital_sign_record
from sessions.record.predose import pre_dose_check_record
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import plan_create

GOOD_VITALS = {"sbp": 124, "dbp": 78, "hr": 72, "spo2": 98, "rr": 14}
REASON = "Reviewed in person; asymptomatic and the benefit outweighs the risk today."
ALL_MET = {name: True for name, _ in DISCHARGE_CRITERIA}


def book_session(
    patient: Patient,
    clinician,
    *,
    route: str = "iv",
    weight_kg: Decimal | None = Decimal("70.0"),
    ready: bool = True,
    **plan_kwargs,
) -> DosingSession:
    """The first session of a new plan under the route's seeded protocol, for a patient of the given weight.

    `ready`: the patient has accepted the route's consent form (and, for Spravato, is enrolled in the REMS)."""
    Patient.objects.filter(pk=patient.pk).update(weight_kg=weight_kg)
    patient.refresh_from_db()
    enrollment_create(patient=patient, by=clinician, override_justification="Session record tests: gate overridden.")
    protocol = Protocol.objects.get(route=route)
    plan = plan_create(
        patient=patient,
        protocol=protocol,
        first_day=timezone.localdate() + timedelta(days=1),
        start_time=None,
        room=Room.objects.get_or_create(name=f"Chair {route} {patient.pk}")[0],
        clinician=clinician,
        by=clinician,
        **{"planned_dose": protocol.default_dose, **plan_kwargs},
    )
    patient.refresh_from_db()  # enrolled, in induction
    session = plan.sessions.order_by("starts_at").first()
    if ready:
        ready_to_dose(session, clinician)
    return session


def ready_to_dose(session: DosingSession, clinician) -> None:
    """What the chart holds before any dose: the route's consent form accepted and, for Spravato, REMS enrollment."""
    document = consent_document_in_force(session.protocol.route, timezone.localdate(session.starts_at))
    if not ConsentAcceptance.objects.filter(patient=session.patient, document=document).exists():
        ConsentAcceptance.objects.create(
            patient=session.patient,
            document=document,
            accepted_at=timezone.now(),
            method=ConsentAcceptance.Method.PORTAL,
            recorded_by=clinician,
        )
    if session.protocol.requires_rems and session.patient.rems_enrolled_on is None:
        Patient.objects.filter(pk=session.patient_id).update(
            rems_enrolled_on=timezone.localdate(), rems_enrolled_by=clinician
        )
        session.patient.refresh_from_db()


# The dosing-day re-screen with nothing positive: PHQ-9 item 9 "not at all", not pregnant.
CALM_RESCREEN = {"rescreen_code": "phq9_item9", "rescreen_answers": [0], "is_possibly_pregnant": False}
# A 40-minute IV infusion (Andrade 2017): observation counts from its end.
INFUSION_MINUTES = 40


def check(session: DosingSession, by, **overrides):
    values = {
        "is_consent_confirmed": True,
        "is_fasting_confirmed": True,
        "escort_name": "Sam Quill",
        **GOOD_VITALS,
        **CALM_RESCREEN,
    }
    values.update(overrides)
    return pre_dose_check_record(session=session, by=by, **values)


def dose(session: DosingSession, by, amount: str = "0.5", **kwargs):
    if session.protocol.route == "iv":
        kwargs.setdefault("infusion_minutes", INFUSION_MINUTES)
    return dose_record(session=session, by=by, dose=Decimal(amount), **kwargs)


def monitored(session: DosingSession, by, time_machine, *, minutes: int | None = None):
    """Move to the earliest discharge time (or `minutes` after the dose), with calm vitals and MOAA/S 5 on the way,
    a BP at 40 minutes among them."""
    given = session.dose_administration
    earliest = discharge_earliest_at(session, given)
    end = given.dosed_at + timedelta(minutes=minutes) if minutes is not None else earliest + timedelta(minutes=1)
    at_40 = given.dosed_at + timedelta(minutes=40)
    if at_40 < end:
        time_machine.move_to(at_40, tick=False)
        vital_sign_record(session=session, by=by, **GOOD_VITALS)
    time_machine.move_to(end, tick=False)
    vital_sign_record(session=session, by=by, **GOOD_VITALS)
    scale_score_record(session=session, by=by, scale="moaas", score=5)


def checked_and_dosed(session: DosingSession, clinician, amount: str = "0.5"):
    check(session, clinician)
    return dose(session, clinician, amount)


def discharged(session: DosingSession, clinician, time_machine):
    """Checked, dosed, monitored for the protocol's time, and discharged."""
    checked_and_dosed(session, clinician)
    session.refresh_from_db()
    monitored(session, clinician, time_machine)
    return discharge_record(session=session, by=clinician, criteria=ALL_MET)
