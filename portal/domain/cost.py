"""What a plan costs: the annualised interest rate, the interest in all, the smallest and the
largest payment. Pure code; amounts in integer minor units.

The annualised rate is the yearly rate, compounded once a year, at which the payments, each
discounted from its due date back to the day the plan starts, add up to the amount the plan
takes over (the internal rate of return of the plan's cash flows, days counted as 1/365 of a
year). Every cost of a plan is interest (`interest`): plans charge no fees, so the rate is the
whole cost of the credit. A plan that adds no interest costs 0 and its rate is 0.00%.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

# The rate is a yield, not an amount of money: it is searched in binary floating point to well
# under 0.005 percentage points, then shown with two decimals.
_TOLERANCE = 1e-9
_CEILING = 1000.0  # 100,000% a year: beyond any rate a plan could carry


@dataclass(frozen=True)
class PlanCost:
    amount_credited: int      # what the plan takes over (after fees waived and any discount)
    total_repaid: int         # the sum of the payments
    annual_rate_percent: Decimal  # two decimals
    smallest_payment: int
    largest_payment: int

    @property
    def interest(self) -> int:
        """The total cost of the credit, all of it interest."""
        return self.total_repaid - self.amount_credited


def _present_value(rate: float, start: date, payments: list[tuple[date, int]]) -> float:
    base = 1.0 + rate
    return sum(amount / base ** (max((due - start).days, 0) / 365) for due, amount in payments)


def annual_rate(amount_credited: int, start: date, payments: list[tuple[date, int]]) -> float:
    """The annualised rate (a fraction, e.g. 0.1825) at which `payments` repay `amount_credited`.

    0 when the payments add up to no more than what was credited (a plan never pays the
    cardholder interest), and when every payment falls on the start day (no time, no rate).
    """
    if amount_credited <= 0:
        raise ValueError("amount_credited must be positive")
    if sum(a for _, a in payments) <= amount_credited or all(d <= start for d, _ in payments):
        return 0.0
    low, high = 0.0, 1.0
    while _present_value(high, start, payments) > amount_credited:
        high *= 2
        if high > _CEILING:
            return _CEILING
    # The present value falls as the rate rises: bisect until the bracket is tight.
    while high - low > _TOLERANCE:
        middle = (low + high) / 2
        if _present_value(middle, start, payments) > amount_credited:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def plan_cost(amount_credited: int, start: date, payments: list[tuple[date, int]]) -> PlanCost:
    """The disclosed cost of a plan that takes over `amount_credited` on `start`."""
    rate = annual_rate(amount_credited, start, payments)
    percent = Decimal(repr(rate * 100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    amounts = [a for _, a in payments]
    return PlanCost(amount_credited, sum(amounts), percent, min(amounts), max(amounts))
