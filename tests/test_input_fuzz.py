"""Generated junk posted to every form of the clinic: never a 5xx, never a half-saved or implausible record.

The forms are found the way a person finds them: every URL of the authorization matrix is opened as a role that may
use it (for a button-only URL, the page that shows its form), and the names of the form's fields are read from the
page. Each example posts junk under those names (text of any script, NUL characters, 12,000- and 60,000-character
strings, numbers far out of range, dates in the years 1 and 9999, several values for one field, missing fields).
Pages with a search or filter form get junk in their query string too. Every answer must be below 500; an answer
that refuses the input (4xx) must leave the clinic's tables as they were (the read audit and sign-in attempts may
grow); and after the run no row of the clinic holds a NUL character, an over-long text or a date outside 1900–2100.

`KAP_FUZZ_EXAMPLES` sets the examples per form (default 6): raise it locally to search harder.
"""

import os
from datetime import date, datetime
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kap_clinic.kernel.validation import EARLIEST_DATE, LATEST_DATE, NOTE_MAX
from tests.conftest import sign_in
from tests.test_authorization import (
    ADMIN,
    ANON,
    BAD,
    CLINICIAN,
    INTAKE,
    MATRIX,
    OK,
    PATIENT,
    REDIRECT,
    _kwargs,
    _objects,
)

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("KAP_FUZZ_EXAMPLES", "6"))

# Buttons whose effect is the whole point (signing out, a test task) or whose credential is in the address.
NOT_FORMS = {"accounts:logout", "clinic:worker_check", "sessions:calendar_feed", "clinic:health"}

# A URL that only accepts POST has its form on another page: (page, the matrix's object kind for that page).
FORM_PAGE = {
    "homes:patient_transition": ("homes:patient_chart", "patient_a"),
    "screening:sign_off": ("screening:detail", "screening"),
    "sessions:session_cancel": ("sessions:plan_detail", "plan"),
    "sessions:rems_submit": ("sessions:rems_detail", "rems_session"),
    "aftercare:integration_cancel": ("aftercare:patient", "patient_fk"),
    "billing:authorization_transition": ("billing:authorization_detail", "authorization"),
    "billing:invoice_void": ("billing:invoice_detail", "invoice"),
}
# Steps of the session record show only in the state that needs them; their fields come from the step forms.
RECORD_STEP = "sessions:record_"

PROJECT_APPS = {"patients", "screening", "treatment_sessions", "aftercare", "billing", "notifications", "clinic"}

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999999",
    "-0.0001",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "2027-02-30",
    "31/12/2027",
    "25:61",
    "\x00",
    "Ada\x00Quill",
    "x" * 12_000,
    "y" * 60_000,
    "on",
    "true",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮ 🙂",
    "١٢٣",
    "${jndi:ldap://x}",
]
JUNK = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M")),
)
VALUE = st.one_of(JUNK, st.lists(JUNK, min_size=2, max_size=3))


class _FormFields(HTMLParser):
    """Field names per (method, action) of the forms on a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str, set[str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(((attrs.get("method") or "get").lower(), attrs.get("action") or "", set()))
        elif tag in ("input", "select", "textarea", "button") and self.forms and attrs.get("name"):
            if attrs["name"] != "csrfmiddlewaretoken":
                self.forms[-1][2].add(attrs["name"])


def _names_on(page: str, url: str, method: str = "post") -> set[str]:
    parser = _FormFields()
    parser.feed(page)
    names = set()
    for form_method, action, fields in parser.forms:
        if form_method == method and action.split("#")[0] in ("", url):
            names |= fields
    return names


def _record_step_names(url_name: str) -> set[str]:
    from sessions.record.views import FORMS

    prefixes = {
        "check": "check",
        "bp_acknowledge": "bp",
        "dose": "dose",
        "vitals": "vitals",
        "score": "score",
        "adverse_event": "event",
        "adverse_event_resolve": "resolve",
        "discharge": "discharge",
        "sign": "sign",
        "amend": "amend",
    }
    prefix = prefixes.get(url_name.removeprefix(RECORD_STEP))
    if prefix is None:
        return set()
    form = FORMS[prefix](prefix=prefix)
    return {form[name].html_name for name in form.fields}


def _role_for(expected: dict) -> str | None:
    for role in (CLINICIAN, INTAKE, ADMIN, PATIENT, ANON):
        if expected[role] in (OK, REDIRECT, BAD):
            return role
    return None


def _form_urls():
    for name, (_kind, _method, expected) in sorted(MATRIX.items()):
        if name not in NOT_FORMS and _role_for(expected) is not None:
            yield name


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS | {"accounts"} and not model._meta.proxy
    }


def _implausible_rows() -> list[str]:
    """Every stored text free of NUL and within its cap; every stored date between 1900 and 2100."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        texts = [f for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        days = [f for f in model._meta.concrete_fields if isinstance(f, models.DateField)]
        for row in model._default_manager.values("pk", *[f.attname for f in texts + days]):
            for field in texts:
                value = row[field.attname] or ""
                if "\x00" in value or len(value) > (field.max_length or NOTE_MAX):
                    found.append(f"{model._meta.label}#{row['pk']}.{field.name}: {len(value)} characters")
            for field in days:
                value = row[field.attname]
                day = value.date() if isinstance(value, datetime) else value
                if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
                    found.append(f"{model._meta.label}#{row['pk']}.{field.name}: {value}")
    return found


