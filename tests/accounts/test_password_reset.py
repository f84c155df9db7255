"""A patient who forgot their portal password resets it through an emailed single-use link.

The page answers the same whether or not the address has an account; the email leaves through the outbox (so a
broker outage only delays it); staff accounts get no link (an admin resets them); requests and resets are audited.
"""

import re

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.urls import reverse

from kap_clinic.kernel.outbox.models import OutboxEmail
from kap_clinic.kernel.outbox.tasks import release_outbox_emails
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

RESET = reverse("accounts:password_reset")
NEW_PASSWORD = "amber-lantern-quietly-87"


@pytest.fixture
def portal_patient(patient, patient_user):
    patient_user.email = "ada@example.org"
    patient_user.save(update_fields=["email"])
    return patient_user


def ask(client, email, ip="203.0.113.4"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)


def test_a_patient_resets_a_forgotten_password_through_the_emailed_link(client, portal_patient):
    mail.outbox = []
    response = ask(client, "ADA@example.org")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    release_outbox_emails.apply()
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert "password" in message.subject.lower()
    assert "&#x27;" not in message.body and "ketamine" not in message.body.lower()

    page = client.get(link_in(message), follow=True)
    assert page.status_code == 200 and "Choose a new password" in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_reset_complete")
    portal_patient.refresh_from_db()
    assert portal_patient.check_password(NEW_PASSWORD)
    # The link works once.
    again = client.get(link_in(message), follow=True)
    assert "This link does not work" in again.content.decode()
    events = LogEntry.objects.filter(object_pk=str(portal_patient.pk), additional_data__event__isnull=False)
    assert sorted(e.additional_data["event"] for e in events) == [
        "password reset link emailed",
        "password set through a reset link",
        "password_changed",  # the security log's own entry for every password change
    ]


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(client, portal_patient, clinician):
    mail.outbox = []
    clinician.email = "doc@example.org"
    clinician.save(update_fields=["email"])
    answers = [ask(client, address) for address in ("ada@example.org", "nobody@example.org", "doc@example.org")]
    assert {(r.status_code, r["Location"]) for r in answers} == {(302, reverse("accounts:password_reset_done"))}
    release_outbox_emails.apply()
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]  # staff get no link: an admin resets them


@pytest.mark.django_db(transaction=True)
def test_a_reset_requested_while_the_broker_is_down_waits_in_the_outbox(client, portal_patient, monkeypatch):
    from kombu.exceptions import OperationalError

    from kap_clinic.kernel.outbox import tasks

    def refused(*args, **kwargs):
        raise OperationalError("Connection refused.")

    mail.outbox = []
    monkeypatch.setattr(tasks.send_outbox_email, "apply_async", refused)
    with_commit = ask(client, "ada@example.org")
    assert with_commit.status_code == 302
    assert OutboxEmail.objects.get(kind="password_reset").status == "pending"


def test_one_address_cannot_flood_a_patient_with_reset_emails(client, portal_patient, settings):
    settings.PASSWORD_RESET_PER_HOUR = 2
    mail.outbox = []
    for _ in range(4):
        assert ask(client, "ada@example.org").status_code == 302
    release_outbox_emails.apply()
    assert len(mail.outbox) == 2


def test_the_sign_in_page_links_to_the_reset(client):
    assert RESET in client.get(reverse("accounts:login")).content.decode()


def test_the_old_password_still_works_until_the_reset_is_completed(client, portal_patient):
    ask(client, "ada@example.org")
    response = client.post(reverse("accounts:login"), {"username": "patient1", "password": PASSWORD})
    assert response.status_code == 302
