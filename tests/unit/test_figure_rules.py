"""Roll, cure and self-cure from counts of accounts by stage before and after a period."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from portal.collections.rules import Ratio, stage_figures

ORDER = ["current", "early", "m1", "m2", "m3", "charge_off"]


def test_roll_rates_count_a_move_to_the_next_stage_or_beyond():
    f = stage_figures({("early", "m1", True): 2, ("early", "m2", False): 1,
                       ("early", "early", True): 5, ("early", "current", False): 2,
                       ("m1", "m1", True): 4}, ORDER)
    rolls = {a: (b, r) for a, b, r in f.rolls}
    assert rolls["early"] == ("m1", Ratio(3, 10))
    assert rolls["m1"] == ("m2", Ratio(0, 4))
    assert rolls["m3"] == ("charge_off", Ratio(0, 0)) and rolls["m3"][1].rate is None
    assert "current" not in rolls and "charge_off" not in rolls


def test_cure_counts_late_accounts_back_to_current_and_self_cure_those_without_help():
    f = stage_figures({("m1", "current", True): 2, ("m2", "current", False): 1,
                       ("m1", "m2", False): 3, ("current", "current", False): 50,
                       ("current", "early", False): 7}, ORDER)
    assert f.cure == Ratio(3, 6) and f.self_cure == Ratio(1, 6)
    assert f.cure.rate == Fraction(1, 2)


def test_a_stage_the_profile_no_longer_has_counts_as_the_latest():
    f = stage_figures({("early", "gone", False): 1}, ORDER)
    assert f.rolls[0][2] == Ratio(1, 1)


moves = st.dictionaries(st.tuples(st.sampled_from(ORDER), st.sampled_from(ORDER), st.booleans()),
                        st.integers(0, 1000))


@given(moves)
def test_every_figure_is_a_share_of_its_own_accounts(m):
    f = stage_figures(m, ORDER)
    for _, _, r in f.rolls:
        assert 0 <= r.numerator <= r.denominator
    assert 0 <= f.self_cure.numerator <= f.cure.numerator <= f.cure.denominator
    assert f.cure.denominator == sum(n for (a, _, _), n in m.items() if a != "current")
