"""The relapse warning rule (DOMAIN §5.2, clinic policy) on plain PHQ-9 totals."""

from hypothesis import given
from hypothesis import strategies as st

from aftercare.relapse import relapse_reason

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
