"""Sliding-fee assessments: a patient's tier from their household's size and income against the year's poverty
guideline and the clinic's tiers (kap_clinic.rules.sliding_scale, given the tiers admins keep in SlidingScaleTier),
recorded with the tier as it stood, the evidence seen, who saw it and when."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.rules import sliding_scale
from patients.models import Patient

from ..ledger_models import PovertyGuideline, SlidingScaleAssessment, SlidingScaleTier
from ..roles import WORKING_ROLES as LEDGER_ROLES

# Staff who work patients' accounts.
REVIEW_AFTER_DAYS = 365  # verified again every year


def guideline_for(year: int) -> PovertyGuideline:
    """The guideline of this year, else the latest published before it."""
    guideline = PovertyGuideline.objects.filter(year__lte=year).order_by("-year").first()
    if guideline is None:
        raise ValidationError(f"No federal poverty guideline is on file for {year} or earlier: an admin adds it.")
    return guideline


def current_tiers() -> tuple[sliding_scale.Tier, ...]:
    """The clinic's sliding-fee tiers as the rule takes them, lowest incomes first; ValidationError if unusable."""
    tiers = sliding_scale.ordered([tier.as_rule() for tier in SlidingScaleTier.objects.all()])
    try:
        sliding_scale.check_tiers(tiers)
    except ValueError as exc:
        raise ValidationError(f"The sliding-fee tiers need an admin's attention: {exc}") from exc
    return tiers


@transaction.atomic
def sliding_scale_assess(
    *,
    patient: Patient,
    household_size: int,
    household_income: Decimal,
    evidence: str,
    by: User,
    evidence_note: str = "",
    on: date | None = None,
) -> SlidingScaleAssessment:
    if not by.has_role(*LEDGER_ROLES):
        raise PermissionDenied("Only intake staff and admins assess the sliding scale.")
    if evidence not in SlidingScaleAssessment.Evidence.values:
        raise ValidationError("Choose the document the income was checked against.")
    if not 1 <= household_size <= sliding_scale.MAX_HOUSEHOLD:
        raise ValidationError(f"A household has between 1 and {sliding_scale.MAX_HOUSEHOLD} people.")
    if household_income < 0:
        raise ValidationError("Income cannot be negative.")
    on = on or timezone.localdate()
    guideline = guideline_for(on.year)
    figures = {"first_person": guideline.first_person, "each_additional": guideline.each_additional}
    tier = sliding_scale.tier_for(
        income=household_income, household_size=household_size, tiers=current_tiers(), **figures
    )
    return SlidingScaleAssessment.objects.create(
        patient=patient,
        guideline=guideline,
        household_size=household_size,
        household_income=household_income,
        percent_of_guideline=sliding_scale.percent_of_guideline(
            income=household_income, household_size=household_size, **figures
        ),
        tier=tier.name,
        tier_up_to_percent=tier.up_to_percent,
        discount_percent=tier.discount_percent,
        evidence=evidence,
        evidence_note=evidence_note.strip(),
        verified_by=by,
        verified_at=timezone.now(),
        review_by=on + timedelta(days=REVIEW_AFTER_DAYS),
    )


def current_assessment(patient_id: int, *, on: date | None = None) -> SlidingScaleAssessment | None:
    """The latest assessment still within its review date."""
    on = on or timezone.localdate()
    return SlidingScaleAssessment.objects.filter(patient_id=patient_id, review_by__gte=on).first()


def current_discount(patient_id: int, *, on: date | None = None) -> int:
    assessment = current_assessment(patient_id, on=on)
    return assessment.discount_percent if assessment else 0
