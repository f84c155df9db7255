"""Dosing sessions' reference rows: the default protocols, the clinic's opening hours and a first consent document
per route.

Registered with kap_clinic.kernel.reference_data in SessionsConfig.ready(); the migrations that first wrote these rows
call the same functions with their historical app registry. Rows are only added where missing, so a protocol, an
opening hour or a consent text the clinic has edited stays as it is.

A protocol's rhythm (phases, chair time, preferred weekdays, minimum interval between doses) comes from
kap_clinic.rules.cadence.DEFAULT_RULES, the one place it is defined; the dose range, monitoring time, booster
interval and preparation text are the catalogue below (docs/clinical-references.md#cadence).
"""

from datetime import date, time
from decimal import Decimal

from kap_clinic.kernel.reference_data import known_fields
from kap_clinic.rules.cadence import DEFAULT_RULES, CadenceRule, Phase, Route, induction_bounds

IV_PREP = (
    "No solid food or milk for 6 hours before your session; clear liquids are fine until 2 hours before. "
    "Arrive 15 minutes early. An adult must drive you home: no driving, alcohol or major decisions for 24 hours. "
    "Ask your clinician before taking benzodiazepines, lamotrigine or opioids on the day."
)
SPRAVATO_PREP = (
    "No food for 2 hours and no liquids for 30 minutes before your session. Use any nasal corticosteroid or "
    "decongestant at least 1 hour before. Arrive 15 minutes early. An adult must take you home: do not drive "
    "until the next day after a restful sleep."
)
# The sources give "light or no meal 2-4 h" for the tablet routes; the longer wait is the safer default, and the one
# the reminders give (kap_clinic.kernel.notifications.reference_data).
OFFICE_MEAL = "Have only a light meal, or none, for 4 hours before your session."
EARLIER_OFFICE_MEAL = "Have only a light meal, or none, for 2 to 4 hours before your session."  # the wording before
OFFICE_PREP = (
    OFFICE_MEAL + " Arrive 15 minutes early. An adult must drive you home: no driving, alcohol or major decisions for "
    "24 hours."
)


# name, route, dose unit, dose min, max, default, monitoring minutes, booster interval days, REMS form, preparation,
# source
PROTOCOLS = [
    (
        "IV ketamine induction",
        Route.IV,
        "mg_per_kg",
        "0.1",
        "1.0",
        "0.5",
        60,
        28,
        False,
        IV_PREP,
        "0.5 mg/kg over 40 min, 6 infusions over about 2 weeks (Mon/Wed/Fri), boosters every 3-6 weeks "
        "(docs/clinical-references.md#cadence).",
    ),
    (
        "IM ketamine-assisted psychotherapy",
        Route.IM,
        "mg_per_kg",
        "0.2",
        "0.75",
        "0.5",
        60,
        28,
        False,
        IV_PREP,
        "Up to 0.75 mg/kg, 3 weekly dosing sessions with preparation and integration "
        "(docs/clinical-references.md#cadence).",
    ),
    (
        "Spravato (esketamine) for TRD",
        Route.INTRANASAL,
        "mg",
        "56",
        "84",
        "56",
        120,
        14,
        True,
        SPRAVATO_PREP,
        "US label: twice weekly weeks 1-4 (56 mg day 1, then 56 or 84 mg), weekly weeks 5-8, then weekly or every "
        "2 weeks; at least 2 h observation (docs/clinical-references.md#spravato).",
    ),
    (
        "Sublingual ketamine (in office)",
        Route.SUBLINGUAL,
        "mg",
        "50",
        "400",
        "100",
        90,
        14,
        False,
        OFFICE_PREP,
        "Often 50-200 mg (lozenge method 100-400 mg), titrated; clinic-specific cadence "
        "(docs/clinical-references.md#cadence).",
    ),
    (
        "Oral ketamine (in office)",
        Route.ORAL,
        "mg",
        "25",
        "300",
        "50",
        90,
        14,
        False,
        OFFICE_PREP,
        "Fixed 25-300 mg reported; evidence thin, considered experimental (docs/clinical-references.md#cadence).",
    ),
]

