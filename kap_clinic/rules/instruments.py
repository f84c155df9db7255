"""Screening instruments as data: items, answer options, scoring, severity bands and critical items.

Each instrument is defined once here, with its attribution and licence note beside it. Forms, services, reports
and exports read these definitions rather than keeping their own copies. Pure Python: no Django imports, so the
scoring is unit-tested without a database.

Clinical source: docs/clinical-references.md#instruments (bands and scoring rules), #audit-dast, #c-ssrs (C-SSRS
triage). The software scores, flags and routes; a clinician decides. Bands and cut-offs are the published defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    number: int  # 1-based position in the answers list
    key: str  # e.g. "item9", "q6_recent"
    label: str  # short descriptor, always present
    text: str | None  # full item wording where the licence lets us embed it; None otherwise
    options: tuple[Option, ...]
    critical: bool = False
    reverse_scored: bool = False
    # A critical item fires when the answer value is at least this (PHQ-9 item 9: any answer above 0; AUDIT
    # items 4-6: 2 or more; AUDIT items 9-10: 4). Ignored unless `critical`.
    critical_at: int = 1
    # Skip logic: (key, value) of an earlier item; this item is asked only when that item was answered with that
    # value, and is left unanswered (None, "not asked") otherwise. None = always asked.
    asked_if: tuple[str, int] | None = None
    # The other way round: (key, value) of an earlier item whose answer skips this one (AUDIT: a non-drinker, item 1
    # "Never", skips items 2-8). None = never skipped.
    skipped_if: tuple[str, int] | None = None

    @property
    def allowed_values(self) -> tuple[int, ...]:
        return tuple(option.value for option in self.options)

    def points(self, value: int) -> int:
        """Points this answer value adds to the total (reverse-scored items count the other way round)."""
        if self.reverse_scored:
            return max(self.allowed_values) + min(self.allowed_values) - value
        return value


@dataclass(frozen=True)
class Band:
    name: str
    low: int  # inclusive
    high: int  # inclusive

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    timeframe: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    attribution: str
    licence_note: str
    embeds_item_text: bool
    min_total: int
    max_total: int

    def __post_init__(self) -> None:
        # A definition that contradicts itself should fail at import, not in a patient's score.
        if [item.number for item in self.items] != list(range(1, len(self.items) + 1)):
            raise ValueError(f"{self.name}: item numbers must run 1..{len(self.items)} in order")
        keys = [item.key for item in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.name}: item keys must be unique")
        if self.min_total != sum(min(item.points(v) for v in item.allowed_values) for item in self.items):
            raise ValueError(f"{self.name}: min_total does not match the items")
        if self.max_total != sum(max(item.points(v) for v in item.allowed_values) for item in self.items):
            raise ValueError(f"{self.name}: max_total does not match the items")
        for band in self.bands:
            if not self.min_total <= band.low <= band.high <= self.max_total:
                raise ValueError(f"{self.name}: band {band.name} lies outside {self.min_total}-{self.max_total}")
        for item in self.items:
            if (item.text is not None) != self.embeds_item_text:
                raise ValueError(f"{self.name} item {item.number}: text must be given exactly when embeds_item_text")
            if item.asked_if is not None and item.asked_if[0] not in keys[: item.number - 1]:
                raise ValueError(f"{self.name} item {item.number}: asked_if must name an earlier item")
            if item.skipped_if is not None and item.skipped_if[0] not in keys[: item.number - 1]:
                raise ValueError(f"{self.name} item {item.number}: skipped_if must name an earlier item")

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise ValueError(f"{self.name}: no item {key!r}")

    def band_names(self) -> tuple[str, ...]:
        return tuple(band.name for band in self.bands)


@dataclass(frozen=True)
class InstrumentScore:
    code: str
    total: int
    band: str
    flags: tuple[str, ...]  # keys of critical items that fired, () when none


# --- Shared answer scales -------------------------------------------------------------------------------------

# PHQ-9 and GAD-7 (LOINC answers LA6568-5, LA6569-3, LA6570-1, LA6571-9).
_FREQUENCY_2_WEEKS = (
    Option(0, "Not at all"),
    Option(1, "Several days"),
    Option(2, "More than half the days"),
    Option(3, "Nearly every day"),
)

_PCL5_SCALE = (
    Option(0, "Not at all"),
    Option(1, "A little bit"),
    Option(2, "Moderately"),
    Option(3, "Quite a bit"),
    Option(4, "Extremely"),
)

_NO_YES = (Option(0, "No"), Option(1, "Yes"))


def _items(rows: Sequence[tuple[str, str | None]], options: tuple[Option, ...], **per_key: dict) -> tuple[Item, ...]:
    """Items numbered 1..n with keys item1..itemN; per_key adds fields (critical, ...) to the named items."""
    items = []
    for number, (label, text) in enumerate(rows, start=1):
        key = f"item{number}"
        items.append(Item(number=number, key=key, label=label, text=text, options=options, **per_key.get(key, {})))
    return tuple(items)


# --- PHQ-9 ------------------------------------------------------------------------------------------------------

PHQ9 = Instrument(
    code="phq9",
    name="PHQ-9",
    timeframe="Over the last 2 weeks",
    # The optional 10th question ("how difficult have these problems made it...") is not scored and not an item.
    items=_items(
        [
            ("Little interest or pleasure", "Little interest or pleasure in doing things"),
            ("Feeling down or hopeless", "Feeling down, depressed, or hopeless"),
            ("Sleep problems", "Trouble falling or staying asleep, or sleeping too much"),
            ("Tiredness or little energy", "Feeling tired or having little energy"),
            ("Appetite problems", "Poor appetite or overeating"),
            (
                "Feeling bad about yourself",
                "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
            ),
            (
                "Trouble concentrating",
                "Trouble concentrating on things, such as reading the newspaper or watching television",
            ),
            (
                "Moving or speaking slowly, or restlessness",
                "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
                "fidgety or restless that you have been moving around a lot more than usual",
            ),
            (
                "Thoughts of being better off dead or of self-harm",
                "Thoughts that you would be better off dead or of hurting yourself in some way",
            ),
        ],
        _FREQUENCY_2_WEEKS,
        # Any answer above 0 on item 9 needs urgent clinician review whatever the total
        # (docs/clinical-references.md#instruments).
        item9={"critical": True, "critical_at": 1},
    ),
    bands=(
        Band("minimal", 0, 4),
        Band("mild", 5, 9),
        Band("moderate", 10, 14),
        Band("moderately_severe", 15, 19),
        Band("severe", 20, 27),
    ),
    attribution=(
        "PHQ-9: developed by Drs Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
        "with an educational grant from Pfizer Inc."
    ),
    licence_note=(
        "Released by Pfizer without copyright restriction and at no charge (2010); item text may be embedded. "
        "Keep the attribution line."
    ),
    embeds_item_text=True,
    min_total=0,
    max_total=27,
)


# --- GAD-7 ------------------------------------------------------------------------------------------------------

GAD7 = Instrument(
    code="gad7",
    name="GAD-7",
    timeframe="Over the last 2 weeks",
    items=_items(
        [
            ("Nervous, anxious or on edge", "Feeling nervous, anxious, or on edge"),
            ("Unable to stop or control worrying", "Not being able to stop or control worrying"),
            ("Worrying too much", "Worrying too much about different things"),
            ("Trouble relaxing", "Trouble relaxing"),
            ("Restlessness", "Being so restless that it is hard to sit still"),
            ("Easily annoyed or irritable", "Becoming easily annoyed or irritable"),
            ("Feeling afraid", "Feeling afraid, as if something awful might happen"),
        ],
        _FREQUENCY_2_WEEKS,
    ),
    # A total of 10 or more is a positive screen for further evaluation (docs/clinical-references.md#instruments): the
    # moderate band onward.
    bands=(
        Band("minimal", 0, 4),
        Band("mild", 5, 9),
        Band("moderate", 10, 14),
        Band("severe", 15, 21),
    ),
    attribution=(
        "GAD-7: developed by Drs Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
        "with an educational grant from Pfizer Inc."
    ),
    licence_note=(
        "Released by Pfizer without copyright restriction and at no charge (2010); item text may be embedded. "
        "Keep the attribution line."
    ),
    embeds_item_text=True,
    min_total=0,
    max_total=21,
)


# --- PCL-5 ------------------------------------------------------------------------------------------------------

# DSM-5 symptom clusters, as 1-based item numbers (docs/clinical-references.md#instruments).
PCL5_CLUSTERS: dict[str, range] = {
    "B": range(1, 6),  # intrusion
    "C": range(6, 8),  # avoidance
    "D": range(8, 15),  # negative alterations in cognition and mood
    "E": range(15, 21),  # alterations in arousal and reactivity
}
# Items rated 2 ("Moderately") or higher count as a symptom endorsed; the minimum per cluster for a provisional
# DSM-5 diagnosis is 1 B, 1 C, 2 D and 2 E.
PCL5_SYMPTOM_THRESHOLD = 2
PCL5_CLUSTER_MINIMUM = {"B": 1, "C": 1, "D": 2, "E": 2}

PCL5 = Instrument(
    code="pcl5",
    name="PCL-5",
    timeframe="In the past month",
    items=_items(
        [
            ("Unwanted memories", "Repeated, disturbing, and unwanted memories of the stressful experience?"),
            ("Disturbing dreams", "Repeated, disturbing dreams of the stressful experience?"),
            (
                "Reliving the experience",
                "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you "
                "were actually back there reliving it)?",
            ),
            ("Upset by reminders", "Feeling very upset when something reminded you of the stressful experience?"),
            (
                "Physical reactions to reminders",
                "Having strong physical reactions when something reminded you of the stressful experience (for "
                "example, heart pounding, trouble breathing, sweating)?",
            ),
            (
                "Avoiding memories or feelings",
                "Avoiding memories, thoughts, or feelings related to the stressful experience?",
            ),
            (
                "Avoiding external reminders",
                "Avoiding external reminders of the stressful experience (for example, people, places, "
                "conversations, activities, objects, or situations)?",
            ),
            ("Trouble remembering", "Trouble remembering important parts of the stressful experience?"),
            (
                "Strong negative beliefs",
                "Having strong negative beliefs about yourself, other people, or the world (for example, having "
                "thoughts such as: I am bad, there is something seriously wrong with me, no one can be trusted, the "
                "world is completely dangerous)?",
            ),
            (
                "Blaming self or others",
                "Blaming yourself or someone else for the stressful experience or what happened after it?",
            ),
            (
                "Strong negative feelings",
                "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
            ),
            ("Loss of interest", "Loss of interest in activities that you used to enjoy?"),
            ("Feeling distant or cut off", "Feeling distant or cut off from other people?"),
            (
                "Trouble with positive feelings",
                "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving "
                "feelings for people close to you)?",
            ),
            ("Irritability or aggression", "Irritable behavior, angry outbursts, or acting aggressively?"),
            ("Taking risks", "Taking too many risks or doing things that could cause you harm?"),
            ("Hypervigilance", 'Being "superalert" or watchful or on guard?'),
            ("Jumpy or easily startled", "Feeling jumpy or easily startled?"),
            ("Difficulty concentrating", "Having difficulty concentrating?"),
            ("Sleep problems", "Trouble falling or staying asleep?"),
        ],
        _PCL5_SCALE,
    ),
    # docs/clinical-references.md#instruments gives a provisional PTSD cut-off of 31-33 (older guidance 38; choose per
    # population). We default to 33, the top of that range; a clinic that wants 31 or 32 sets it in Clinic settings
    # (`score(pcl5_cutoff=)`).
    bands=(
        Band("below_threshold", 0, 32),
        Band("probable_ptsd", 33, 80),
    ),
    attribution=(
        "PCL-5: Weathers, Litz, Keane, Palmieri, Marx & Schnurr (2013), The PTSD Checklist for DSM-5. "
        "National Center for PTSD, US Department of Veterans Affairs."
    ),
    licence_note="Public domain (US VA National Center for PTSD); item text may be embedded.",
    embeds_item_text=True,
    min_total=0,
    max_total=80,
)


# --- C-SSRS Screener --------------------------------------------------------------------------------------------


def _cssrs_item(number: int, key: str, label: str, **extra) -> Item:
    return Item(number=number, key=key, label=label, text=None, options=_NO_YES, **extra)


# Licence: the item wording is not embedded (see licence_note); labels are the short descriptors of
# docs/clinical-references.md#c-ssrs. Answer slots follow the screener's order; Q3-Q5 are asked only after Q2 = Yes, and
# the 3-month follow-up only after Q6 = Yes (LOINC 93373-9 enableWhen). Skipped items stay None ("not asked") and count
# as negative for risk.
CSSRS = Instrument(
    code="cssrs",
    name="C-SSRS Screener",
    timeframe="Past month (Q1-Q5); lifetime, then past 3 months (Q6)",
    items=(
        _cssrs_item(1, "q1", "Wish to be dead"),
        _cssrs_item(2, "q2", "Non-specific active suicidal thoughts"),
        _cssrs_item(3, "q3", "Suicidal thoughts with method", asked_if=("q2", 1)),
        _cssrs_item(4, "q4", "Suicidal intent without specific plan", critical=True, asked_if=("q2", 1)),
        _cssrs_item(5, "q5", "Suicidal intent with specific plan", critical=True, asked_if=("q2", 1)),
        _cssrs_item(6, "q6", "Suicidal behaviour (lifetime)"),
        _cssrs_item(7, "q6_recent", "Suicidal behaviour within the past 3 months", critical=True, asked_if=("q6", 1)),
    ),
    # Not a summed score: the band is the risk level (docs/clinical-references.md#c-ssrs), derived from which items are
    # Yes, and the total (number of Yes answers) is informational only. Each band's low/high is the range of totals that
    # can occur at that risk level, so the ranges overlap and are not cut-offs; they are checked by enumerating every
    # valid answer set in the tests.
    bands=(
        Band("none", 0, 0),
        Band("low", 1, 2),  # Q1 and/or Q2
        Band("moderate", 1, 4),  # Q6 alone (not recent) .. Q1, Q2, Q3, Q6
        Band("high", 2, 7),  # Q2+Q4, or Q6 within 3 months .. every answer Yes
    ),
    attribution=(
        "Columbia-Suicide Severity Rating Scale (C-SSRS) Screener, Posner et al.; "
        "© Research Foundation for Mental Hygiene, Inc. (RFMH); The Columbia Lighthouse Project."
    ),
    licence_note=(
        "Licence needed for software. Free for clinical use, but RFMH has granted Clario (eResearch Technology) an "
        "exclusive licence for electronic implementations; Clario sublicenses for a fee and certifies each electronic "
        "version, language and platform. Item wording is not embedded until a licence is in place; labels are short "
        "descriptors. Whether a clinic's in-house form is exempt is unconfirmed [verify with Columbia/Clario]."
    ),
    embeds_item_text=False,
    min_total=0,
    max_total=7,
)

CSSRS_RISK_LEVELS = ("none", "low", "moderate", "high")


def _cssrs_risk(values: dict[str, int | None]) -> str:
    """Risk level from the highest positive item (docs/clinical-references.md#c-ssrs); items not asked count as No."""

    def yes(key: str) -> bool:
        return values[key] == 1

    if yes("q4") or yes("q5") or (yes("q6") and yes("q6_recent")):
        return "high"
    if yes("q3") or yes("q6"):
        return "moderate"
    if yes("q1") or yes("q2"):
        return "low"
    return "none"


# --- AUDIT ------------------------------------------------------------------------------------------------------

_AUDIT_HOW_OFTEN = (
    Option(0, "Never"),
    Option(1, "Less than monthly"),
    Option(2, "Monthly"),
    Option(3, "Weekly"),
    Option(4, "Daily or almost daily"),
)
# Items 9 and 10 have three answers scored 0, 2 and 4 (WHO 2001 manual); 1 and 3 are not valid answers.
_AUDIT_NO_NOT_LAST_YEAR_LAST_YEAR = (
    Option(0, "No"),
    Option(2, "Yes, but not in the last year"),
    Option(4, "Yes, during the last year"),
)


def _audit_item(number: int, label: str, text: str, options: tuple[Option, ...], **extra) -> Item:
    # WHO AUDIT manual (Babor et al. 2001), interview version: "Skip to Questions 9 and 10 if Total Score for
    # Question 1 = 0": a non-drinker is not asked items 2-8, which then add nothing to the total.
    if 2 <= number <= 8:
        extra.setdefault("skipped_if", ("item1", 0))
    return Item(number=number, key=f"item{number}", label=label, text=text, options=options, **extra)


# Escalation triggers (docs/clinical-references.md#audit-dast: "escalate one zone if items 4-6 >= 2 or items 9/10 = 4")
# are marked critical so they appear in `flags`. The zone itself stays by total (band monotone in total); acting on a
# flag, e.g. moving the patient up one zone, is left to the eligibility rules.
_AUDIT_ITEMS = (
    _audit_item(
        1,
        "Frequency of drinking",
        "How often do you have a drink containing alcohol?",
        (
            Option(0, "Never"),
            Option(1, "Monthly or less"),
            Option(2, "2 to 4 times a month"),
            Option(3, "2 to 3 times a week"),
            Option(4, "4 or more times a week"),
        ),
    ),
    _audit_item(
        2,
        "Drinks on a typical drinking day",
        "How many drinks containing alcohol do you have on a typical day when you are drinking?",
        (
            Option(0, "1 or 2"),
            Option(1, "3 or 4"),
            Option(2, "5 or 6"),
            Option(3, "7, 8, or 9"),
            Option(4, "10 or more"),
        ),
    ),
    _audit_item(
        3, "Frequency of heavy drinking", "How often do you have six or more drinks on one occasion?", _AUDIT_HOW_OFTEN
    ),
    _audit_item(
        4,
        "Unable to stop drinking once started",
        "How often during the last year have you found that you were not able to stop drinking once you had started?",
        _AUDIT_HOW_OFTEN,
        critical=True,
        critical_at=2,
    ),
    _audit_item(
        5,
        "Failed expectations because of drinking",
        "How often during the last year have you failed to do what was normally expected from you because of drinking?",
        _AUDIT_HOW_OFTEN,
        critical=True,
        critical_at=2,
    ),
    _audit_item(
        6,
        "Morning drinking",
        "How often during the last year have you needed a first drink in the morning to get yourself going after a "
        "heavy drinking session?",
        _AUDIT_HOW_OFTEN,
        critical=True,
        critical_at=2,
    ),
    _audit_item(
        7,
        "Guilt or remorse after drinking",
        "How often during the last year have you had a feeling of guilt or remorse after drinking?",
        _AUDIT_HOW_OFTEN,
    ),
    _audit_item(
        8,
        "Blackouts",
        "How often during the last year have you been unable to remember what happened the night before because you "
        "had been drinking?",
        _AUDIT_HOW_OFTEN,
    ),
    _audit_item(
        9,
        "Alcohol-related injury",
        "Have you or someone else been injured as a result of your drinking?",
        _AUDIT_NO_NOT_LAST_YEAR_LAST_YEAR,
        critical=True,
        critical_at=4,
    ),
    _audit_item(
        10,
        "Others concerned about drinking",
        "Has a relative or friend or a doctor or another health worker been concerned about your drinking or "
        "suggested you cut down?",
        _AUDIT_NO_NOT_LAST_YEAR_LAST_YEAR,
        critical=True,
        critical_at=4,
    ),
)

# WHO zone II (hazardous) starts at 8; the manual suggests 7 for women and people over 65 (applied in `score`).
AUDIT_LOWER_CUTOFF = 7
AUDIT_OLDER_ADULT_AGE = 65

AUDIT = Instrument(
    code="audit",
    name="AUDIT",
    timeframe="Past year",
    items=_AUDIT_ITEMS,
    # WHO risk zones I-IV, by total only.
    bands=(
        Band("low_risk", 0, 7),
        Band("hazardous", 8, 15),
        Band("harmful", 16, 19),
        Band("possible_dependence", 20, 40),
    ),
    attribution=(
        "AUDIT (Alcohol Use Disorders Identification Test): Babor, Higgins-Biddle, Saunders & Monteiro, "
        "World Health Organization, 2001."
    ),
    licence_note=(
        "Published by the WHO and widely reproduced; item text embedded. WHO terms for use in commercial software "
        "are not yet confirmed [verify]."
    ),
    embeds_item_text=True,
    min_total=0,
    max_total=40,
)


# --- AUDIT-C ----------------------------------------------------------------------------------------------------

# Positive screen thresholds by sex for scoring (stored apart from gender identity). Unknown sex uses the lower,
# safer threshold. The UK variant (>= 5) is not used.
AUDIT_C_THRESHOLDS = {"male": 4, "female": 3, None: 3}

AUDIT_C = Instrument(
    code="audit_c",
    name="AUDIT-C",
    timeframe="Past year",
    items=_AUDIT_ITEMS[:3],  # the same Item objects as AUDIT items 1-3
    # These bands document the default cut-off (female or sex unknown: positive at 3 or more); `score(sex="male")`
    # moves the cut-off to 4.
    bands=(
        Band("negative", 0, 2),
        Band("positive", 3, 12),
    ),
    attribution=(
        "AUDIT-C: the three consumption questions of the WHO AUDIT (Bush, Kivlahan, McDonell, Fihn & Bradley, 1998)."
    ),
    licence_note=(
        "Derived from the WHO AUDIT and widely reproduced; item text embedded. WHO terms for use in commercial "
        "software are not yet confirmed [verify]."
    ),
    embeds_item_text=True,
    min_total=0,
    max_total=12,
)


# --- DAST-10 ----------------------------------------------------------------------------------------------------

# Licence: non-commercial only, so labels are short descriptors, not the item wording. Answers are stored as
# answered (Yes = 1, No = 0); item 3 ("able to stop when you want?") is reverse-scored by `score`: No earns the point.
DAST10 = Instrument(
    code="dast10",
    name="DAST-10",
    timeframe="Past 12 months",
    items=_items(
        [
            ("Drug use other than for medical reasons", None),
            ("Use of more than one drug at a time", None),
            ("Able to stop using drugs when wanted", None),
            ("Blackouts or flashbacks from drug use", None),
            ("Feeling bad or guilty about drug use", None),
            ("Spouse or parents complain about drug use", None),
            ("Neglected family because of drug use", None),
            ("Illegal activities to obtain drugs", None),
            ("Withdrawal symptoms on stopping", None),
            ("Medical problems from drug use", None),
        ],
        _NO_YES,
        item3={"reverse_scored": True},
    ),
    bands=(
        Band("none", 0, 0),
        Band("low", 1, 2),
        Band("moderate", 3, 5),
        Band("substantial", 6, 8),
        Band("severe", 9, 10),
    ),
    attribution="DAST-10: © 1982 Harvey A. Skinner and the Centre for Addiction and Mental Health (CAMH), Toronto.",
    licence_note=(
        "Non-commercial only: reproduction is allowed for non-commercial clinical, research and training use with "
        "credit to Dr Skinner. A commercial product needs written permission from the copyright holders before "
        "embedding item text, so labels are short descriptors."
    ),
    embeds_item_text=False,
    min_total=0,
    max_total=10,
)


INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument for instrument in (PHQ9, GAD7, PCL5, CSSRS, AUDIT, AUDIT_C, DAST10)
}


