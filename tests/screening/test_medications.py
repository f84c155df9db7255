import pytest

from kap_clinic.rules.medications import INTERACTION_LABELS, INTERACTION_NOTES, InteractionClass, classify

B = InteractionClass.BENZODIAZEPINE
L = InteractionClass.LAMOTRIGINE
M = InteractionClass.MAOI
S = InteractionClass.STIMULANT
O = InteractionClass.OPIOID  # noqa: E741
H = InteractionClass.SEDATIVE_HYPNOTIC

KNOWN = [
    ("lorazepam", B),
    ("Ativan", B),
    ("clonazepam", B),
    ("Klonopin", B),
    ("diazepam", B),
    ("Valium", B),
    ("alprazolam", B),
    ("Xanax", B),
    ("temazepam", B),
    ("Restoril", B),
    ("lamotrigine", L),
    ("Lamictal", L),
    ("phenelzine", M),
    ("Nardil", M),
    ("tranylcypromine", M),
    ("Parnate", M),
    ("isocarboxazid", M),
    ("selegiline", M),
    ("Emsam", M),
    ("moclobemide", M),
    ("amphetamine", S),
    ("Adderall", S),
    ("lisdexamfetamine", S),
    ("Vyvanse", S),
    ("methylphenidate", S),
    ("Ritalin", S),
    ("Concerta", S),
    ("dexmethylphenidate", S),
    ("modafinil", S),
    ("Provigil", S),
    ("armodafinil", S),
    ("Nuvigil", S),
    ("oxycodone", O),
    ("hydrocodone", O),
    ("morphine", O),
    ("fentanyl", O),
    ("tramadol", O),
    ("buprenorphine", O),
    ("methadone", O),
    ("codeine", O),
    ("zolpidem", H),
    ("Ambien", H),
    ("eszopiclone", H),
    ("zaleplon", H),
    ("phenobarbital", H),
    ("butalbital", H),
]


@pytest.mark.parametrize(("name", "expected"), KNOWN)
def test_classify_recognises_generic_and_brand_names(name, expected):
    assert classify(name) is expected


@pytest.mark.parametrize(("name", "expected"), KNOWN)
def test_classify_ignores_case(name, expected):
    assert classify(name.upper()) is expected
    assert classify(name.lower()) is expected
    assert classify(name.swapcase()) is expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Xanax 0.5 mg", B),
        ("  lorazepam 1mg at night ", B),
        ("Adderall XR 20mg", S),
        ("Concerta 36 mg once daily", S),
        ("Lamictal 200 mg BID", L),
        ("Emsam 6 mg/24 h patch", M),
        ("oxycodone-acetaminophen 5/325", O),
        ("Tylenol with codeine #3", O),
        ("zolpidem ER 6.25mg", H),
        ("dextroamphetamine-amphetamine", S),
        ("MS Contin 15 mg", O),
    ],
)
def test_classify_ignores_dose_and_form_text(written, expected):
    assert classify(written) is expected


@pytest.mark.parametrize(
    "name", ["sertraline", "Lexapro 10 mg", "bupropion", "lithium", "linezolid", "", "   ", "5 mg", "morphinex"]
)
def test_classify_returns_none_for_drugs_outside_the_interaction_classes(name):
    assert classify(name) is None


def test_classify_matches_whole_words_only():
    # "hydromorphone" is its own opioid entry, not a match on "morphine" inside it.
    assert classify("hydromorphone") is O
    assert classify("ambient noise") is None


def test_every_class_has_a_label_and_a_plain_words_note():
    for interaction_class in InteractionClass:
        assert INTERACTION_LABELS[interaction_class]
        note = INTERACTION_NOTES[interaction_class]
        assert note.endswith(".") and note[0].isupper()


@pytest.mark.parametrize("interaction_class", [M, S])
def test_notes_for_maois_and_stimulants_mention_blood_pressure(interaction_class):
    assert "blood pressure" in INTERACTION_NOTES[interaction_class]


@pytest.mark.parametrize("interaction_class", [B, O, H])
def test_notes_for_cns_depressants_mention_sedation(interaction_class):
    assert "sedation" in INTERACTION_NOTES[interaction_class]


@pytest.mark.parametrize("interaction_class", [B, L])
def test_notes_for_benzodiazepines_and_lamotrigine_mention_blunted_response(interaction_class):
    assert "blunt" in INTERACTION_NOTES[interaction_class]


def test_class_values_are_the_stored_strings():
    assert [c.value for c in InteractionClass] == [
        "benzodiazepine",
        "lamotrigine",
        "maoi",
        "stimulant",
        "opioid",
        "sedative_hypnotic",
    ]


@pytest.mark.parametrize(
    "written",
    [
        "Belsomra 10 mg",
        "suvorexant",
        "Dayvigo 5mg at night",
        "lemborexant",
        "Quviviq",
        "daridorexant 25 mg",
        "Rozerem",
        "ramelteon 8 mg",
        "Silenor 3 mg",
        "chloral hydrate",
        "Zolpimist spray",
    ],
)
def test_non_benzodiazepine_hypnotics_are_sedative_hypnotics(written):
    """Issue item 18: the REMS form asks about non-benzodiazepine sedative-hypnotics (docs/clinical-references.md#rems);
    orexin-receptor antagonists such as suvorexant add to CNS depression (their labels)."""
    assert classify(written) is InteractionClass.SEDATIVE_HYPNOTIC


def test_doxepin_itself_stays_a_tricyclic_not_a_hypnotic():
    assert classify("doxepin 75 mg") is None