@pytest.fixture
def people(admin_user, clinician, front_desk, patient_user, patient):
    return {ADMIN: admin_user, CLINICIAN: clinician, INTAKE: front_desk, PATIENT: patient_user}


def _url_and_kwargs(url_name, kind, patient, people, objects):
    if kind == "invite":
        from patients.models import Patient
        from patients.services import invite_token, patient_invite

        other = Patient.objects.create(
            mrn="KAP-00000001", given_name="I", family_name="Nvite", date_of_birth="1990-01-01", email="i@example.org"
        )
        return reverse(url_name, kwargs={"token": invite_token(patient_invite(patient=other, by=people[INTAKE]))})
    return reverse(url_name, kwargs=_kwargs(kind, patient, objects))


@pytest.mark.parametrize("url_name", list(_form_urls()))
def test_junk_posted_to_a_form_is_refused_cleanly(client, people, patient, url_name):
    kind, method, expected = MATRIX[url_name]
    role = _role_for(expected)
    needs_objects = kind not in (None, "patient_a", "patient_fk", "self_report", "invite")
    page_kind = FORM_PAGE.get(url_name, (None, kind))[1]
    objects = {}
    if needs_objects or page_kind not in (None, "patient_a", "patient_fk", "self_report"):
        objects = _objects(patient, people[INTAKE], people[CLINICIAN], kind if needs_objects else page_kind)
    url = _url_and_kwargs(url_name, kind, patient, people, objects)
    if role != ANON:
        sign_in(client, people[role])

    if method == "get":
        page_url = url
    elif url_name in FORM_PAGE:
        page_name, page_kind = FORM_PAGE[url_name]
        page_url = reverse(page_name, kwargs=_kwargs(page_kind, patient, objects))
    else:
        page_url = None
    names, query_names = set(), set()
    if page_url is not None:
        page = client.get(page_url)
        assert page.status_code < 500, page_url
        if page["Content-Type"].startswith("text/html"):  # not a PDF or a calendar file
            names = _names_on(page.content.decode(), url)
            if page_url == url:
                query_names = _names_on(page.content.decode(), url, "get")
    if url_name.startswith(RECORD_STEP):
        names |= _record_step_names(url_name)
    if not names and method == "get" and not query_names:
        return  # a page without a form of its own
    names = sorted(names | {"next", "action"})  # read straight from the request by some views

    def post(data: dict) -> None:
        before = _counts()
        response = client.post(url, data)
        assert response.status_code < 500, (url, data)
        if 400 <= response.status_code < 500:
            assert _counts() == before, f"{url}: refused ({response.status_code}) but something was saved"

    def get(data: dict) -> None:
        response = client.get(url, data)
        assert response.status_code < 500, (url, data)

    # The payloads the fuzzing found first: the years 1 and 9999, NUL characters, huge text and numbers.
    for nasty in ("0001-01-01", "9999-12-31T23:59", "a\x00b", "x" * 12_000, "y" * 60_000, "9" * 30):
        post(dict.fromkeys(names, nasty))
        if query_names:
            get(dict.fromkeys(query_names, nasty))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each try is a request
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        st.fixed_dictionaries({}, optional=dict.fromkeys(names, VALUE)),
        st.fixed_dictionaries({}, optional=dict.fromkeys(sorted(query_names), VALUE)),
    )
    def fuzz(data, query):
        post(data)
        if query_names:
            get(query)

    fuzz()
    assert _implausible_rows() == []


def test_the_fuzzer_finds_the_fields_people_fill_in(client, front_desk, clinician):
    sign_in(client, front_desk)
    url = reverse("patients:create")
    assert {"given_name", "date_of_birth", "weight_kg"} <= _names_on(client.get(url).content.decode(), url)
    schedule = reverse("sessions:schedule")
    assert "day" in _names_on(client.get(schedule).content.decode(), schedule, "get")
    assert {"event-onset_at", "event-details"} <= _record_step_names("sessions:record_adverse_event")