# --- Validation and scoring -------------------------------------------------------------------------------------


def get(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except KeyError:
        raise ValueError(f"Unknown instrument {code!r}; known: {', '.join(INSTRUMENTS)}") from None


def display_name(code: str) -> str:
    """The instrument's name as the clinic writes it ("PHQ-9", "C-SSRS Screener"); an unknown code is returned as is."""
    instrument = INSTRUMENTS.get(code)
    return instrument.name if instrument else code


def item_words(code: str, key: str) -> str:
    """How a screen names one item: "item 9", or "item 7 (Suicidal behaviour within the past 3 months)"."""
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        return key
    try:
        item = instrument.item(key)
    except ValueError:
        return key
    if item.key == f"item{item.number}":
        return f"item {item.number}"
    return f"item {item.number} ({item.label})"


def answer_rows(code: str, answers: list[int | None], keys: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(question, answer) for each item answered, as a reviewer reads them: ("item 9 · Thoughts ...", "Several days").

    `keys` limits the rows to those items, in that order, and pairs them with `answers` one to one (the dosing-day
    re-screen asks a subset); unanswered items read "Not asked"."""
    instrument = get(code)
    items = [instrument.item(key) for key in keys] if keys is not None else list(instrument.items)
    rows = []
    for item, value in zip(items, answers, strict=False):
        if value is None:
            answer = "Not asked"
        else:
            answer = next((option.label for option in item.options if option.value == value), str(value))
        rows.append((f"item {item.number} · {item.label}", answer))
    return rows


def _ref(instrument: Instrument, item: Item) -> str:
    """How messages name an item: "PHQ-9 item 9", or "C-SSRS Screener item 7 (Suicidal behaviour ...)"."""
    return f"{instrument.name} {item_words(instrument.code, item.key)}"


def _is_asked(item: Item, values: dict[str, int | None]) -> bool:
    if item.skipped_if is not None and values[item.skipped_if[0]] == item.skipped_if[1]:
        return False
    if item.asked_if is None:
        return True
    gate_key, gate_value = item.asked_if
    return values[gate_key] == gate_value


def check_answers(code: str, answers: Sequence[int | None], *, partial: bool = False) -> None:
    """Raise ValueError naming the first item whose answer is wrong; with partial=True, unanswered items pass."""
    instrument = get(code)
    answers = list(answers)
    expected = len(instrument.items)
    if len(answers) < expected:
        first_missing = instrument.items[len(answers)]
        raise ValueError(
            f"{instrument.name}: expected {expected} answers, got {len(answers)} "
            f"(no answer slot for item {first_missing.number})"
        )
    if len(answers) > expected:
        raise ValueError(
            f"{instrument.name}: expected {expected} answers, got {len(answers)} (there is no item {expected + 1})"
        )
    values = {item.key: value for item, value in zip(instrument.items, answers, strict=True)}
    for item, value in zip(instrument.items, answers, strict=True):
        asked = _is_asked(item, values)
        if value is None:
            if asked and not partial:
                raise ValueError(f"{_ref(instrument, item)}: missing answer")
            continue
        allowed = item.allowed_values
        # bool is an int subclass; True is not an answer value.
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise ValueError(
                f"{_ref(instrument, item)}: {value!r} is not an allowed answer ({', '.join(map(str, allowed))})"
            )
        if not asked and item.skipped_if is not None and values[item.skipped_if[0]] == item.skipped_if[1]:
            if value == 0:
                continue  # a skipped item answered 0 adds nothing: accepted, as entry forms without the skip sent it
            gate = instrument.item(item.skipped_if[0])
            gate_answer = next(option.label for option in gate.options if option.value == item.skipped_if[1])
            raise ValueError(
                f"{_ref(instrument, item)}: not asked when {item_words(instrument.code, gate.key)} is {gate_answer}; "
                "leave it unanswered"
            )
        if not asked:
            gate_key, gate_value = item.asked_if
            gate = instrument.item(gate_key)
            gate_answer = next(option.label for option in gate.options if option.value == gate_value)
            raise ValueError(
                f"{_ref(instrument, item)}: not asked unless {item_words(instrument.code, gate.key)} is {gate_answer}; "
                "leave it unanswered"
            )


def audit_lower_cutoff(sex: str | None, age_years: int | None) -> bool:
    """True where WHO's AUDIT manual (Babor et al. 2001) applies its cut-off one point lower (7 instead of 8): women
    and people over 65. Unknown sex or age takes the lower cut-off, and 65 itself counts: the safer readings."""
    return sex != "male" or age_years is None or age_years >= AUDIT_OLDER_ADULT_AGE


def bands_for(code: str, *, sex: str | None = None, age_years: int | None = None) -> tuple[Band, ...]:
    """The instrument's bands as they apply to this person. For the AUDIT where the lower cut-off applies (see
    `audit_lower_cutoff`), low risk ends at 6 and hazardous starts at 7, so a reported band's bounds always hold the
    total; every other instrument (and the AUDIT otherwise) keeps its published bands."""
    instrument = get(code)
    if instrument is AUDIT and audit_lower_cutoff(sex, age_years):
        return tuple(
            Band(band.name, band.low, AUDIT_LOWER_CUTOFF - 1)
            if band.name == "low_risk"
            else Band(band.name, AUDIT_LOWER_CUTOFF, band.high)
            if band.name == "hazardous"
            else band
            for band in instrument.bands
        )
    return instrument.bands


PCL5_DEFAULT_CUTOFF = 33


def score(
    code: str,
    answers: Sequence[int | None],
    *,
    sex: str | None = None,
    age_years: int | None = None,
    pcl5_cutoff: int | None = None,
) -> InstrumentScore:
    """Total, band and fired critical items for a complete set of answers (None only where not asked).

    `sex` is the sex for scoring ("male", "female" or None for unknown): the AUDIT-C threshold depends on it, and,
    with `age_years`, the AUDIT's low-risk cut-off (see `audit_lower_cutoff`). `pcl5_cutoff` is the clinic's
    provisional PTSD cut-off (default 33).
    """
    instrument = get(code)
    if sex not in AUDIT_C_THRESHOLDS:
        raise ValueError(f"Unknown sex for scoring {sex!r}; expected 'male', 'female' or None")
    check_answers(code, answers, partial=False)
    answers = list(answers)
    values = {item.key: value for item, value in zip(instrument.items, answers, strict=True)}
    total = sum(item.points(value) for item, value in zip(instrument.items, answers, strict=True) if value is not None)
    flags = tuple(
        item.key
        for item, value in zip(instrument.items, answers, strict=True)
        if item.critical and value is not None and value >= item.critical_at
    )
    if instrument is CSSRS:
        band = _cssrs_risk(values)
    elif instrument is AUDIT_C:
        band = "positive" if total >= AUDIT_C_THRESHOLDS[sex] else "negative"
    elif instrument is PCL5:
        cutoff = PCL5_DEFAULT_CUTOFF if pcl5_cutoff is None else pcl5_cutoff
        band = "probable_ptsd" if total >= cutoff else "below_threshold"
    else:
        bands = bands_for(instrument.code, sex=sex, age_years=age_years)
        band = next(band.name for band in bands if band.contains(total))
    return InstrumentScore(code=instrument.code, total=total, band=band, flags=flags)


# --- PCL-5 helpers ----------------------------------------------------------------------------------------------


def pcl5_clusters(answers: Sequence[int | None]) -> dict[str, int]:
    """Sums of the DSM-5 symptom clusters B (items 1-5), C (6-7), D (8-14) and E (15-20)."""
    check_answers("pcl5", answers)
    answers = list(answers)
    return {cluster: sum(answers[n - 1] for n in numbers) for cluster, numbers in PCL5_CLUSTERS.items()}


def pcl5_provisional_diagnosis(answers: Sequence[int | None]) -> bool:
    """DSM-5 symptom-cluster rule: items rated 2 or more count; needs 1 B, 1 C, 2 D and 2 E
    (docs/clinical-references.md#instruments)."""
    check_answers("pcl5", answers)
    answers = list(answers)
    for cluster, numbers in PCL5_CLUSTERS.items():
        endorsed = sum(1 for n in numbers if answers[n - 1] >= PCL5_SYMPTOM_THRESHOLD)
        if endorsed < PCL5_CLUSTER_MINIMUM[cluster]:
            return False
    return True
