from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from portal.domain.interest import (CARRY_SCALE, DAY_COUNTS, accrue_day, daily_interest,
                                    interest_between)


@pytest.mark.parametrize(
    ("balance", "rate", "day_count", "expected"),
    [
        # 1,000,000 * 18.25 / 100 / 365 = 182,500 / 365 = 500 exactly
        (1_000_000, "18.25", 365, 500),
        # 123,457 * 18 / 100 / 365 = 22,222.26 / 365 = 60.8829... -> 61
        (123_457, "18", 365, 61),
        # 100,000 * 36 / 100 / 360 = 36,000 / 360 = 100 exactly
        (100_000, "36", 360, 100),
        # 100,000 * 36 / 100 / 366 = 36,000 / 366 = 98.36... -> 98
        (100_000, "36", 366, 98),
        # 1,825 * 10 / 100 / 365 = 182.5 / 365 = 0.5 -> 1 (the half goes up)
        (1_825, "10", 365, 1),
        # 1,824 * 10 / 100 / 365 = 182.4 / 365 = 0.4997... -> 0
        (1_824, "10", 365, 0),
        # 50,000 * 0 = 0
        (50_000, "0", 365, 0),
    ],
)
def test_daily_interest_matches_hand_computed_table(balance, rate, day_count, expected):
    assert daily_interest(balance, Decimal(rate), day_count) == expected


def test_no_interest_on_zero_or_credit_balance():
    assert daily_interest(0, Decimal("18")) == 0
    assert daily_interest(-10_000, Decimal("18")) == 0


@pytest.mark.parametrize("day_count", [0, 364, 367, 30])
def test_unsupported_day_count_is_refused(day_count):
    with pytest.raises(ValueError):
        daily_interest(1000, Decimal("18"), day_count)


@pytest.mark.parametrize("rate", ["-0.01", "100.01", "NaN"])
def test_rate_outside_zero_to_hundred_is_refused(rate):
    with pytest.raises(ValueError):
        daily_interest(1000, Decimal(rate))


def test_float_rate_is_refused():
    with pytest.raises(TypeError):
        daily_interest(1000, 18.0)


def test_interest_between_carries_the_fraction_from_day_to_day():
    # 123,457 at 18% accrues 60.8829... a day: day 1 posts 60 and carries 0.88, day 2 posts
    # 61 and carries 0.77, day 3 posts 61 (182.65 exact over three days, 182 posted).
    postings = interest_between(123_457, Decimal("18"), date(2026, 2, 27), date(2026, 3, 2))
    assert postings == [
        (date(2026, 2, 27), 60),
        (date(2026, 2, 28), 61),
        (date(2026, 3, 1), 61),
    ]
    # 1,824 at 10% accrues 0.4997 a day: nothing on most days, 4 posted over ten days (4.997).
    assert sum(a for _, a in interest_between(1_824, Decimal("10"), date(2026, 1, 1),
                                              date(2026, 1, 11))) == 4


@pytest.mark.parametrize("principal", [1_000, 1_500, 2_000, 2_999])
def test_small_principals_pay_the_disclosed_rate_not_a_fen_a_day(principal):
    # Rounding each day half-up charged 1 fen a day on CN\u00a510.00-29.99 at 18.25% (36.5% a year).
    year = interest_between(principal, Decimal("18.25"), date(2027, 1, 1), date(2028, 1, 1))
    assert sum(a for _, a in year) == principal * 1825 // 10000  # 18.25% of it, rounded down


@settings(max_examples=300, deadline=None, derandomize=True)
@given(principals=st.lists(st.integers(0, 10**10), min_size=1, max_size=60),
       rate=st.decimals(min_value=0, max_value=100, places=4),
       day_count=st.sampled_from(DAY_COUNTS))
def test_postings_never_exceed_the_exact_interest_and_trail_it_by_under_one_unit(
        principals, rate, day_count):
    """Whatever the balance does day by day, what is posted up to any day is at most the exact
    interest at the disclosed rate, and short of it by less than one minor unit (plus a
    billionth a day of rounding in the carry)."""
    carry, posted, exact = 0, 0, Fraction(0)
    for day, principal in enumerate(principals, start=1):
        amount, carry = accrue_day(principal, rate, day_count, carry)
        assert amount >= 0 and 0 <= carry < CARRY_SCALE
        posted += amount
        exact += Fraction(principal) * Fraction(rate) / 100 / day_count
        assert posted <= exact
        assert exact - posted < 1 + Fraction(day, CARRY_SCALE)


def test_a_carry_outside_its_range_is_refused():
    with pytest.raises(ValueError):
        accrue_day(1_000, Decimal("18"), 365, CARRY_SCALE)
    with pytest.raises(ValueError):
        accrue_day(1_000, Decimal("18"), 365, -1)


def test_interest_between_covers_leap_day_with_end_exclusive():
    postings = interest_between(1_000_000, Decimal("18.25"), date(2028, 2, 28), date(2028, 3, 1))
    assert [d for d, _ in postings] == [date(2028, 2, 28), date(2028, 2, 29)]


def test_empty_period_posts_nothing_and_reversed_period_is_refused():
    assert interest_between(1000, Decimal("18"), date(2026, 1, 1), date(2026, 1, 1)) == []
    with pytest.raises(ValueError):
        interest_between(1000, Decimal("18"), date(2026, 1, 2), date(2026, 1, 1))
