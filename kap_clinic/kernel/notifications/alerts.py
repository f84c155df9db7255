"""Staff alerts: urgent clinical flags and authorizations running out, raised once and seen until acknowledged.

`staff_alert_raise` runs in the transaction of whatever raised the alert (a screening answer, an adverse event, a
check-in, the authorization sweep), once per key: raising the same key again returns the first alert unchanged.
The caller says, in plain values, which patient the alert is about and who their clinician is. The alert shows on
the home page of the staff it concerns; it is also emailed to them through the reminder outbox, so the email is sent
exactly once per person, with no patient detail in it.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.patient_scope import visible_through
from kap_clinic.kernel.accounts.roles import Role

from .models import Channel, Reminder, StaffAlert
from .tasks import enqueue_on_commit

Kind = StaffAlert.Kind
Audience = StaffAlert.Audience


def staff_alert_raise(
    *,
    kind: str,
    key: str,
    patient_id: int,
    clinician_id: int | None = None,
    summary: str,
    link: str = "",
    urgent: bool = False,
    audience: str = Audience.CLINICAL,
    recipient_ids: Iterable[int] | None = None,
) -> StaffAlert:
    """The alert for `key`, created (with its emails) the first time and returned unchanged after that.

    `clinician_id` is the patient's clinician (None while they have none), who receives a clinical alert; without
    one every clinician does. `recipient_ids` names the staff to email instead of those the audience gives.

    `summary` is staff-facing and short ("PHQ-9 item 9 answered above 0 on a check-in"); it should not name the
    patient: the alert links to the chart, which shows who it is to those allowed to see it.
    """
    existing = StaffAlert.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():  # a savepoint: a racing raise of the same key loses only this insert
            alert = StaffAlert.objects.create(
                kind=kind,
                key=key,
                patient_id=patient_id,
                summary=summary[:200],
                link=link[:300],
                urgent=urgent,
                audience=audience,
            )
    except IntegrityError:
        return StaffAlert.objects.get(key=key)
    recipients = alert_recipients(audience=audience, clinician_id=clinician_id, recipient_ids=recipient_ids)
    alert_emails_create(alert, recipients=recipients)
    return alert


def alert_recipients(
    *, audience: str, clinician_id: int | None, recipient_ids: Iterable[int] | None = None
) -> QuerySet[User]:
    """The active staff an alert is for: clinical alerts go to the patient's clinician (every clinician while the
    patient has none) and admins; front-office alerts to admins and intake staff; or exactly those named."""
    users = User.objects.filter(is_active=True)
    if recipient_ids is not None:
        return users.filter(pk__in=list(recipient_ids))
    if audience == Audience.FRONT_OFFICE:
        return users.filter(role__in=[Role.ADMIN, Role.INTAKE])
    clinicians = Q(pk=clinician_id) if clinician_id else Q(role=Role.CLINICIAN)
    return users.filter(clinicians | Q(role=Role.ADMIN))


def alert_emails_create(alert: StaffAlert, *, recipients: QuerySet[User]) -> list[Reminder]:
    """One email per recipient of a staff alert, through the outbox: each sent once, at once (staff alerts do not
    wait for quiet hours). Runs in the transaction that raised the alert."""
    now = timezone.now()
    rows = [
        Reminder(
            patient_id=alert.patient_id,
            alert=alert,
            staff_user=user,
            channel=Channel.EMAIL,
            scheduled_for=now,
            event_at=alert.created_at,
            next_try_at=now,
        )
        for user in recipients.exclude(email="")
    ]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(Reminder.objects.filter(alert=alert, status=Reminder.Status.PENDING))
    enqueue_on_commit([row.pk for row in created])
    return created


def alerts_open_for(user: User) -> QuerySet[StaffAlert]:
    """Unacknowledged alerts this user should see, urgent first."""
    return alerts_visible_to(user).filter(acknowledged_at__isnull=True)


def get_alert_for_user(user: User, pk: int) -> StaffAlert:
    alert = alerts_visible_to(user).filter(pk=pk).first()
    if alert is None:
        raise Http404("No such alert.")
    return alert


def alerts_visible_to(user: User) -> QuerySet[StaffAlert]:
    alerts = StaffAlert.objects.select_related("patient", "acknowledged_by")
    if user.role == Role.ADMIN:
        return alerts
    if user.role == Role.CLINICIAN:
        return alerts.filter(visible_through(user, "patient"), audience=Audience.CLINICAL)
    if user.role == Role.INTAKE:
        return alerts.filter(audience=Audience.FRONT_OFFICE)
    return alerts.none()


@transaction.atomic
def staff_alert_acknowledge(*, alert: StaffAlert, by: User) -> StaffAlert:
    alert = StaffAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        raise ValidationError("This alert was already acknowledged.")
    alert.acknowledged_at, alert.acknowledged_by = timezone.now(), by
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert


def staff_alerts_acknowledge(*, key_prefix: str, by: User) -> int:
    """Acknowledge every open alert whose key starts with `key_prefix`, once the thing behind them is dealt with
    (a suicide-risk flag reviewed); returns how many."""
    alerts = list(
        StaffAlert.objects.select_for_update().filter(key__startswith=key_prefix, acknowledged_at__isnull=True)
    )
    for alert in alerts:  # one save each, so the audit log records who acknowledged every one
        alert.acknowledged_at, alert.acknowledged_by = timezone.now(), by
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return len(alerts)
