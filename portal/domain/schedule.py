"""Instalment schedules: due dates and amounts that always add up to the plan total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from portal.domain.dates import add_months


class Frequency(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: date
    amount: int


def due_dates(first: date, count: int, frequency: Frequency) -> list[date]:
    """``count`` strictly increasing due dates starting on ``first``.

    Monthly dates keep ``first.day``, clamped to short months (31 Jan, 28/29 Feb, 31 Mar).
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    frequency = Frequency(frequency)
    if frequency is Frequency.MONTHLY:
        # Always offset from `first`, never from the previous date, so one short
        # month does not pull every later date back to the 28th.
        return [add_months(first, i, anchor_day=first.day) for i in range(count)]
    step = timedelta(days=7 if frequency is Frequency.WEEKLY else 14)
    return [first + step * i for i in range(count)]


def _split(total: int, parts: int) -> list[int]:
    base, remainder = divmod(total, parts)
    return [base] * (parts - 1) + [base + remainder]


def build_schedule(
    total: int,
    count: int,
    frequency: Frequency,
    first: date,
    *,
    down_payment: int = 0,
) -> list[Instalment]:
    """Instalments (seq from 1) whose amounts add up exactly to ``total``.

    Without a down payment: ``count`` equal amounts of ``total // count`` with the
    rounding remainder on the last one. With ``down_payment > 0``: seq 1 is the down
    payment due on ``first`` and the rest is split the same way over the following
    ``count - 1`` dates. Every instalment is > 0; ValueError otherwise (count < 1,
    total <= 0, negative down payment, down payment >= total when count > 1, or a
    total too small to give each instalment at least one minor unit).
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if total <= 0:
        raise ValueError(f"total must be > 0, got {total}")
    if down_payment < 0:
        raise ValueError("down_payment must not be negative")
    dates = due_dates(first, count, frequency)
    if down_payment > 0:
        if count == 1:
            if down_payment != total:
                raise ValueError("a single-instalment plan's down payment must equal the total")
            amounts = [total]
        else:
            if down_payment >= total:
                raise ValueError("down_payment must be less than total when count > 1")
            rest = total - down_payment
            if rest < count - 1:
                raise ValueError("total after down payment is too small for that many instalments")
            amounts = [down_payment] + _split(rest, count - 1)
    else:
        if total < count:
            raise ValueError("total is too small for that many instalments")
        amounts = _split(total, count)
    return [Instalment(seq=i + 1, due_date=d, amount=a) for i, (d, a) in enumerate(zip(dates, amounts))]


def count_for_amount(total: int, per_instalment: int) -> int:
    """Instalments needed to pay ``total`` at ``per_instalment`` per period (ceiling).

    Note ``build_schedule`` then splits evenly, so instalments are usually below
    ``per_instalment`` and the last one can exceed it by less than the count
    (total 10 at 3 -> 4 instalments of 2, 2, 2, 4). Callers promising "no more than X"
    must check the built schedule.
    """
    if total <= 0:
        raise ValueError(f"total must be > 0, got {total}")
    if per_instalment <= 0:
        raise ValueError(f"per_instalment must be > 0, got {per_instalment}")
    return -(-total // per_instalment)
