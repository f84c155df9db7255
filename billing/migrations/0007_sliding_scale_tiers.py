"""The clinic's sliding-fee tiers in a table admins edit, seeded with the tiers the rule used to fix; assessments keep
the upper bound of the tier they found (earlier assessments were made with those fixed tiers)."""

import django.core.validators
import django.db.models.functions.comparison
from django.db import migrations, models

from billing.ledger import reference_data
from kap_clinic.rules.sliding_scale import DEFAULT_TIERS


def seed_tiers(apps, schema_editor):
    reference_data.seed_tiers(apps)


def record_bounds_of_earlier_assessments(apps, schema_editor):
    SlidingScaleAssessment = apps.get_model("billing", "SlidingScaleAssessment")
    for tier in DEFAULT_TIERS:
        if tier.up_to_percent is not None:
            SlidingScaleAssessment.objects.filter(tier=tier.name, tier_up_to_percent__isnull=True).update(
                tier_up_to_percent=tier.up_to_percent
            )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_invoice_void"),
    ]

    operations = [
        migrations.AddField(
            model_name="slidingscaleassessment",
            name="tier_up_to_percent",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="SlidingScaleTier",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=20, unique=True)),
                (
                    "up_to_percent_of_poverty",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="Incomes up to and including this percentage of the guideline. Blank: no upper "
                        "bound (the top tier).",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(1000),
                        ],
                        verbose_name="Up to % of the poverty guideline",
                    ),
                ),
                (
                    "discount_percent",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MaxValueValidator(100)], verbose_name="Discount %"
                    ),
                ),
            ],
            options={
                "ordering": [models.OrderBy(models.F("up_to_percent_of_poverty"), nulls_last=True)],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("discount_percent__gte", 0), ("discount_percent__lte", 100)),
                        name="sliding_tier_discount_0_to_100",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("up_to_percent_of_poverty__isnull", True),
                            models.Q(("up_to_percent_of_poverty__gte", 1), ("up_to_percent_of_poverty__lte", 1000)),
                            _connector="OR",
                        ),
                        name="sliding_tier_bound_plausible",
                    ),
                    models.UniqueConstraint(
                        django.db.models.functions.comparison.Coalesce("up_to_percent_of_poverty", 0),
                        name="sliding_tier_one_per_bound",
                        violation_error_message="Another tier already ends at this percentage, or is already the "
                        "open top tier.",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed_tiers, migrations.RunPython.noop),
        migrations.RunPython(record_bounds_of_earlier_assessments, migrations.RunPython.noop),
    ]
