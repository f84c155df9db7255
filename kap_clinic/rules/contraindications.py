"""Catalogue of medical screen-outs for ketamine and esketamine treatment
(docs/clinical-references.md#contraindications).

Each condition carries the clinic's default severity: "absolute" screens the patient out, "relative" holds the
screening for a prescriber's decision. A clinic may override a severity per condition; `eligibility.decide` takes the
effective severity, not the default. Pregnancy and breastfeeding are recorded as separate facts, not here.
"""

from dataclasses import dataclass
from typing import Literal

Severity = Literal["absolute", "relative"]

ABSOLUTE: Severity = "absolute"
RELATIVE: Severity = "relative"
SEVERITIES: tuple[Severity, ...] = (ABSOLUTE, RELATIVE)

DOMAINS = (
    "cardiovascular",
    "neurological",
    "psychiatric",
    "substance",
    "urological",
    "hepatic",
    "reproductive",
    "allergy",
    "other",
)

SPRAVATO_CONTRAINDICATION = "Spravato FDA label: contraindication"
SPRAVATO_WARNING = "Spravato FDA label: warnings and precautions"
CONSENSUS = "Racemic ketamine screen-outs in common clinic use (APA consensus 2017, anaesthesia texts)"


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    domain: str
    default_severity: Severity
    source: str


CONDITIONS: tuple[Condition, ...] = (
    # Cardiovascular
    Condition(
        code="aneurysmal_vascular_disease",
        label="Aneurysmal vascular disease (aortic, intracranial or peripheral) or arteriovenous malformation",
        domain="cardiovascular",
        default_severity=ABSOLUTE,
        source=SPRAVATO_CONTRAINDICATION,
    ),
    Condition(
        code="aortic_dissection",
        label="Aortic dissection",
        domain="cardiovascular",
        # Grouped with aneurysm in the consensus screen-outs, with no severity given: absolute is the safer default.
        default_severity=ABSOLUTE,
        source=f"{CONSENSUS}; absolute chosen as the safer default",
    ),
    Condition(
        code="uncontrolled_hypertension",
        label="Uncontrolled hypertension",
        domain="cardiovascular",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (blood pressure); {CONSENSUS}",
    ),
    Condition(
        code="recent_mi_or_unstable_angina",
        label="Recent myocardial infarction or unstable angina",
        domain="cardiovascular",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (cardiovascular conditions); {CONSENSUS}",
    ),
    Condition(
        code="decompensated_heart_failure",
        label="Decompensated heart failure",
        domain="cardiovascular",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (cardiovascular conditions); {CONSENSUS}",
    ),
    Condition(
        code="symptomatic_arrhythmia",
        label="Symptomatic arrhythmia",
        domain="cardiovascular",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (cardiovascular conditions); {CONSENSUS}",
    ),
    Condition(
        code="valvular_heart_disease",
        label="Significant valvular heart disease",
        domain="cardiovascular",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (cardiovascular conditions)",
    ),
    Condition(
        code="hypertensive_encephalopathy_history",
        label="History of hypertensive encephalopathy",
        domain="cardiovascular",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (more frequent blood-pressure monitoring)",
    ),
    # Neurological
    Condition(
        code="intracerebral_haemorrhage_history",
        label="History of intracerebral haemorrhage",
        domain="neurological",
        default_severity=ABSOLUTE,
        source=SPRAVATO_CONTRAINDICATION,
    ),
    Condition(
        code="stroke_or_cerebrovascular_disease",
        label="History of stroke or other cerebrovascular disease",
        domain="neurological",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (cerebrovascular conditions)",
    ),
    Condition(
        code="raised_intracranial_pressure",
        label="Raised intracranial pressure or brain injury",
        domain="neurological",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (brain injury, raised intracranial pressure); {CONSENSUS}",
    ),
    Condition(
        code="raised_intraocular_pressure",
        label="Raised intra-ocular pressure or open-globe eye injury",
        domain="neurological",
        default_severity=RELATIVE,
        source=f"{CONSENSUS} (anaesthesia literature)",
    ),
    # Psychiatric
    Condition(
        code="active_psychosis",
        label="Active psychosis",
        domain="psychiatric",
        # The label says "carefully assess"; payers often require no psychosis. Absolute is the safer default.
        default_severity=ABSOLUTE,
        source=f"{SPRAVATO_WARNING} (psychosis); {CONSENSUS}; absolute chosen as the safer default",
    ),
    Condition(
        code="schizophrenia_history",
        label="History of schizophrenia or schizoaffective disorder",
        domain="psychiatric",
        default_severity=RELATIVE,
        source=CONSENSUS,
    ),
    Condition(
        code="family_history_schizophrenia",
        label="First-degree relative with schizophrenia",
        domain="psychiatric",
        default_severity=RELATIVE,
        source=f"{CONSENSUS} (some programmes only)",
    ),
    Condition(
        code="current_mania",
        label="Current mania or hypomania",
        domain="psychiatric",
        # Listed as a screen-out with no severity given: absolute is the safer default.
        default_severity=ABSOLUTE,
        source=f"{CONSENSUS}; absolute chosen as the safer default",
    ),
    Condition(
        code="bipolar_disorder",
        label="Bipolar disorder",
        domain="psychiatric",
        default_severity=RELATIVE,
        source=f"{CONSENSUS} (bipolar depression is treated in studies under a mood stabiliser)",
    ),
    # Substance use
    Condition(
        code="ketamine_misuse_history",
        label="History of ketamine misuse",
        domain="substance",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (abuse and misuse, Schedule III); {CONSENSUS}",
    ),
    Condition(
        code="active_substance_use_disorder",
        label="Active substance use disorder, including alcohol",
        domain="substance",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (substance use disorder); {CONSENSUS}",
    ),
    # Urological
    Condition(
        code="cystitis",
        label="Interstitial, ulcerative or ketamine-induced cystitis",
        domain="urological",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (cystitis); {CONSENSUS}",
    ),
    # Hepatic
    Condition(
        code="severe_hepatic_impairment",
        label="Severe hepatic impairment (Child-Pugh C)",
        domain="hepatic",
        # The label says "not recommended" rather than contraindicated: absolute is the safer default.
        default_severity=ABSOLUTE,
        source=f"{SPRAVATO_WARNING} (not recommended); absolute chosen as the safer default",
    ),
    Condition(
        code="moderate_hepatic_impairment",
        label="Moderate hepatic impairment (Child-Pugh B)",
        domain="hepatic",
        default_severity=RELATIVE,
        source=f"{SPRAVATO_WARNING} (may need longer monitoring)",
    ),
    # Allergy
    Condition(
        code="ketamine_hypersensitivity",
        label="Hypersensitivity to ketamine, esketamine or an excipient",
        domain="allergy",
        default_severity=ABSOLUTE,
        source=f"{SPRAVATO_CONTRAINDICATION}; ketamine anaesthetic label",
    ),
)

BY_CODE: dict[str, Condition] = {condition.code: condition for condition in CONDITIONS}


def default_severities() -> dict[str, str]:
    """The catalogue's default severity for every condition code, for a clinic's settings to start from."""
    return {condition.code: condition.default_severity for condition in CONDITIONS}
