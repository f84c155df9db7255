"""Sliding-fee tiers against the year's poverty guideline: exact boundaries, properties over any income and household,
and the tier recorded per patient with its evidence."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from billing.ledger.sliding_scale import current_discount, sliding_scale_assess
from billing.models import PovertyGuideline, SlidingScaleAssessment
from kap_clinic.rules.sliding_scale import DEFAULT_TIERS, discounted, percent_of_guideline, poverty_guideline, tier_for

FPG_2025 = {"first_person": Decimal("15650"), "each_additional": Decimal("5500")}


def tier(income, size=1):
    return tier_for(income=Decimal(income), household_size=size, tiers=DEFAULT_TIERS, **FPG_2025)


def test_the_2025_guideline_grows_by_5500_per_person():
    assert poverty_guideline(household_size=1, **FPG_2025) == Decimal("15650")
    assert poverty_guideline(household_size=4, **FPG_2025) == Decimal("32150")


@pytest.mark.parametrize(
    ("income", "size", "name", "discount"),
    [
        ("0", 1, "A", 100),
        ("15650.00", 1, "A", 100),  # exactly 100 %: full discount
        ("15650.01", 1, "B", 75),
        ("19562.50", 1, "B", 75),  # exactly 125 %
        ("19562.51", 1, "C", 50),
        ("23475.00", 1, "C", 50),  # exactly 150 %
        ("23475.01", 1, "D", 25),
        ("31300.00", 1, "D", 25),  # exactly 200 %: still discounted
        ("31300.01", 1, "Full fee", 0),  # above 200 %: none
        ("32150.00", 4, "A", 100),
        ("64300.00", 4, "D", 25),
        ("64300.01", 4, "Full fee", 0),
    ],
)
def test_tier_boundaries(income, size, name, discount):
    found = tier(income, size)
    assert (found.name, found.discount_percent) == (name, discount)


def test_impossible_households_and_incomes_are_refused():
    with pytest.raises(ValueError):
        tier("100", 0)
    with pytest.raises(ValueError):
        tier("-1")


incomes = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)
sizes = st.integers(min_value=1, max_value=12)


@given(incomes, incomes, sizes)
def test_more_income_never_earns_a_bigger_discount(a, b, size):
    low, high = sorted((a, b))
    assert tier(low, size).discount_percent >= tier(high, size).discount_percent


@given(incomes, sizes)
def test_a_bigger_household_never_loses_discount(income, size):
    assert tier(income, size + 1).discount_percent >= tier(income, size).discount_percent


@given(incomes, sizes)
def test_full_discount_at_or_below_the_guideline_and_none_above_twice_it(income, size):
    line = poverty_guideline(household_size=size, **FPG_2025)
    found = tier(income, size)
    assert found in DEFAULT_TIERS
    if income <= line:
        assert found.discount_percent == 100
    if income > 2 * line:
        assert found.discount_percent == 0


@given(st.decimals(min_value=0, max_value=100_000, places=2), st.sampled_from([0, 25, 50, 75, 100]))
def test_a_discounted_amount_is_in_cents_and_never_more_than_the_amount(amount, percent):
    result = discounted(amount, percent)
    assert result == result.quantize(Decimal("0.01"))
    assert Decimal(0) <= result <= amount


# ---- Recorded per patient ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_2025_guideline_is_on_file():
    guideline = PovertyGuideline.objects.get(year=2025)
    assert (guideline.first_person, guideline.each_additional) == (Decimal("15650.00"), Decimal("5500.00"))


@pytest.mark.django_db
def test_an_assessment_records_tier_evidence_who_and_when(patient, front_desk):
    assessment = sliding_scale_assess(
        patient=patient,
        household_size=3,
        household_income=Decimal("30000"),
        evidence="tax_return",
        evidence_note="2025 Form 1040",
        by=front_desk,
        on=date(2026, 3, 2),
    )
    # 2026 has no figures on file: the latest before it (2025) applies. 30,000 / 26,650 = 112.6 %.
    assert assessment.guideline.year == 2025
    assert (assessment.tier, assessment.tier_up_to_percent, assessment.discount_percent) == ("B", 125, 75)
    assert assessment.percent_of_guideline == Decimal("112.6")
    assert assessment.verified_by == front_desk and assessment.verified_at is not None
    assert assessment.get_evidence_display() == "Tax return"
    assert assessment.review_by == date(2027, 3, 2)
    assert current_discount(patient.pk, on=date(2026, 6, 1)) == 75
    assert current_discount(patient.pk, on=date(2027, 3, 3)) == 0  # not verified again: full fees


@pytest.mark.django_db
def test_a_newer_years_guideline_is_used_once_an_admin_adds_it(patient, front_desk):
    PovertyGuideline.objects.create(year=2026, first_person=Decimal("16000"), each_additional=Decimal("5600"))
    assessment = sliding_scale_assess(
        patient=patient,
        household_size=1,
        household_income=Decimal("15900"),
        evidence="pay_stubs",
        by=front_desk,
        on=date(2026, 3, 2),
    )
    assert assessment.guideline.year == 2026 and assessment.tier == "A"


@pytest.mark.django_db
def test_only_front_office_staff_assess_and_evidence_is_required(patient, clinician, front_desk):
    with pytest.raises(PermissionDenied):
        sliding_scale_assess(
            patient=patient, household_size=1, household_income=Decimal("1"), evidence="tax_return", by=clinician
        )
    with pytest.raises(ValidationError):
        sliding_scale_assess(
            patient=patient, household_size=1, household_income=Decimal("1"), evidence="", by=front_desk
        )


@pytest.mark.django_db
def test_the_billing_page_records_and_shows_the_tier(client_for, patient, front_desk):
    client = client_for(front_desk)
    url = reverse("billing:sliding_scale", kwargs={"patient_pk": patient.pk})
    response = client.post(
        url, {"household_size": "2", "household_income": "40000", "evidence": "benefits", "evidence_note": ""}
    )
    assert response.status_code == 302
    assessment = SlidingScaleAssessment.objects.get(patient=patient)
    assert (assessment.tier, assessment.discount_percent) == ("D", 25)  # 40,000 / 21,150 = 189 %
    page = client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk}))
    assert b"Tier D: 25% discount" in page.content and b"Benefits letter" in page.content
    assert b"by Intake1 Tester on" in page.content and b"user #" not in page.content  # who checked, by name
    client.post(url, {"household_size": "3", "household_income": "40000", "evidence": "benefits"})
    page = client.get(reverse("billing:patient_billing", kwargs={"patient_pk": patient.pk}))
    assert b"Benefits letter, Intake1 Tester)" in page.content and b"user #" not in page.content  # earlier ones too
    refused = client.post(url, {"household_size": "0", "household_income": "1", "evidence": "benefits"})
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("income", "shown", "name"),
    [
        ("15650.00", "100.0", "A"),
        ("15656.00", "100.1", "B"),
        ("31300.00", "200.0", "D"),
        ("31303.00", "200.1", "Full fee"),
    ],
)
def test_the_percentage_shown_never_reads_as_the_tier_below(income, shown, name):
    """An income just above a tier's bound is shown above it too (100.04 % is not "100.0 %" beside tier B)."""
    figures = {"income": Decimal(income), "household_size": 1, **FPG_2025}
    assert percent_of_guideline(**figures) == Decimal(shown)
    assert tier(income).name == name