# Weekdays open, and the hours, when the clinic has set none.
CLINIC_HOURS = {weekday: (time(8, 0), time(18, 0)) for weekday in range(5)}

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
CONSENT_TEXTS = {
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


def seed_protocols(apps) -> None:
    """The default protocol for each route and its phases, added unless a protocol of that name exists."""
    Protocol = apps.get_model("treatment_sessions", "Protocol")
    for name, route, unit, low, high, default, monitoring, booster, rems, prep, source in PROTOCOLS:
        if Protocol.objects.filter(name=name).exists():
            continue
        rule = DEFAULT_RULES[route]
        protocol = Protocol.objects.create(
            **known_fields(
                Protocol,
                {
                    "name": name,
                    "route": route.value,
                    "dose_unit": unit,
                    "dose_min": Decimal(low),
                    "dose_max": Decimal(high),
                    "default_dose": Decimal(default),
                    "session_minutes": rule.session_minutes,
                    "monitoring_minutes": monitoring,
                    "preferred_weekdays": list(rule.preferred_weekdays),
                    "booster_interval_days": booster,
                    "requires_rems": rems,
                    "preparation_instructions": prep,
                    "source": source,
                    "min_interval_hours": rule.min_interval_hours,
                    **induction_bound_fields(rule),
                },
            )
        )
        for order, phase in enumerate(rule.phases, start=1):
            protocol.phases.create(
                **known_fields(
                    protocol.phases.model,
                    {
                        "order": order,
                        "name": phase.name,
                        "sessions": phase.sessions,
                        "per_week": phase.per_week,
                        "weeks": phase.weeks,
                        "every_weeks": phase.every_weeks,
                    },
                )
            )


def induction_bound_fields(rule: CadenceRule) -> dict:
    """A protocol's fewest and most induction sessions, as the cadence rules set them by default."""
    bounds = induction_bounds(rule)
    low, high = bounds if bounds is not None else (None, None)
    return {"induction_min_sessions": low, "induction_max_sessions": high}


def fill_induction_bounds(apps) -> None:
    """Give each protocol without induction bounds the cadence rules' default ones, from its own phases."""
    Protocol = apps.get_model("treatment_sessions", "Protocol")
    for protocol in Protocol.objects.filter(induction_min_sessions__isnull=True):
        phases = tuple(
            Phase(name=p.name, sessions=p.sessions, per_week=p.per_week, weeks=p.weeks, every_weeks=p.every_weeks)
            for p in protocol.phases.order_by("order")
        )
        try:
            rule = CadenceRule(route=Route(protocol.route), phases=phases)
        except ValueError:  # a protocol whose cadence cannot be planned keeps no bounds
            continue
        Protocol.objects.filter(pk=protocol.pk).update(**induction_bound_fields(rule))


def seed_clinic_hours(apps) -> None:
    """Opening hours, when the clinic has none at all."""
    ClinicHours = apps.get_model("treatment_sessions", "ClinicHours")
    if not ClinicHours.objects.exists():
        for weekday, (opens, closes) in CLINIC_HOURS.items():
            ClinicHours.objects.create(weekday=weekday, opens=opens, closes=closes)


def seed_consent_documents(apps) -> None:
    """A first consent document for each route that has none."""
    ConsentDocument = apps.get_model("treatment_sessions", "ConsentDocument")
    for route, (title, intro) in CONSENT_TEXTS.items():
        if ConsentDocument.objects.filter(route=route).exists():
            continue
        ConsentDocument.objects.create(
            route=route,
            version=1,
            title=title,
            text=REPLACE_NOTE + intro + COMMON_RISKS + COMMON_END,
            effective_on=SEEDED_ON,
        )


def seed(apps) -> None:
    seed_protocols(apps)
    seed_clinic_hours(apps)
    seed_consent_documents(apps)
