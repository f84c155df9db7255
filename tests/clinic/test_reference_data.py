"""Reference data: one service seeds the rows every clinic starts with, each app registering its own seeder."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from billing.ledger import reference_data as ledger_reference_data
from billing.models import SlidingScaleTier
from kap_clinic.kernel import reference_data
from kap_clinic.kernel.accounts import reference_data as accounts_reference_data
from kap_clinic.kernel.notifications import reference_data as notifications_reference_data
from kap_clinic.kernel.notifications.models import PreparationText, ReminderRule
from kap_clinic.rules.cadence import DEFAULT_RULES, Route
from sessions import reference_data as sessions_reference_data
from sessions.models import ClinicHours, ConsentDocument, Protocol

pytestmark = pytest.mark.django_db

SEEDED = (Group, ReminderRule, PreparationText, Protocol, ClinicHours, ConsentDocument, SlidingScaleTier)


def _counts():
    return {model.__name__: model.objects.count() for model in SEEDED}


def test_each_app_registers_its_seeder_in_app_order():
    assert reference_data.seeders() == (
        accounts_reference_data.seed,
        notifications_reference_data.seed,
        sessions_reference_data.seed,
        ledger_reference_data.seed,
    )


def test_seeding_puts_back_what_is_missing_and_adds_nothing_twice():
    before = _counts()
    assert all(before.values()), before  # the migrations seeded them
    Protocol.objects.all().delete()
    ReminderRule.objects.all().delete()
    PreparationText.objects.filter(route="iv").delete()
    SlidingScaleTier.objects.all().delete()  # the tiers are a set: put back whole when none are left
    reference_data.seed_reference_data()
    assert _counts() == before
    reference_data.seed_reference_data()
    assert _counts() == before


def test_seeding_keeps_what_the_clinic_edited():
    text = PreparationText.objects.get(route="oral")
    text.email_text = "Our own words for the oral route."
    text.save()
    ReminderRule.objects.filter(offset_minutes=2 * 60).update(is_active=False, name="Two hours, switched off")
    SlidingScaleTier.objects.filter(name="D").update(up_to_percent_of_poverty=250)
    SlidingScaleTier.objects.filter(name="A").delete()
    reference_data.seed_reference_data()
    assert list(SlidingScaleTier.objects.values_list("name", flat=True)) == ["B", "C", "D", "Full fee"]
    assert SlidingScaleTier.objects.get(name="D").up_to_percent_of_poverty == 250
    assert PreparationText.objects.get(route="oral").email_text == "Our own words for the oral route."
    assert ReminderRule.objects.get(event="dosing_session", offset_minutes=120).is_active is False


def test_protocol_rhythms_come_from_the_cadence_rules():
    Protocol.objects.all().delete()
    reference_data.seed_reference_data()
    for protocol in Protocol.objects.prefetch_related("phases"):
        rule = DEFAULT_RULES[Route(protocol.route)]
        assert protocol.session_minutes == rule.session_minutes
        assert protocol.min_interval_hours == rule.min_interval_hours
        assert list(protocol.preferred_weekdays) == list(rule.preferred_weekdays)
        phases = [(p.name, p.sessions, p.per_week, p.weeks) for p in protocol.phases.order_by("order")]
        assert phases == [(p.name, p.sessions, p.per_week, p.weeks) for p in rule.phases]


def test_a_seeder_works_on_a_historical_registry_without_later_fields():
    """Migrations call the seeders with the app registry of their time: fields added later are left out."""
    Protocol.objects.all().delete()
    sessions_reference_data.seed_protocols(apps)
    assert Protocol.objects.filter(route="intranasal", requires_rems=True).exists()
    protocol_fields = {"name", "route", "a_field_from_the_future"}
    assert reference_data.known_fields(Protocol, {name: 1 for name in protocol_fields}) == {"name": 1, "route": 1}


def test_the_kernel_registry_imports_no_app():
    source = open(reference_data.__file__).read()
    for app in ("patients", "screening", "sessions", "aftercare", "billing"):
        assert f"import {app}" not in source and f"from {app}" not in source
