"""The program path as pure rules: which moves exist, and which of them staff may make by hand."""

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patients.status import MANUAL_TARGETS, TRANSITIONS, Status, can_move, manual_targets

statuses = st.sampled_from(list(Status))


def reachable_from(start: Status) -> set[Status]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


# ---- Worked examples ----------------------------------------------------------------------------


def test_labels_read_as_words():
    assert Status.NOT_ELIGIBLE.label == "Not eligible"
    assert Status.REFERRED.label == "Referred"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("referred", "screening"),
        ("screening", "eligible"),
        ("eligible", "enrolled"),
        ("enrolled", "induction"),
        ("induction", "maintenance"),
        ("maintenance", "induction"),  # relapse: a new induction series
        ("maintenance", "discharged"),
        ("discharged", "referred"),  # referred again after discharge
    ],
)
def test_steps_along_the_program_path_are_allowed(current, target):
    assert can_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("referred", "induction"),
        ("referred", "eligible"),
        ("screening", "maintenance"),
        ("enrolled", "eligible"),
        ("induction", "referred"),
        ("discharged", "enrolled"),
        ("discharged", "induction"),
    ],
)
def test_skipping_or_reversing_steps_is_not_allowed(current, target):
    assert not can_move(current, target)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("referred", [Status.DISCHARGED]),
        ("screening", [Status.REFERRED, Status.DISCHARGED]),
        ("eligible", [Status.DISCHARGED]),
        ("enrolled", [Status.INDUCTION, Status.DISCHARGED]),
        ("induction", [Status.MAINTENANCE, Status.DISCHARGED]),
        ("maintenance", [Status.INDUCTION, Status.DISCHARGED]),
        ("discharged", [Status.REFERRED]),
    ],
)
def test_the_chart_offers_only_the_manual_moves_from_each_status(current, expected):
    assert manual_targets(current) == expected


def test_an_unknown_status_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        can_move("on_hold", "discharged")
    with pytest.raises(ValueError):
        manual_targets("on_hold")


def test_every_status_has_its_transitions_listed():
    assert set(TRANSITIONS) == set(Status)


# ---- Properties ---------------------------------------------------------------------------------


@given(statuses)
def test_every_manual_target_is_an_allowed_transition(current):
    for target in manual_targets(current):
        assert target in MANUAL_TARGETS
        assert can_move(current, target)


@given(statuses)
def test_enrolled_eligible_and_not_eligible_are_never_manual_targets(current):
    # Those belong to the enrollment gate and to a clinician's screening sign-off.
    offered = manual_targets(current)
    assert Status.ENROLLED not in offered
    assert Status.ELIGIBLE not in offered
    assert Status.NOT_ELIGIBLE not in offered


@given(statuses)
def test_the_chart_always_offers_at_least_one_move(current):
    assert manual_targets(current)


@given(statuses)
def test_from_every_status_there_is_a_path_to_discharged(current):
    assert Status.DISCHARGED in reachable_from(current)


@given(statuses)
def test_staff_can_always_discharge_directly_until_discharged(current):
    if current != Status.DISCHARGED:
        assert Status.DISCHARGED in manual_targets(current)


@given(statuses, statuses)
def test_a_manual_move_is_offered_exactly_when_it_is_allowed_and_manual(current, target):
    assert (target in manual_targets(current)) == (can_move(current, target) and target in MANUAL_TARGETS)


@given(statuses)
def test_no_status_moves_to_itself(current):
    assert not can_move(current, current)


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=30))
def test_a_walk_of_allowed_moves_can_always_still_reach_discharged(choices):
    current = Status.REFERRED
    for choice in choices:
        options = sorted(TRANSITIONS[current])
        current = options[choice % len(options)]
        assert Status.DISCHARGED in reachable_from(current)
