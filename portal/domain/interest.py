"""Daily simple interest, accrued exactly: what is posted never exceeds the disclosed rate.

Each day's exact interest, ``balance * rate / 100 / day_count`` minor units, is added to a
carried remainder kept in billionths of a minor unit (`CARRY_SCALE`); the whole minor units
are posted and the rest carried to the next day. Every step rounds down, so the sum of the
postings over any period is at most the exact interest (and short of it by less than one minor
unit plus a billionth per day). Rounding each day half-up instead would charge 1 fen a day on
every principal from 10.00 to 29.99 at 18.25%, twice the disclosed rate.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal.domain.money import divide_half_up

DAY_COUNTS = (360, 365, 366)
CARRY_SCALE = 10**9  # the carried remainder's unit: a billionth of a minor unit


def _rate_ratio(annual_rate_percent: Decimal) -> tuple[int, int]:
    if isinstance(annual_rate_percent, float):
        raise TypeError("floats are not accepted for rates; use Decimal")
    try:
        rate = Decimal(annual_rate_percent)
        num, den = rate.as_integer_ratio()
    except (ValueError, OverflowError, ArithmeticError) as exc:
        raise ValueError(f"invalid rate {annual_rate_percent!r}") from exc
    if not Decimal(0) <= rate <= Decimal(100):
        raise ValueError(f"annual rate must be within 0..100 percent, got {rate}")
    return num, den


def _exact_day(balance_minor: int, annual_rate_percent: Decimal, day_count: int) -> tuple[int, int]:
    """One day's exact interest as a fraction (numerator, denominator) of minor units."""
    if day_count not in DAY_COUNTS:
        raise ValueError(f"day_count must be one of {DAY_COUNTS}, got {day_count}")
    num, den = _rate_ratio(annual_rate_percent)
    return max(balance_minor, 0) * num, den * 100 * day_count


def daily_interest(balance_minor: int, annual_rate_percent: Decimal, day_count: int = 365) -> int:
    """About one day's interest, rounded half-up: for telling the cardholder what a day costs.

    Postings use `accrue_day`, which carries the fraction instead of rounding it. Returns 0
    for a zero or negative (credit) balance. Raises ValueError for a day_count other than
    360/365/366 or a rate outside 0..100.
    """
    num, den = _exact_day(balance_minor, annual_rate_percent, day_count)
    return divide_half_up(num, den) if num else 0


def accrue_day(balance_minor: int, annual_rate_percent: Decimal, day_count: int = 365,
               carry: int = 0) -> tuple[int, int]:
    """One day's posting and the remainder to carry: ``(whole minor units, new carry)``.

    `carry` is the remainder from the day before, in `CARRY_SCALE` units (0 <= carry <
    CARRY_SCALE). The posting plus the new carry equal the old carry plus the day's exact
    interest, rounded down to a billionth of a minor unit. Same errors as `daily_interest`.
    """
    if not 0 <= carry < CARRY_SCALE:
        raise ValueError(f"carry must be within 0..{CARRY_SCALE - 1}, got {carry}")
    num, den = _exact_day(balance_minor, annual_rate_percent, day_count)
    return divmod(carry + num * CARRY_SCALE // den, CARRY_SCALE)


def interest_between(
    balance_minor: int,
    annual_rate_percent: Decimal,
    start: date,
    end: date,
    day_count: int = 365,
) -> list[tuple[date, int]]:
    """One ``(day, amount)`` posting per day from ``start`` (inclusive) to ``end`` (exclusive),
    on a constant balance, carrying the remainder from day to day as the nightly job does.

    Zero-amount days are included, so the list always has ``(end - start).days`` entries;
    the job skips them.
    """
    if end < start:
        raise ValueError("end must not be before start")
    postings, carry = [], 0
    for i in range((end - start).days):
        amount, carry = accrue_day(balance_minor, annual_rate_percent, day_count, carry)
        postings.append((start + timedelta(days=i), amount))
    return postings
