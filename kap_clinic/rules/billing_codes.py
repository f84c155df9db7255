"""The billing codes a prior authorization may cover (docs/clinical-references.md#billing-codes), and reading a typed
list of them."""

AUTHORIZATION_CODES: dict[str, str] = {
    "G2082": "Esketamine visit, up to 56 mg, with observation (Medicare)",
    "G2083": "Esketamine visit, over 56 mg, with observation (Medicare)",
    "J0013": "Esketamine nasal spray, 1 mg",
    "J3490": "Unclassified drug (ketamine)",
    "96365": "IV infusion, first hour",
    "96366": "IV infusion, each additional hour",
    "96372": "Therapeutic IM/SC injection",
    "90791": "Psychiatric diagnostic evaluation",
    "90792": "Diagnostic evaluation with medical services",
    "90832": "Psychotherapy, 30 min",
    "90833": "Psychotherapy add-on with E/M, 30 min",
    "90834": "Psychotherapy, 45 min",
    "90836": "Psychotherapy add-on with E/M, 45 min",
    "90837": "Psychotherapy, 60 min",
    "90838": "Psychotherapy add-on with E/M, 60 min",
    **{str(code): "Office E/M, new patient" for code in range(99202, 99206)},
    **{str(code): "Office E/M, established patient" for code in range(99212, 99216)},
}

# Codes staff may still find on older paperwork, with what to use instead.
RETIRED_CODES = {"S0013": "S0013 was replaced by J0013 on 2026-01-01."}


def parse_codes(text: str) -> tuple[list[str], list[str]]:
    """The codes in a comma-separated text (upper-cased, in order, once each), and the problems found in it."""
    codes, problems = [], []
    for raw in (text or "").replace(";", ",").split(","):
        code = raw.strip().upper().lstrip("+")  # add-on codes are often written "+90833"
        if not code or code in codes:
            continue
        if code in RETIRED_CODES:
            problems.append(RETIRED_CODES[code])
        elif code not in AUTHORIZATION_CODES:
            problems.append(f"{code[:12]} is not a code the clinic bills under an authorization.")
        else:
            codes.append(code)
    return codes, problems
