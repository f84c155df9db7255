"""The email outbox: a portal invitation sent while the broker is down still answers and is sent by the sweep, once.

The broker failure is simulated as in tests/notifications/test_broker_down.py: publishing raises kombu's
OperationalError, as it does when Redis refuses the connection.
"""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from kap_clinic.kernel.outbox import services, tasks
from kap_clinic.kernel.outbox.models import OutboxEmail
from patients.services import patient_create

pytestmark = pytest.mark.django_db(transaction=True)


def refuse_broker(monkeypatch):
    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_outbox_email, "apply_async", refused)


def test_an_invitation_sent_while_the_broker_is_down_answers_and_the_sweep_sends_it_once(
    client_for, front_desk, monkeypatch
):
    mail.outbox = []
    patient = patient_create(
        created_by=front_desk,
        given_name="Rowan",
        family_name="O'Brien",
        date_of_birth=date(1984, 6, 2),
        email="rowan@example.org",
    )
    real = tasks.send_outbox_email.apply_async
    refuse_broker(monkeypatch)
    response = client_for(front_desk).post(reverse("patients:invite", kwargs={"pk": patient.pk}))
    assert response.status_code == 302
    [row] = OutboxEmail.objects.all()
    assert row.status == "pending" and row.kind == "portal_invitation"
    assert mail.outbox == []

    monkeypatch.setattr(tasks.send_outbox_email, "apply_async", real)
    tasks.release_outbox_emails.apply()
    tasks.release_outbox_emails.apply()  # nothing left for a second sweep
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rowan@example.org"]
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1


def test_one_key_writes_one_email():
    mail.outbox = []
    for _ in range(2):
        services.email_outbox_send(to="a@example.org", subject="Hi", text="Body", kind="test", key="same-key")
    assert OutboxEmail.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_later_with_backoff(settings):
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.RefusingBackend"
    row = services.email_outbox_send(to="a@example.org", subject="Hi", text="Body", kind="test", key="k1")
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1 and row.status_reason.startswith("Retrying")
    assert row.next_try_at > timezone.now()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert services.outbox_email_deliver(email_id=row.pk) is None  # not due yet
    services.outbox_email_deliver(email_id=row.pk, now=row.next_try_at + timedelta(seconds=1))
    assert len(mail.outbox) == 1


def test_a_send_interrupted_by_a_crash_is_settled_through_its_key_not_sent_twice(settings):
    mail.outbox = []
    row = services.email_outbox_send(to="a@example.org", subject="Hi", text="Body", kind="test", key="k2")
    row.refresh_from_db()
    assert row.status == "sent"
    # The worker died after the mail server accepted it but before the row was marked: the sweep finds the key.
    OutboxEmail.objects.filter(pk=row.pk).update(status="sending", claimed_at=timezone.now() - timedelta(hours=1))
    assert services.outbox_settle_stale() == {row.pk: "sent"}
    assert len(mail.outbox) == 1


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")


def test_the_admin_home_counts_failed_emails(client_for, admin_user, settings):
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.RefusingBackend"
    settings.REMINDER_MAX_ATTEMPTS = 1
    services.email_outbox_send(to="a@example.org", subject="Hi", text="Body", kind="portal_invitation", key="k3")
    client = client_for(admin_user)
    page = client.get(reverse("homes:home")).content.decode()
    assert "1 invitation or password-reset email failed" in page
    listing = client.get(reverse("admin:outbox_outboxemail_changelist") + "?status__exact=failed")
    assert listing.status_code == 200
    assert "Body" not in listing.content.decode()  # the body may hold a single-use link
