"""PHQ-9 baseline, response and remission (docs/clinical-references.md#outcomes, #clinical-review): plain functions, no
database.

Sources: response is a drop of 50% or more from baseline (KARE/IV studies; SUSTAIN-3, PMC10439056); remission is a
PHQ-9 total below 5 (SUSTAIN-3); the baseline is stored per episode of care (docs/clinical-references.md#outcomes design
note).
"""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kap_clinic.rules.outcomes import Status, change_from_baseline, episode

totals = st.integers(min_value=0, max_value=27)
DAY0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def at(days: int) -> datetime:
    return DAY0 + timedelta(days=days)


def test_worked_example_baseline_22():
    assert change_from_baseline(22, 11).status is Status.RESPONSE  # exactly 50% below: a response
    assert change_from_baseline(22, 12).status is Status.NON_RESPONSE
    assert change_from_baseline(22, 4).status is Status.REMISSION
    assert change_from_baseline(22, 5).status is Status.RESPONSE  # 5 is not below 5
    change = change_from_baseline(22, 10)
    assert (change.points, change.percent) == (-12, -54)
    assert change.summary == "-12 points (-54%) from baseline 22: Response"


def test_a_worse_score_is_non_response_with_a_positive_change():
    change = change_from_baseline(23, 24)
    assert (change.points, change.percent, change.status) == (1, 4, Status.NON_RESPONSE)
    assert change.summary == "+1 points (+4%) from baseline 23: Not responding"


def test_a_zero_baseline_has_no_percentage():
    assert change_from_baseline(0, 3).percent is None
    assert change_from_baseline(0, 6).status is Status.NON_RESPONSE


def test_the_episode_baseline_is_the_last_score_before_the_first_dose():
    points = [(at(-10), 20), (at(-2), 22), (at(3), 15), (at(10), 9)]

    course = episode(points, started_at=at(0))

    assert (course.baseline, course.baseline_at) == (22, at(-2))
    assert [(when, change.total, change.status) for when, change in course.changes] == [
        (at(3), 15, Status.NON_RESPONSE),
        (at(10), 9, Status.RESPONSE),
    ]
    assert course.latest.status is Status.RESPONSE


def test_without_a_pre_treatment_score_there_is_no_baseline():
    """A score after dosing began is never the baseline (it would understate the change)."""
    course = episode([(at(3), 15)], started_at=at(0))
    assert course.baseline is None and course.latest is None


def test_before_any_dose_the_latest_score_is_the_baseline_so_far():
    course = episode([(at(-5), 18), (at(-1), 21)], started_at=None)
    assert (course.baseline, course.changes) == (21, ())


@given(baseline=totals, total=totals)
def test_status_follows_the_definitions(baseline, total):
    status = change_from_baseline(baseline, total).status
    if total < 5:
        assert status is Status.REMISSION
    elif baseline > 0 and total <= baseline / 2:
        assert status is Status.RESPONSE
    else:
        assert status is Status.NON_RESPONSE


@given(baseline=totals, better=totals, worse=totals)
def test_a_lower_score_is_never_a_worse_status(baseline, better, worse):
    rank = {Status.REMISSION: 0, Status.RESPONSE: 1, Status.NON_RESPONSE: 2}
    low, high = sorted((better, worse))
    assert rank[change_from_baseline(baseline, low).status] <= rank[change_from_baseline(baseline, high).status]


@given(st.lists(st.tuples(st.integers(-30, 30), totals), max_size=12), st.integers(-30, 30))
def test_every_score_after_the_start_is_compared_and_none_before(raw, start_day):
    points = [(at(day), total) for day, total in raw]
    course = episode(points, started_at=at(start_day))
    before = [p for p in points if p[0] <= at(start_day)]
    if before:
        assert len(course.changes) == len([p for p in points if p[0] > at(start_day)])
        assert all(change.baseline == course.baseline for _, change in course.changes)
    else:
        assert course.baseline is None and course.changes == ()
