"""The patient ledger's reference rows: the fee schedule, the year's federal poverty guideline and the sliding-fee
tiers.

Registered with kap_clinic.kernel.reference_data in BillingConfig.ready(); migration billing 0005 calls the same
function with its historical app registry. Rows are only added where missing: a price the clinic has changed stays.

Codes and rules are those of docs/clinical-references.md#billing-codes. Prices are the clinic's self-pay list
prices, a starting point for admins to set their own; G2082/G2083 start at the 2026 Medicare national rates.
The poverty guideline is HHS's 2025 figure for the 48 contiguous states and DC ($15,650 for one person, $5,500 for
each additional person); admins add each new year's figures when HHS publishes them. The sliding-fee tiers start as
kap_clinic.rules.sliding_scale.DEFAULT_TIERS; they are a set (bounds must not overlap), so they are written only into
an empty table: once the clinic has tiers of its own, seeding leaves them alone (migration billing 0007 seeds them).
"""

from decimal import Decimal

from kap_clinic.rules.sliding_scale import DEFAULT_TIERS

IV, IM, NASAL, SUBLINGUAL, ORAL = "iv", "im", "intranasal", "sublingual", "oral"

# code, description, route ("" any), min minutes, max minutes, price, unit, add-on
FEES = [
    ("90791", "Psychiatric diagnostic evaluation", "", None, None, "250.00", "service", False),
    ("90792", "Psychiatric diagnostic evaluation with medical services", "", None, None, "300.00", "service", False),
    ("90832", "Psychotherapy, 30 minutes", "", 16, 37, "100.00", "service", False),
    ("90834", "Psychotherapy, 45 minutes", "", 38, 52, "140.00", "service", False),
    ("90837", "Psychotherapy, 60 minutes", "", 53, None, "180.00", "service", False),
    ("90833", "Psychotherapy with an office visit, 30 minutes (add-on)", "", 16, 37, "80.00", "service", True),
    ("90836", "Psychotherapy with an office visit, 45 minutes (add-on)", "", 38, 52, "110.00", "service", True),
    ("90838", "Psychotherapy with an office visit, 60 minutes (add-on)", "", 53, None, "140.00", "service", True),
    ("90785", "Interactive complexity (add-on)", "", None, None, "25.00", "service", True),
    ("99202", "Office visit, new patient, straightforward", "", None, None, "100.00", "service", False),
    ("99203", "Office visit, new patient, low complexity", "", None, None, "150.00", "service", False),
    ("99204", "Office visit, new patient, moderate complexity", "", None, None, "220.00", "service", False),
    ("99205", "Office visit, new patient, high complexity", "", None, None, "280.00", "service", False),
    ("99212", "Office visit, established patient, straightforward", "", None, None, "75.00", "service", False),
    ("99213", "Office visit, established patient, low complexity", "", None, None, "110.00", "service", False),
    ("99214", "Office visit, established patient, moderate complexity", "", None, None, "160.00", "service", False),
    ("99215", "Office visit, established patient, high complexity", "", None, None, "220.00", "service", False),
    ("99417", "Prolonged office visit, each 15 minutes (add-on)", "", None, None, "60.00", "service", True),
    ("99415", "Prolonged clinical staff time, first hour (add-on)", "", None, None, "50.00", "service", True),
    (
        "99416",
        "Prolonged clinical staff time, each further 30 minutes (add-on)",
        "",
        None,
        None,
        "40.00",
        "service",
        True,
    ),
    ("G2082", "Esketamine visit up to 56 mg, with 2 hours' observation", NASAL, None, None, "906.51", "service", False),
    ("G2083", "Esketamine visit over 56 mg, with 2 hours' observation", NASAL, None, None, "1289.82", "service", False),
    ("J0013", "Esketamine nasal spray, 1 mg", NASAL, None, None, "10.50", "mg", False),
    ("96365", "IV infusion, first hour", IV, None, None, "200.00", "service", False),
    ("96366", "IV infusion, each additional hour (add-on)", IV, None, None, "75.00", "hour", True),
    ("J3490", "Ketamine (unclassified drug)", IV, None, None, "50.00", "service", False),
    ("J3490", "Ketamine (unclassified drug)", IM, None, None, "40.00", "service", False),
    ("96372", "Therapeutic intramuscular injection", IM, None, None, "60.00", "service", False),
    (
        "99213",
        "Office visit, established patient, with supervised ketamine",
        SUBLINGUAL,
        None,
        None,
        "250.00",
        "service",
        False,
    ),
    (
        "99213",
        "Office visit, established patient, with supervised ketamine",
        ORAL,
        None,
        None,
        "250.00",
        "service",
        False,
    ),
]

# Codes retired since, kept in the schedule inactive (never priced, never charged) so the fee schedule says what
# became of them: code, description, route, unit, what replaced it.
RETIRED_FEES = [
    (
        "S0013",
        "Esketamine nasal spray, 1 mg (legacy, commercial payers)",
        NASAL,
        "mg",
        "Retired: replaced by J0013 on 2026-01-01. Kept inactive and never charged; an older authorization may still "
        "name it, and the payer may ask for it to be redone under J0013.",
    ),
]

GUIDELINES = [
    (2025, "15650.00", "5500.00", "HHS poverty guidelines 2025, 48 contiguous states and DC"),
]


def seed_fees(apps) -> None:
    FeeScheduleItem = apps.get_model("billing", "FeeScheduleItem")
    for code, description, route, min_minutes, max_minutes, price, unit, add_on in FEES:
        FeeScheduleItem.objects.get_or_create(
            code=code,
            route=route,
            min_minutes=min_minutes,
            defaults={
                "description": description,
                "max_minutes": max_minutes,
                "price": Decimal(price),
                "unit": unit,
                "is_add_on": add_on,
            },
        )


def seed_retired_fees(apps) -> None:
    """Retired codes, inactive at $0.00 (an admin who turns one on sees why it was retired)."""
    FeeScheduleItem = apps.get_model("billing", "FeeScheduleItem")
    for code, description, route, unit, notes in RETIRED_FEES:
        FeeScheduleItem.objects.get_or_create(
            code=code,
            route=route,
            min_minutes=None,
            defaults={
                "description": description,
                "price": Decimal("0.00"),
                "unit": unit,
                "is_active": False,
                "notes": notes,
            },
        )


def seed_guidelines(apps) -> None:
    PovertyGuideline = apps.get_model("billing", "PovertyGuideline")
    for year, first, each, source in GUIDELINES:
        PovertyGuideline.objects.get_or_create(
            year=year, defaults={"first_person": Decimal(first), "each_additional": Decimal(each), "source": source}
        )


def seed_tiers(apps) -> None:
    try:
        SlidingScaleTier = apps.get_model("billing", "SlidingScaleTier")
    except LookupError:
        return  # migration 0005's registry predates the table; 0007 creates and seeds it
    if SlidingScaleTier.objects.exists():
        return  # the clinic's own set: adding a default tier to it could overlap one of theirs
    SlidingScaleTier.objects.bulk_create(
        SlidingScaleTier(
            name=tier.name, up_to_percent_of_poverty=tier.up_to_percent, discount_percent=tier.discount_percent
        )
        for tier in DEFAULT_TIERS
    )


def seed(apps) -> None:
    seed_fees(apps)
    seed_retired_fees(apps)
    seed_guidelines(apps)
    seed_tiers(apps)
