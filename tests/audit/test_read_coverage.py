"""Every page or file that shows a patient's data records a read: the clinic's accounting of disclosures.

The walk reuses the authorization matrix: each GET that answers 200 to a signed-in principal must write at least one
read entry naming patient A (whose data every matrix object is), by that principal. Pages that show no patient's data
are listed below with the reason; a new page is covered as soon as its matrix row is added.
"""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sign_in
from tests.test_authorization import ANON, MATRIX, OK, _kwargs, _objects, people  # noqa: F401 - `people` is a fixture

pytestmark = pytest.mark.django_db

# url name -> why the page shows no patient's data.
NO_PATIENT_DATA = {
    "clinic:health": "the liveness probe answers 'ok'",
    "clinic:settings": "the clinic's own settings",
    "accounts:login": "the sign-in form",
    "accounts:two_factor_verify": "the sign-in code form",
    "accounts:two_factor_setup": "the authenticator set-up for the signed-in person",
    "accounts:password_change": "the signed-in person's password form",
    "invite_accept": "a set-password form that names nobody",
    "homes:audit_log": "the accounting of disclosures itself: chart numbers and actions, no record content",
    "patients:create": "an empty registration form",
    "screening:self_report": "a blank questionnaire for the patient to fill",
    "sessions:portal_calendar": "the patient's calendar link settings: no appointment on the page",
    "sessions:cs_lot_list": "stock per product and lot",
    "sessions:cs_receive": "the form to receive a lot",
    "sessions:cs_reconcile": "a lot's balance and the count form",
    "billing:payer_list": "the payers the clinic bills",
    "billing:fee_schedule": "the clinic's prices",
    # Calendar apps poll the feed every few minutes without anyone signed in; each fetch is kept on the feed
    # (last_fetched_at), and the feed holds appointment times only (tests/sessions/test_calendar_feed.py).
    "sessions:calendar_feed": "a calendar app's poll, kept on the feed itself",
    "calendar_feed": "the calendar feed's older address: a calendar app's poll, kept on the feed itself",
    # Staff accounts and their second factor: staff, never patients.
    "accounts:backup_codes": "the signed-in person's backup codes",
    "accounts:password_reset": "the forgotten-password form, the same answer for any address",
    "accounts:password_reset_done": "a page saying a link is on its way if the address is known",
    "accounts:password_reset_confirm": "a set-password form reached through an emailed link",
    "accounts:password_reset_complete": "a page saying the password was changed",
    "accounts:staff_list": "the clinic's staff accounts",
    "accounts:staff_create": "the form for a new staff account",
    "accounts:staff_edit": "a staff account",
    "exports:index": "the list of downloads and the report period form",
    "exports:outcomes": "clinic-wide counts and rates: no patient is named",
    "exports:operations": "counts per week, room and clinician; authorizations named by payer and number",
    "reports:index": "the report forms and the signed-in person's own background reports, by kind and date",
    "reports:job": "a background report's progress; its file is recorded as read when downloaded",
    "reports:job_progress": "a background report's progress bar",
}
# A name here that is not (yet) a URL of the project exempts nothing: the walk starts from the matrix.

# (url name, principal) -> why that principal's page shows nothing of patient A in this fixture.
NOT_SHOWN = {
    ("notifications:alerts", "intake"): "the fixture's alert is clinical: intake staff are not in its audience",
}

# Lists show patient A only when the matrix object they list exists: url name -> the object kind to build.
LIST_OBJECTS = {
    "sessions:rems_pending": "rems_session",
    "billing:authorization_list": "authorization",
    "billing:preauth_work": "work_item",
    "notifications:list": "reminder",
    "notifications:alerts": "staff_alert",
    "aftercare:portal_checkins": "checkin",
    "exports:checkins": "checkin",
    "exports:authorizations": "authorization",
    "billing:period_superbill": "invoice",
    "billing:portal_period_superbill": "invoice",
}


def _dose_from_lot(objects, clinician):
    from sessions.controlled.services import cs_dose_record

    cs_dose_record(
        lot=objects["lot"], session=objects["session"], drawn_mg="35", administered_mg="35", wasted_mg="0", by=clinician
    )


def _day_of_the_session(objects):
    """The schedule of the day patient A's first session falls on (the protocol's weekdays decide which day)."""
    return {"day": timezone.localtime(objects["session"].starts_at).date().isoformat()}


def _period_of_the_invoice(objects):
    """The superbill over a period that holds the invoiced line: the walk downloads the PDF, not the form."""
    day = objects["invoice"].lines.get().service_date
    return {"start": day.isoformat(), "end": day.isoformat()}


# url name -> (extra data, query string or a function of the objects giving it) beyond the matrix objects, so that
# the page shows patient A.
EXTRA = {
    "sessions:cs_lot_log": (_dose_from_lot, {}),
    "sessions:schedule": (None, _day_of_the_session),
    "billing:period_superbill": (None, _period_of_the_invoice),
    "billing:portal_period_superbill": (None, _period_of_the_invoice),
}


def _cases():
    for url_name, (_kind, method, expected) in sorted(MATRIX.items()):
        if method != "get" or url_name in NO_PATIENT_DATA:
            continue
        for role, outcome in expected.items():
            if role != ANON and outcome == OK and (url_name, role) not in NOT_SHOWN:
                yield url_name, role


def test_the_per_principal_allow_list_names_real_urls():
    assert {url for url, _ in NOT_SHOWN} <= set(MATRIX) and {url for url, _ in NOT_SHOWN}.isdisjoint(NO_PATIENT_DATA)


@pytest.mark.parametrize(("url_name", "role"), list(_cases()))
def test_every_page_showing_a_patient_records_a_read_of_that_patient(client, people, patient, url_name, role):  # noqa: F811
    if role not in people:
        pytest.skip(f"no test user for {role}")
    kind = MATRIX[url_name][0]
    objects = _objects(patient, people["intake"], people["clinician"], LIST_OBJECTS.get(url_name, kind))
    extra, query = EXTRA.get(url_name, (None, {}))
    if extra is not None:
        extra(objects, people["clinician"])
    if callable(query):
        query = query(objects)
    url = reverse(url_name, kwargs=_kwargs(kind, patient, objects))
    user = people[role]
    sign_in(client, user)
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user, additional_data__patient_id=patient.pk)
    before = reads.count()

    response = client.get(url, query)

    assert response.status_code == 200, url
    assert reads.count() > before, f"{url_name} shows patient data to {role} but records no read"


@pytest.mark.parametrize("url_name", sorted(set(NO_PATIENT_DATA) & set(MATRIX)))
def test_pages_said_to_show_no_patient_data_do_not_name_the_patient(client, people, patient, url_name):  # noqa: F811
    """Keeps the allow-list honest: none of these pages shows patient A's chart number or name to anyone."""
    kind, method, expected = MATRIX[url_name]
    if kind == "invite" or url_name == "homes:audit_log":
        return  # signed-in principals are refused the invitation; the log names chart numbers by design
    objects = _objects(patient, people["intake"], people["clinician"], kind)
    # A staff account's page takes the account's id (the matrix test builds it the same way).
    kwargs = {"pk": people["clinician"].pk} if kind == "staff" else _kwargs(kind, patient, objects)
    url = reverse(url_name, kwargs=kwargs)
    for role, outcome in expected.items():
        if role == ANON or outcome != OK or role not in people:
            continue
        client.logout()
        sign_in(client, people[role])
        response = client.get(url)
        # A download streams (a CSV a line at a time): read it whole.
        body = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
        assert patient.mrn not in body and patient.family_name not in body, (url_name, role)
