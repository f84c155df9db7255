"""The path a patient takes through the program, and which steps people may take by hand.

Pure: no database. `ELIGIBLE`/`NOT_ELIGIBLE` are set by a clinician's screening sign-off and
`ENROLLED` only by the enrollment gate; the other moves are made by staff with a reason.
"""

from enum import StrEnum


class Status(StrEnum):
    REFERRED = "referred"
    SCREENING = "screening"
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    ENROLLED = "enrolled"
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"
    DISCHARGED = "discharged"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


TRANSITIONS: dict[Status, frozenset[Status]] = {
    # ENROLLED from anywhere before it is reachable only through the gate (a clinician's override included).
    Status.REFERRED: frozenset({Status.SCREENING, Status.ENROLLED, Status.DISCHARGED}),
    Status.SCREENING: frozenset(
        {Status.ELIGIBLE, Status.NOT_ELIGIBLE, Status.ENROLLED, Status.REFERRED, Status.DISCHARGED}
    ),
    # An eligible patient can be screened again (the screening went stale) or enrolled through the gate.
    Status.ELIGIBLE: frozenset({Status.ENROLLED, Status.SCREENING, Status.NOT_ELIGIBLE, Status.DISCHARGED}),
    Status.NOT_ELIGIBLE: frozenset({Status.SCREENING, Status.ELIGIBLE, Status.ENROLLED, Status.DISCHARGED}),
    Status.ENROLLED: frozenset({Status.INDUCTION, Status.DISCHARGED}),
    Status.INDUCTION: frozenset({Status.MAINTENANCE, Status.DISCHARGED}),
    # Relapse in maintenance may lead to a new induction series.
    Status.MAINTENANCE: frozenset({Status.INDUCTION, Status.DISCHARGED}),
    Status.DISCHARGED: frozenset({Status.REFERRED}),
}

# Moves staff may make from the chart; the others belong to the screening sign-off and the gate.
MANUAL_TARGETS = frozenset({Status.REFERRED, Status.INDUCTION, Status.MAINTENANCE, Status.DISCHARGED})


def can_move(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def manual_targets(current: str) -> list[Status]:
    return [s for s in Status if s in TRANSITIONS[Status(current)] and s in MANUAL_TARGETS]
