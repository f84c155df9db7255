"""The clinic's own sliding-fee tiers: seeded with the usual ones, edited by admins (who cannot make them overlap or
give more discount to higher incomes), read by the assessment, which keeps the tier it found."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from billing.ledger.reference_data import seed_tiers
from billing.ledger.sliding_scale import current_tiers, sliding_scale_assess
from billing.models import SlidingScaleTier
from kap_clinic.rules.sliding_scale import DEFAULT_TIERS, Tier, check_tiers, tier_for

FPG_2025 = {"first_person": Decimal("15650"), "each_additional": Decimal("5500")}
ON = date(2026, 3, 2)


def assess(patient, by, income, size=1):
    return sliding_scale_assess(
        patient=patient,
        household_size=size,
        household_income=Decimal(income),
        evidence="tax_return",
        by=by,
        on=ON,
    )


# ---- The pure rule, given any usable set of tiers -------------------------------------------------------------


@st.composite
def tier_sets(draw):
    """A usable set: increasing bounds, discounts that never grow with income, an open-ended top tier."""
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=600), max_size=6)))
    discounts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(bounds) + 1, max_size=len(bounds) + 1)))
    discounts.reverse()
    names = [f"T{i}" for i in range(len(bounds) + 1)]
    return (
        *(Tier(n, b, d) for n, b, d in zip(names, bounds, discounts, strict=False)),
        Tier(names[-1], None, discounts[-1]),
    )


incomes = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)
sizes = st.integers(min_value=1, max_value=12)


@given(tier_sets(), incomes, incomes, sizes)
def test_more_income_never_earns_a_bigger_discount_under_any_usable_tiers(tiers, a, b, size):
    check_tiers(tiers)
    low, high = sorted((a, b))
    found = [tier_for(income=x, household_size=size, tiers=tiers, **FPG_2025) for x in (low, high)]
    assert found[0].discount_percent >= found[1].discount_percent


@pytest.mark.parametrize(
    ("tiers", "words"),
    [
        ((Tier("A", 100, 100), Tier("B", 100, 50), Tier("Full", None, 0)), "overlap"),
        ((Tier("A", 150, 100), Tier("B", 125, 50), Tier("Full", None, 0)), "overlap"),
        ((Tier("A", 100, 50), Tier("B", 150, 75), Tier("Full", None, 0)), "bigger discount"),
        ((Tier("A", 100, 100), Tier("B", 200, 50)), "no upper bound"),
        ((Tier("A", None, 100), Tier("Full", None, 0)), "only the top tier"),
        ((Tier("A", 100, 120), Tier("Full", None, 0)), "between 0 and 100"),
        ((), "no sliding-fee tiers"),
    ],
)
def test_unusable_tier_sets_are_refused_with_the_reason(tiers, words):
    with pytest.raises(ValueError, match=words):
        check_tiers(tiers)


def test_the_default_tiers_are_a_usable_set():
    check_tiers(DEFAULT_TIERS)


# ---- Seeded, and held by the database ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_table_starts_with_the_usual_tiers_and_seeding_keeps_the_clinics_own():
    assert current_tiers() == DEFAULT_TIERS
    SlidingScaleTier.objects.filter(name="B").update(up_to_percent_of_poverty=130)
    seed_tiers(__import__("django.apps", fromlist=["apps"]).apps)
    assert [t.up_to_percent for t in current_tiers()] == [100, 130, 150, 200, None]
    SlidingScaleTier.objects.all().delete()
    seed_tiers(__import__("django.apps", fromlist=["apps"]).apps)
    assert current_tiers() == DEFAULT_TIERS


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {"name": "X", "up_to_percent_of_poverty": 300, "discount_percent": 101},
        {"name": "X", "up_to_percent_of_poverty": 0, "discount_percent": 0},
        {"name": "X", "up_to_percent_of_poverty": 125, "discount_percent": 10},  # B already ends at 125 %
        {"name": "X", "up_to_percent_of_poverty": None, "discount_percent": 0},  # a second open-ended tier
    ],
)
def test_the_database_refuses_impossible_tiers(values):
    with pytest.raises(IntegrityError), transaction.atomic():
        SlidingScaleTier.objects.create(**values)


# ---- Boundaries, with the seeded tiers and an admin-edited set --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("income", "size", "tier", "discount"),
    [
        ("15650.00", 1, "A", 100),  # exactly 100 %
        ("15650.01", 1, "B", 75),  # a cent above
        ("31300.00", 1, "D", 25),  # exactly 200 %
        ("31300.01", 1, "Full fee", 0),
        ("64300.00", 4, "D", 25),
        ("64300.01", 4, "Full fee", 0),
    ],
)
def test_seeded_tier_boundaries(patient, front_desk, income, size, tier, discount):
    assessment = assess(patient, front_desk, income, size)
    assert (assessment.tier, assessment.discount_percent) == (tier, discount)


def _admin_edit(client, tier, **changes):
    values = {
        "name": tier.name,
        "up_to_percent_of_poverty": "" if tier.up_to_percent_of_poverty is None else tier.up_to_percent_of_poverty,
        "discount_percent": tier.discount_percent,
        **changes,
    }
    return client.post(reverse("admin:billing_slidingscaletier_change", args=[tier.pk]), values)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("income", "tier", "discount"),
    [
        ("15650.00", "A", 100),
        ("15650.01", "B", 60),
        ("21910.00", "B", 60),  # exactly 140 % of 15,650
        ("21910.01", "C", 50),
        ("39125.00", "D", 25),  # exactly 250 %
        ("39125.01", "Full fee", 0),
    ],
)
def test_boundaries_move_when_an_admin_edits_the_tiers(
    client_for, admin_user, patient, front_desk, income, tier, discount
):
    client = client_for(admin_user)
    assert (
        _admin_edit(
            client, SlidingScaleTier.objects.get(name="B"), up_to_percent_of_poverty=140, discount_percent=60
        ).status_code
        == 302
    )
    assert _admin_edit(client, SlidingScaleTier.objects.get(name="D"), up_to_percent_of_poverty=250).status_code == 302
    assessment = assess(patient, front_desk, income)
    assert (assessment.tier, assessment.discount_percent) == (tier, discount)


@pytest.mark.django_db
def test_the_admin_refuses_overlapping_or_out_of_order_tiers(client_for, admin_user):
    client = client_for(admin_user)
    before = list(SlidingScaleTier.objects.values_list("name", "up_to_percent_of_poverty", "discount_percent"))
    overlap = _admin_edit(client, SlidingScaleTier.objects.get(name="C"), up_to_percent_of_poverty=125)
    assert overlap.status_code == 200
    assert "Tiers B and C overlap: both end at 125% of the guideline" in overlap.content.decode()
    # B moved above C would give higher incomes the bigger discount.
    crossed = _admin_edit(client, SlidingScaleTier.objects.get(name="B"), up_to_percent_of_poverty=160)
    assert crossed.status_code == 200
    assert "would give a bigger discount (75%) than tier C below it (50%)" in crossed.content.decode()
    more = client.post(
        reverse("admin:billing_slidingscaletier_add"),
        {"name": "E", "up_to_percent_of_poverty": "", "discount_percent": "0"},
    )
    assert more.status_code == 200 and "only the top tier is open-ended" in more.content.decode()
    assert list(SlidingScaleTier.objects.values_list("name", "up_to_percent_of_poverty", "discount_percent")) == before
    top = SlidingScaleTier.objects.get(up_to_percent_of_poverty__isnull=True)
    assert (
        client.post(reverse("admin:billing_slidingscaletier_delete", args=[top.pk]), {"post": "yes"}).status_code == 403
    )
    added = client.post(
        reverse("admin:billing_slidingscaletier_add"),
        {"name": "E", "up_to_percent_of_poverty": "300", "discount_percent": "10"},
    )
    assert added.status_code == 302 and [t.name for t in current_tiers()] == ["A", "B", "C", "D", "E", "Full fee"]


@pytest.mark.django_db
def test_an_assessment_keeps_the_tier_it_found_after_the_tiers_change(client_for, admin_user, patient, front_desk):
    before = assess(patient, front_desk, "20000")  # 127.8 %: tier C, 50 %
    assert (before.tier, before.tier_up_to_percent, before.discount_percent) == ("C", 150, 50)
    assert (
        _admin_edit(client_for(admin_user), SlidingScaleTier.objects.get(name="C"), discount_percent=40).status_code
        == 302
    )
    before.refresh_from_db()
    assert (before.tier, before.tier_up_to_percent, before.discount_percent, before.percent_of_guideline) == (
        "C",
        150,
        50,
        Decimal("127.8"),
    )
    assert assess(patient, front_desk, "20000").discount_percent == 40
