"""Informed consent as versioned documents per route, each patient's acceptances, and a first plain-language
version per route (the clinic replaces it with its own reviewed form)."""

import django.core.validators
import django.db.models.deletion
import sessions.models.consent
from django.conf import settings
from django.db import migrations, models

from datetime import date

SEEDED_ON = date(2026, 1, 1)
REPLACE_NOTE = (
    "[Starting text supplied with the software. The clinic must replace it with its own consent form, reviewed by "
    "its clinical lead and counsel, by publishing a new version.]\n\n"
)
COMMON_RISKS = (
    "Common effects during and soon after a dose: feeling detached or unreal (dissociation), dizziness, nausea or "
    "vomiting, sleepiness, a rise in blood pressure and heart rate, anxiety, headache and blurred vision. They "
    "usually pass within an hour or two. Less common: confusion, very high blood pressure, slowed breathing, and "
    "with frequent or long-term use, bladder problems and misuse or dependence.\n\n"
)
COMMON_END = (
    "Staff check your blood pressure and other vital signs before the dose and watch you until you are ready to go "
    "home. An adult must take you home. Do not drive, use machinery, drink alcohol or make major decisions for the "
    "rest of the day (for nasal esketamine: until the next day after a restful sleep).\n\n"
    "Tell us about every medicine you take, any pregnancy or breastfeeding, heart or blood-vessel disease, high "
    "blood pressure, brain injury, past psychosis, and alcohol or drug use, now and in the past.\n\n"
    "Other treatments exist, including antidepressant medicines, psychotherapy, TMS and ECT; your clinician can "
    "discuss them with you. Taking part is your choice. You may stop at any time, and stopping will not affect the "
    "rest of your care.\n\n"
    "If you have thoughts of harming yourself, tell a staff member at once, or call or text 988 (Suicide & Crisis "
    "Lifeline).\n\n"
    "By accepting, you confirm that you have read this form, that you could ask questions and they were answered, "
    "and that you agree to treatment on this route."
)
ROUTES = {
    "iv": (
        "Consent to intravenous (IV) ketamine treatment",
        "Ketamine is an anesthetic medicine. Using it for depression and related conditions is 'off-label': the FDA "
        "has not approved ketamine for this use, although studies support it. A low dose is given through a drip in "
        "a vein, usually over about 40 minutes, and you rest afterwards while we monitor you.\n\n",
    ),
    "im": (
        "Consent to intramuscular (IM) ketamine treatment",
        "Ketamine is an anesthetic medicine. Using it for depression and related conditions is 'off-label': the FDA "
        "has not approved ketamine for this use. A low dose is injected into a muscle, and effects begin within "
        "minutes. Psychotherapy may take place before, during and after the session.\n\n",
    ),
    "intranasal": (
        "Consent to Spravato (esketamine nasal spray) treatment",
        "Spravato (esketamine) is a nasal spray approved by the FDA for treatment-resistant depression and for "
        "depressive symptoms with suicidal thoughts or actions. You spray it yourself under staff supervision, and "
        "you stay in the clinic for at least 2 hours afterwards. Spravato is only available through a safety program "
        "(the Spravato REMS): you must be enrolled in it before your first treatment, and the clinic reports on each "
        "treatment. It is never given to take home.\n\n",
    ),
    "sublingual": (
        "Consent to sublingual (under the tongue) ketamine treatment",
        "Ketamine is an anesthetic medicine. Using it for depression and related conditions is 'off-label': the FDA "
        "has not approved ketamine for this use, and lozenges or troches are made by a compounding pharmacy. You hold "
        "the dose in your mouth in the clinic; the amount your body absorbs varies from person to person.\n\n",
    ),
    "oral": (
        "Consent to oral ketamine treatment",
        "Ketamine is an anesthetic medicine. Using it for depression and related conditions is 'off-label': the FDA "
        "has not approved ketamine for this use, and evidence for swallowed ketamine is limited. You take the dose in "
        "the clinic, and we monitor you until you are ready to leave.\n\n",
    ),
}


def seed(apps, schema_editor):
    ConsentDocument = apps.get_model("treatment_sessions", "ConsentDocument")
    for route, (title, intro) in ROUTES.items():
        if ConsentDocument.objects.filter(route=route).exists():
            continue
        ConsentDocument.objects.create(
            route=route,
            version=1,
            title=title,
            text=REPLACE_NOTE + intro + COMMON_RISKS + COMMON_END,
            effective_on=SEEDED_ON,
        )


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
