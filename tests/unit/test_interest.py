from datetime import date
from decimal import Decimal

import pytest

from portal.domain.interest import daily_interest, interest_between


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


def test_interest_between_posts_each_day_rounded_separately():
    postings = interest_between(123_457, Decimal("18"), date(2026, 2, 27), date(2026, 3, 2))
    assert postings == [
        (date(2026, 2, 27), 61),
        (date(2026, 2, 28), 61),
        (date(2026, 3, 1), 61),
    ]
    # Per-day rounding is what the ledger sees: 1,824 at 10% accrues 0.4997 a day, which
    # rounds to 0 each day, so 10 days post 0 (rounding the period once would give 5).
    assert sum(a for _, a in interest_between(1_824, Decimal("10"), date(2026, 1, 1), date(2026, 1, 11))) == 0


def test_interest_between_covers_leap_day_with_end_exclusive():
    postings = interest_between(1_000_000, Decimal("18.25"), date(2028, 2, 28), date(2028, 3, 1))
    assert [d for d, _ in postings] == [date(2028, 2, 28), date(2028, 2, 29)]


def test_empty_period_posts_nothing_and_reversed_period_is_refused():
    assert interest_between(1000, Decimal("18"), date(2026, 1, 1), date(2026, 1, 1)) == []
    with pytest.raises(ValueError):
        interest_between(1000, Decimal("18"), date(2026, 1, 2), date(2026, 1, 1))
