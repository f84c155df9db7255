"""The Spravato (esketamine nasal spray) label's dose rules, as pure functions (docs/clinical-references.md#cadence,
#spravato, #clinical-review).

- The first session of a series is 56 mg (US label, TRD: "Day 1 starting dose 56 mg").
- Every dose is 56 or 84 mg: whole 28 mg devices, two or three of them.
- 84 mg only after a 56 mg session (spravatohcp.com dosing: 84 mg "only after an initial 56 mg dose").

Outside these a clinician writes an override (the MDD-with-acute-suicidal-ideation indication starts at 84 mg, and
other labels allow 28 mg: both are overrides here). The software checks and explains; the clinician decides.
"""

from collections.abc import Sequence
from decimal import Decimal

DEVICE_MG = Decimal("28")
FIRST_DOSE_MG = Decimal("56")
LABEL_DOSES_MG = (Decimal("56"), Decimal("84"))


def _mg(dose: Decimal) -> str:
    return f"{dose.normalize():f} mg"


def dose_problems(dose: Decimal, *, is_first: bool, had_56_before: bool) -> list[str]:
    """Why one dose breaks the label's rules, given its place in the series; [] when it keeps them."""
    problems = []
    if dose % DEVICE_MG:
        problems.append(f"{_mg(dose)} is not a whole number of 28 mg devices")
    elif dose not in LABEL_DOSES_MG:
        problems.append(f"{_mg(dose)} is not a label dose (56 or 84 mg)")
    if is_first and dose != FIRST_DOSE_MG:
        problems.append(f"the first session of a series is 56 mg, not {_mg(dose)}")
    elif dose == Decimal("84") and not had_56_before:
        problems.append("84 mg comes only after a 56 mg session")
    return problems


def series_dose_problems(doses: Sequence[Decimal]) -> list[str]:
    """Per-session doses of a planned series, in order, against the label's rules; one line per session at fault."""
    problems = []
    had_56 = False
    for number, dose in enumerate(doses, start=1):
        found = dose_problems(dose, is_first=number == 1, had_56_before=had_56)
        if found:
            problems.append(f"Session {number}: " + "; ".join(found) + ".")
        had_56 = had_56 or dose == FIRST_DOSE_MG
    return problems
