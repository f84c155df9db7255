"""Building authorizations and dosing sessions for billing tests."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from billing.models import Payer, PriorAuthorization
from billing.preauth.lifecycle import preauth_record_sent
from billing.services import authorization_create, authorization_transition
from sessions.models import DosingSession, Enrollment, Protocol, Room, TreatmentPlan
from sessions.scheduling.enrollment import enrollment_create
from sessions.scheduling.planning import _save_booking


def payer(name: str = "Acme Health") -> Payer:
    return Payer.objects.get_or_create(name=name, defaults={"payer_code": "ACME1"})[0]


def approved(
    patient,
    by,
    *,
    starts_on=date(2027, 1, 4),
    ends_on=date(2027, 3, 31),
    units=10,
    reference="PA-1001",
    codes=("96365", "J3490"),
) -> PriorAuthorization:
    """An approved authorization, moved there through the services like staff would (its request faxed)."""
    authorization = authorization_create(
        patient=patient,
        payer=payer(),
        by=by,
        reference=reference,
        units_authorized=units,
        starts_on=starts_on,
        ends_on=ends_on,
        **{**request_facts(units=units, starts_on=starts_on, ends_on=ends_on), "codes": list(codes)},
    )
    preauth_record_sent(authorization=authorization, by=by, note="Faxed to the payer")
    return authorization_transition(authorization=authorization, to="approved", by=by)


def request_facts(*, units=8, starts_on=date(2027, 1, 4), ends_on=date(2027, 3, 31)) -> dict:
    """What a request must say before it is sent: units and dates asked for, an ICD-10 diagnosis, the reasons."""
    return {
        "codes": ["96365", "J3490"],
        "units_requested": units,
        "requested_starts_on": starts_on,
        "requested_ends_on": ends_on,
        "diagnoses": ["F33.2"],
        "justification": "Two failed antidepressant trials; PHQ-9 21.",
    }


def submitted(authorization, by, note: str = "Faxed to the payer"):
    """The draft recorded as sent outside the app (its request facts must be there)."""
    return preauth_record_sent(authorization=authorization, by=by, note=note)


def step(authorization, to: str, by, note: str = "why"):
    """One status step as staff take it: "submitted" is recorded as sent outside the app, the rest are transitions."""
    if to == "submitted":
        return submitted(authorization, by, note)
    return authorization_transition(authorization=authorization, to=to, by=by, note=note)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware datetime at this clinic wall-clock time."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def book(
    patient,
    clinician,
    day: date,
    *,
    status: str = "scheduled",
    hour: int = 9,
    minute: int = 0,
    route: str = "iv",
    dose=None,
):
    """One session (IV unless `route` says otherwise) for the patient on that clinic-local day, through the booking
    service, then given `status`; `dose` is the planned dose (the protocol's usual dose if not given)."""
    iv = Protocol.objects.filter(route=route, is_active=True).order_by("pk").first()
    room = Room.objects.get_or_create(name="Room A")[0]
    enrollment = Enrollment.objects.filter(patient=patient, status=Enrollment.Status.ACTIVE).first()
    if enrollment is None:
        enrollment = enrollment_create(patient=patient, by=clinician, override_justification="Billing test patient.")
    plan = TreatmentPlan.objects.filter(patient=patient).first() or TreatmentPlan.objects.create(
        patient=patient,
        enrollment=enrollment,
        protocol=iv,
        planned_dose=iv.default_dose,
        first_day=day,
        created_by=clinician,
    )
    sequence = (plan.sessions.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
    starts_at = at(day, hour, minute)
    session = _save_booking(
        DosingSession(
            plan=plan,
            patient=patient,
            protocol=iv,
            planned_dose=iv.default_dose if dose is None else dose,
            sequence=sequence,
            phase="induction",
            room=room,
            clinician=clinician,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=iv.session_minutes),
        )
    )
    if status != "scheduled":
        cancelled_by = "clinic" if status == "cancelled" else None  # a cancellation says who cancelled
        DosingSession.objects.filter(pk=session.pk).update(status=status, cancelled_by=cancelled_by)
        session.status, session.cancelled_by = status, cancelled_by
    return session
