"""Informed consent as versioned documents per route, each patient's acceptances, and a first plain-language
version per route (the clinic replaces it with its own reviewed form)."""

import django.core.validators
import django.db.models.deletion
import sessions.models.consent
from django.conf import settings
from django.db import migrations, models

from sessions import reference_data

# A first consent document per route (sessions/reference_data.py), written once.
def seed(apps, schema_editor):
    reference_data.seed_consent_documents(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_rems_enrollment"),
        ("treatment_sessions", "0007_spravato_dose_plan"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "route",
                    models.CharField(
                        choices=[
                            ("iv", "Intravenous (IV) ketamine"),
                            ("im", "Intramuscular (IM) ketamine"),
                            ("intranasal", "Intranasal esketamine"),
                            ("sublingual", "Sublingual / buccal ketamine"),
                            ("oral", "Oral ketamine"),
                        ],
                        max_length=12,
                    ),
                ),
                ("version", models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1)])),
                ("title", models.CharField(max_length=200)),
                ("text", models.TextField(help_text="The full text the patient reads and accepts.")),
                (
                    "effective_on",
                    models.DateField(help_text="From this day, doses need an acceptance of this version."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["route", "-version"],
            },
        ),
        migrations.CreateModel(
            name="ConsentAcceptance",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("accepted_at", models.DateTimeField()),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("portal", "Accepted in the patient portal"),
                            ("staff", "Signed form recorded by staff"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "scan",
                    models.FileField(
                        blank=True,
                        storage=sessions.models.consent.private_storage,
                        upload_to=sessions.models.consent._scan_path,
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_acceptances",
                        to="patients.patient",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acceptances",
                        to="treatment_sessions.consentdocument",
                    ),
                ),
            ],
            options={
                "ordering": ["-accepted_at", "-pk"],
            },
        ),
        migrations.AddConstraint(
            model_name="consentdocument",
            constraint=models.UniqueConstraint(fields=("route", "version"), name="consent_document_version_unique"),
        ),
        migrations.AddIndex(
            model_name="consentacceptance",
            index=models.Index(fields=["patient", "document"], name="consent_acceptance_lookup_idx"),
        ),
        migrations.AddConstraint(
            model_name="consentacceptance",
            constraint=models.CheckConstraint(
                condition=models.Q(("method", "portal"), models.Q(("scan", ""), _negated=True), _connector="OR"),
                name="consent_staff_acceptance_has_scan",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
