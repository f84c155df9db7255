"""The relapse warning rule (docs/clinical-references.md#relapse, clinic policy) on plain PHQ-9 totals."""

from hypothesis import given
from hypothesis import strategies as st

from kap_clinic.rules.relapse import relapse_reason

totals = st.integers(min_value=0, max_value=27)


def test_a_rise_of_five_from_the_lowest_score_warns():
    assert relapse_reason([14, 8, 6, 9], 11) == (
        "PHQ-9 rose 5 points from its lowest score since dosing began (6 to 11)."
    )


def test_a_rise_of_four_does_not_warn():
    assert relapse_reason([14, 8, 6, 9], 10) is None


def test_back_to_ten_after_remission_warns_when_the_rise_rule_is_set_higher():
    assert relapse_reason([12, 4, 6], 10, rise_points=8) == "PHQ-9 back to 10 after a remission score of 4."


def test_ten_without_an_earlier_remission_does_not_warn():
    assert relapse_reason([12, 7, 8], 10) is None


def test_no_earlier_score_means_no_warning():
    assert relapse_reason([], 27) is None


@given(earlier=st.lists(totals, min_size=1, max_size=20), latest=totals)
def test_warns_exactly_when_a_rule_holds(earlier, latest):
    expected = latest - min(earlier) >= 5 or (latest >= 10 and min(earlier) < 5)
    assert (relapse_reason(earlier, latest) is not None) == expected


@given(earlier=st.lists(totals, min_size=1, max_size=20), latest=totals)
def test_a_score_at_or_below_the_lowest_never_warns(earlier, latest):
    if latest <= min(earlier):
        assert relapse_reason(earlier, latest) is None


@given(earlier=st.lists(totals, min_size=1, max_size=20), latest=totals)
def test_order_of_earlier_scores_does_not_matter(earlier, latest):
    assert relapse_reason(earlier, latest) == relapse_reason(sorted(earlier), latest)


# --- against the pre-treatment baseline (issue item 16; docs/clinical-references.md#outcomes, #clinical-review)
# ---------------------------------------------


def test_staying_at_22_to_24_from_a_baseline_of_23_is_not_responding():
    """Nothing fired here before the baseline rule: 24 is only 2 above the nadir of 22."""
    assert relapse_reason([22], 24) is None
    assert relapse_reason([22], 24, baseline=23) == (
        "Not responding: PHQ-9 24 after 2 scores since dosing began, no drop from the pre-treatment baseline of 23 "
        "(response needs 50%)."
    )
    assert relapse_reason([22, 24], 23, baseline=23).startswith("Not responding: PHQ-9 23 after 3 scores")


def test_the_first_score_after_dosing_is_too_early_for_non_response():
    assert relapse_reason([], 22, baseline=23) is None


def test_five_above_the_baseline_warns_even_on_the_first_score():
    assert relapse_reason([], 20, baseline=15) == "PHQ-9 20 is 5 points above the pre-treatment baseline of 15."


def test_a_response_or_remission_does_not_warn():
    assert relapse_reason([14], 11, baseline=22) is None
    assert relapse_reason([6], 4, baseline=22) is None


@given(earlier=st.lists(totals, min_size=1, max_size=20), latest=totals, baseline=totals)
def test_with_a_baseline_warns_exactly_when_a_rule_holds(earlier, latest, baseline):
    nadir = min(earlier)
    not_responding = latest >= 5 and not (baseline > 0 and (baseline - latest) * 2 >= baseline)
    expected = latest - nadir >= 5 or (latest >= 10 and nadir < 5) or latest - baseline >= 5 or not_responding
    assert (relapse_reason(earlier, latest, baseline=baseline) is not None) == expected
