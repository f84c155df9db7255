"""The billing codes a prior authorization may cover (docs/clinical-references.md#billing-codes), and reading a typed
list of them."""

import math

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

# Codes a payer will not pay without a prior authorization on file: the Spravato visit (G2082, G2083) and the drug
# (J0013) (docs/clinical-references.md#billing-codes). An insured patient's session billing one of them needs an
# approved authorization covering it; self-pay patients need none.
AUTHORIZATION_REQUIRED_CODES = frozenset({"G2082", "G2083", "J0013"})


def milligram_units(dose_mg) -> int:
    """A drug billed per milligram is billed in whole milligrams, rounded up (J0013, and any fee priced per mg)."""
    return math.ceil(dose_mg)


def needs_authorization(code: str) -> bool:
    """Whether a session billing `code` to an insurer needs a prior authorization."""
    return code in AUTHORIZATION_REQUIRED_CODES


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


# ---- What a session bills, in the payer's units ---------------------------------------------------------------------

# Spravato visits follow the dose given (docs/clinical-references.md#billing-codes): ≤ 56 mg is G2082, more G2083.
SPRAVATO_LOW_DOSE_MAX_MG = 56

# Codes whose unit is a milligram of drug (J0013: esketamine, 1 mg): the dose given is the number of units.
PER_MG_CODES = frozenset({"J0013"})


def session_codes(route: str, dose_mg: float | int | None) -> dict[str, int]:
    """The codes a dosing session of this route bills and the units of each, given its dose in milligrams.

    Intranasal esketamine: G2082 (≤ 56 mg) or G2083 (> 56 mg), one unit, and J0013 with one unit per milligram
    (rounded up to the whole milligram; nothing when the dose is not known). IV ketamine: 96365 (the infusion) and
    J3490 (the drug), one each. IM ketamine: 96372 and J3490, one each. Oral and sublingual doses are taken at the
    clinic under a prescription and bill no procedure code here.
    """
    if route == "intranasal":
        if dose_mg is None or dose_mg <= 0:
            return {"G2082": 1}  # the visit is billed even before the dose is known; the lower code until then
        mg = milligram_units(dose_mg)
        visit = "G2082" if dose_mg <= SPRAVATO_LOW_DOSE_MAX_MG else "G2083"
        return {visit: 1, "J0013": mg}
    if route == "iv":
        return {"96365": 1, "J3490": 1}
    if route == "im":
        return {"96372": 1, "J3490": 1}
    return {}


def units_under(authorized_codes: list[str] | tuple[str, ...], billed: dict[str, int]) -> int:
    """The units a session uses of an authorization covering `authorized_codes`.

    A session uses an authorization only when it bills one of its codes. Its units are counted in the first of the
    authorization's codes (in the order the payer listed them) that the session bills: an authorization for J0013
    counts milligrams, one for G2083 counts visits. An authorization listing no codes counts one unit per session.
    """
    if not authorized_codes:
        return 1
    for code in authorized_codes:
        if code in billed:
            return billed[code]
    return 0


def covers(authorized_codes: list[str] | tuple[str, ...], billed: dict[str, int]) -> bool:
    """Whether a session billing `billed` falls under an authorization for `authorized_codes`."""
    return not authorized_codes or any(code in billed for code in authorized_codes)


def charge_codes(route: str, dose_mg: float | int | None, infusion_minutes: int | None = None) -> dict[str, int]:
    """The codes the clinic charges for a completed dosing session, and the units of each.

    Unlike `session_codes` (what an authorization may be counted in), a charge bills Spravato by the visit code
    alone, which bundles the drug and the 2 hours' observation (G2082 up to 56 mg, G2083 over). IV: the first hour of
    infusion (96365), each further hour begun after 30 minutes more (96366), and the drug (J3490). IM: the injection
    (96372) and the drug. Sublingual and oral: an established-patient office visit (99213).
    """
    if route == "iv":
        codes = {"96365": 1}
        extra_hours = max(0, ((infusion_minutes or 0) - 31) // 60)
        if extra_hours:
            codes["96366"] = extra_hours
        return {**codes, "J3490": 1}
    if route == "im":
        return {"96372": 1, "J3490": 1}
    if route == "intranasal":
        return {"G2082" if (dose_mg or 0) <= SPRAVATO_LOW_DOSE_MAX_MG else "G2083": 1}
    return {"99213": 1}


# Psychotherapy by face-to-face minutes (CPT time rule, docs/clinical-references.md#billing-codes): 16-37 minutes is
# 90832, 38-52 is 90834, 53 or more is 90837; under 16 minutes nothing is billable.
PSYCHOTHERAPY_BY_MINUTES = ((53, "90837"), (38, "90834"), (16, "90832"))


def psychotherapy_code(minutes: int | None) -> str | None:
    """The psychotherapy code a session of `minutes` face-to-face minutes bills, or None under 16 minutes."""
    return next((code for least, code in PSYCHOTHERAPY_BY_MINUTES if (minutes or 0) >= least), None)
