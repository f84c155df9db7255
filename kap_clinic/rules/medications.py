"""Current medications that interact with ketamine or esketamine (docs/clinical-references.md#interactions).

`classify` recognises common generic and US brand names; anything it does not recognise returns None and is left to
the clinician reading the medication list.
"""

import re
from enum import StrEnum


class InteractionClass(StrEnum):
    BENZODIAZEPINE = "benzodiazepine"
    LAMOTRIGINE = "lamotrigine"
    MAOI = "maoi"
    STIMULANT = "stimulant"
    OPIOID = "opioid"
    SEDATIVE_HYPNOTIC = "sedative_hypnotic"


INTERACTION_LABELS: dict[InteractionClass, str] = {
    InteractionClass.BENZODIAZEPINE: "benzodiazepine",
    InteractionClass.LAMOTRIGINE: "lamotrigine",
    InteractionClass.MAOI: "monoamine oxidase inhibitor (MAOI)",
    InteractionClass.STIMULANT: "psychostimulant",
    InteractionClass.OPIOID: "opioid",
    InteractionClass.SEDATIVE_HYPNOTIC: "sedative-hypnotic",
}

INTERACTION_NOTES: dict[InteractionClass, str] = {
    # Spravato label (sedation); Frontiers Psychiatry 2020 (blunted response above ~8 mg diazepam-equivalent a day).
    InteractionClass.BENZODIAZEPINE: (
        "Benzodiazepines add to ketamine's sedation and may blunt its antidepressant response, "
        "especially above about 8 mg diazepam-equivalent a day."
    ),
    # Andrade, J Clin Psychiatry 2017.
    InteractionClass.LAMOTRIGINE: "Lamotrigine may blunt the response to ketamine.",
    # Spravato label.
    InteractionClass.MAOI: "MAOIs taken with ketamine or esketamine can raise blood pressure further.",
    InteractionClass.STIMULANT: "Psychostimulants taken with ketamine or esketamine can raise blood pressure further.",
    InteractionClass.OPIOID: "Opioids add to ketamine's sedation and raise the risk of slowed breathing.",
    InteractionClass.SEDATIVE_HYPNOTIC: (
        "Sleep medicines and barbiturates add to ketamine's sedation and raise the risk of slowed breathing."
    ),
}

_NAMES: dict[InteractionClass, tuple[str, ...]] = {
    InteractionClass.BENZODIAZEPINE: (
        "alprazolam",
        "xanax",
        "niravam",
        "lorazepam",
        "ativan",
        "clonazepam",
        "klonopin",
        "diazepam",
        "valium",
        "temazepam",
        "restoril",
        "chlordiazepoxide",
        "librium",
        "clorazepate",
        "tranxene",
        "oxazepam",
        "serax",
        "triazolam",
        "halcion",
        "midazolam",
        "versed",
        "clobazam",
        "onfi",
        "estazolam",
        "flurazepam",
    ),
    InteractionClass.LAMOTRIGINE: ("lamotrigine", "lamictal"),
    # Psychiatric MAOIs plus selegiline; antibiotics with MAOI activity (linezolid) are deliberately left out.
    InteractionClass.MAOI: (
        "phenelzine",
        "nardil",
        "tranylcypromine",
        "parnate",
        "isocarboxazid",
        "marplan",
        "selegiline",
        "emsam",
        "eldepryl",
        "zelapar",
        "moclobemide",
        "manerix",
        "aurorix",
    ),
    InteractionClass.STIMULANT: (
        "amphetamine",
        "dextroamphetamine",
        "adderall",
        "dexedrine",
        "zenzedi",
        "evekeo",
        "mydayis",
        "lisdexamfetamine",
        "vyvanse",
        "methamphetamine",
        "desoxyn",
        "methylphenidate",
        "ritalin",
        "concerta",
        "metadate",
        "methylin",
        "daytrana",
        "quillichew",
        "jornay",
        "dexmethylphenidate",
        "focalin",
        "modafinil",
        "provigil",
        "armodafinil",
        "nuvigil",
    ),
    InteractionClass.OPIOID: (
        "oxycodone",
        "oxycontin",
        "percocet",
        "roxicodone",
        "hydrocodone",
        "vicodin",
        "norco",
        "zohydro",
        "morphine",
        "ms contin",
        "hydromorphone",
        "dilaudid",
        "oxymorphone",
        "fentanyl",
        "duragesic",
        "tramadol",
        "ultram",
        "tapentadol",
        "nucynta",
        "buprenorphine",
        "suboxone",
        "subutex",
        "zubsolv",
        "sublocade",
        "butrans",
        "methadone",
        "dolophine",
        "methadose",
        "codeine",
        "meperidine",
        "demerol",
    ),
    InteractionClass.SEDATIVE_HYPNOTIC: (
        "zolpidem",
        "ambien",
        "edluar",
        "intermezzo",
        "eszopiclone",
        "lunesta",
        "zopiclone",
        "imovane",
        "zaleplon",
        "sonata",
        "phenobarbital",
        "butalbital",
        "fioricet",
        "fiorinal",
        "secobarbital",
        "seconal",
        "pentobarbital",
        "nembutal",
        "amobarbital",
        "zolpimist",
        # Orexin-receptor antagonists: non-benzodiazepine hypnotics with additive CNS depression (their labels warn
        # of it with other CNS depressants); the REMS form's "non-benzodiazepine sedative-hypnotics" question.
        "suvorexant",
        "belsomra",
        "lemborexant",
        "dayvigo",
        "daridorexant",
        "quviviq",
        # Other prescription hypnotics: ramelteon (melatonin-receptor agonist) and low-dose doxepin sold as a sleep
        # medicine (the brand only: doxepin itself is a tricyclic antidepressant). Listed as the safer reading.
        "ramelteon",
        "rozerem",
        "silenor",
        "chloral hydrate",
    ),
}

# Lower-cased name (one or more words) -> class. Every name is written in lower case above.
_CLASS_BY_NAME: dict[str, InteractionClass] = {
    name: interaction_class for interaction_class, names in _NAMES.items() for name in names
}
_LONGEST_NAME_WORDS = max(len(name.split()) for name in _CLASS_BY_NAME)


def classify(drug_name: str) -> InteractionClass | None:
    """The interaction class of a medication as written on a medication list, or None when it is not one of ours.

    Matching is by whole word and ignores case, punctuation and dose text ("Xanax 0.5 mg", "Adderall XR 20mg").
    For a combination product the first recognised name wins ("Tylenol with codeine" is an opioid).
    """
    words = re.findall(r"[a-z]+", drug_name.lower())
    for start in range(len(words)):
        for length in range(min(_LONGEST_NAME_WORDS, len(words) - start), 0, -1):
            interaction_class = _CLASS_BY_NAME.get(" ".join(words[start : start + length]))
            if interaction_class is not None:
                return interaction_class
    return None
