"""Daily simple interest, rounded half-up once per posting to the minor unit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal.domain.money import divide_half_up

DAY_COUNTS = (360, 365, 366)


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


def daily_interest(balance_minor: int, annual_rate_percent: Decimal, day_count: int = 365) -> int:
    """One day's interest: ``balance * rate / 100 / day_count``, rounded half-up once.

    Computed exactly with integers, so the only rounding is the final one.
    Returns 0 for a zero or negative (credit) balance. Raises ValueError for a
    day_count other than 360/365/366 or a rate outside 0..100.
    """
    if day_count not in DAY_COUNTS:
        raise ValueError(f"day_count must be one of {DAY_COUNTS}, got {day_count}")
    num, den = _rate_ratio(annual_rate_percent)
    if balance_minor <= 0:
        return 0
    return divide_half_up(balance_minor * num, den * 100 * day_count)


def interest_between(
    balance_minor: int,
    annual_rate_percent: Decimal,
    start: date,
    end: date,
    day_count: int = 365,
) -> list[tuple[date, int]]:
    """One ``(day, amount)`` posting per day from ``start`` (inclusive) to ``end`` (exclusive).

    Each day is rounded on its own, exactly as the nightly job posts, so the sum
    can differ from rounding the whole period once. Zero-amount days are included,
    so the list always has ``(end - start).days`` entries; the job may skip them.
    """
    if end < start:
        raise ValueError("end must not be before start")
    amount = daily_interest(balance_minor, annual_rate_percent, day_count)
    return [(start + timedelta(days=i), amount) for i in range((end - start).days)]
