"""What a session bills in the payer's units (kap_clinic.rules.billing_codes): worked examples and properties."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kap_clinic.rules.billing_codes import (
    AUTHORIZATION_REQUIRED_CODES,
    covers,
    needs_authorization,
    psychotherapy_code,
    session_codes,
    units_under,
)


def test_spravato_visit_code_follows_the_dose_and_j0013_counts_milligrams():
    assert session_codes("intranasal", 56) == {"G2082": 1, "J0013": 56}
    assert session_codes("intranasal", Decimal("56.0")) == {"G2082": 1, "J0013": 56}
    assert session_codes("intranasal", 84) == {"G2083": 1, "J0013": 84}
    assert session_codes("intranasal", Decimal("56.5")) == {"G2083": 1, "J0013": 57}  # part of a mg is a whole unit
    assert session_codes("intranasal", 28) == {"G2082": 1, "J0013": 28}


def test_iv_and_im_bill_their_own_codes_and_oral_bills_none():
    assert session_codes("iv", Decimal("0.5")) == {"96365": 1, "J3490": 1}
    assert session_codes("im", 50) == {"96372": 1, "J3490": 1}
    assert session_codes("oral", 200) == {}
    assert session_codes("sublingual", 200) == {}


def test_an_iv_session_uses_nothing_of_a_spravato_authorization():
    iv = session_codes("iv", None)
    assert not covers(["G2082"], iv)
    assert units_under(["G2082"], iv) == 0
    assert units_under(["G2082", "G2083", "J0013"], iv) == 0


def test_units_are_counted_in_the_first_listed_code_the_session_bills():
    spravato_84 = session_codes("intranasal", 84)
    assert units_under(["J0013"], spravato_84) == 84
    assert units_under(["G2083", "J0013"], spravato_84) == 1
    assert units_under(["J0013", "G2083"], spravato_84) == 84
    assert units_under(["G2082"], spravato_84) == 0  # an 84 mg visit is G2083
    assert units_under([], spravato_84) == 1  # no codes listed: one unit per session, as before


doses = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("200"), places=1)


@given(doses)
def test_exactly_one_spravato_visit_code_and_it_switches_at_56_mg(dose):
    billed = session_codes("intranasal", dose)
    visits = {"G2082", "G2083"} & set(billed)
    assert len(visits) == 1
    assert visits == ({"G2082"} if dose <= 56 else {"G2083"})
    assert dose <= billed["J0013"] < dose + 1


@given(doses, doses)
def test_more_milligrams_never_bill_fewer_j0013_units(a, b):
    low, high = sorted((a, b))
    assert session_codes("intranasal", low)["J0013"] <= session_codes("intranasal", high)["J0013"]


@given(
    st.sampled_from(["iv", "im", "intranasal", "oral", "sublingual"]),
    doses,
    st.lists(st.sampled_from(["G2082", "G2083", "J0013", "J3490", "96365", "96372", "90837"]), max_size=4, unique=True),
)
def test_a_session_uses_units_only_of_authorizations_covering_one_of_its_codes(route, dose, codes):
    billed = session_codes(route, dose)
    used = units_under(codes, billed)
    assert (used > 0) == covers(codes, billed) or (not codes and used == 1)
    if codes and not set(codes) & set(billed):
        assert used == 0


def test_only_the_spravato_codes_need_an_authorization():
    assert AUTHORIZATION_REQUIRED_CODES == {"G2082", "G2083", "J0013"}
    assert all(needs_authorization(code) for code in session_codes("intranasal", 84))
    assert not any(needs_authorization(code) for code in session_codes("iv", Decimal("0.5")))
    assert not needs_authorization("S0013")  # retired: J0013 replaced it


def test_psychotherapy_follows_the_cpt_time_rule():
    minutes = [None, 0, 15, 16, 37, 38, 52, 53, 240]
    expected = [None, None, None, "90832", "90832", "90834", "90834", "90837", "90837"]
    assert [psychotherapy_code(m) for m in minutes] == expected
