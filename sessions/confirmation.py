"""The patient's answer to the dosing reminder: a signed link to confirm they will come and name their driver home.

The link's token is its own credential: it names the session and the start it was sent for, so a moved session's
old link no longer opens.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from kap_clinic.kernel.notifications.models import SessionConfirmation, StaffAlert

from .attendance import cannot_attend
from .models import DosingSession

CONFIRM_SALT = "notifications.confirm"


def confirm_token(session: DosingSession) -> str:
    return signing.dumps({"s": session.pk, "t": int(session.starts_at.timestamp())}, salt=CONFIRM_SALT)


def confirm_url(session: DosingSession) -> str:
    path = reverse("session_confirm", args=[confirm_token(session)])
    return settings.SITE_URL.rstrip("/") + path


def session_for_confirm_token(token: str) -> DosingSession | None:
    """The session a confirmation link names, if the link is genuine, unexpired and the session still as booked."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=settings.REMINDER_CONFIRM_LINK_DAYS))
    except signing.BadSignature:
        return None
    session = DosingSession.objects.filter(pk=data.get("s"), status=DosingSession.Status.SCHEDULED).first()
    if session is None or int(session.starts_at.timestamp()) != data.get("t") or session.starts_at <= timezone.now():
        return None
    return session


@transaction.atomic
def session_confirm(*, session: DosingSession, driver_name: str) -> SessionConfirmation:
    """The patient confirms they will come, and names the adult who drives them home. The later answer stands: a
    "can't attend" given before is withdrawn, so every page shows the booking confirmed (the front desk's alert to
    call the patient stays open until they have called)."""
    session = DosingSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if session.cannot_attend_start is not None:
        session.cannot_attend_start = None
        session.save(update_fields=["cannot_attend_start", "updated_at"])
    confirmation, _ = SessionConfirmation.objects.update_or_create(
        session=session, defaults={"confirmed_start": session.starts_at, "driver_name": driver_name.strip()}
    )
    return confirmation


@transaction.atomic
def session_cannot_attend(*, session: DosingSession) -> DosingSession:
    """The patient answers the reminder that they can't come: kept on the session (for the start they were asked
    about, so a moved session asks again) and raised to the front desk, who call the patient to rebook. Answering
    twice raises one alert; a confirmation given before is withdrawn."""
    session = (
        DosingSession.objects.select_for_update(of=("self",))
        .select_related("patient")
        .annotate(answered_cannot_attend=cannot_attend())
        .get(pk=session.pk)
    )
    if session.answered_cannot_attend:
        return session
    session.cannot_attend_start = session.starts_at
    session.save(update_fields=["cannot_attend_start", "updated_at"])
    SessionConfirmation.objects.filter(session=session).delete()
    when = timezone.localtime(session.starts_at)
    staff_alert_raise(
        kind=StaffAlert.Kind.CANNOT_ATTEND,
        key=f"cannot-attend-{session.pk}-{int(session.starts_at.timestamp())}",
        patient_id=session.patient_id,
        clinician_id=session.clinician_id,
        summary=f"Can't attend the session on {when:%a} {when.day} {when:%b %Y, %H:%M}: call the patient to rebook",
        link=reverse("homes:patient_chart", kwargs={"pk": session.patient_id}),
        audience=StaffAlert.Audience.FRONT_OFFICE,
    )
    return session
