"""Promise-to-pay policy: the "promises" section of a profile, and the limits it puts on a
promise a cardholder makes online. Pure: no Flask, no database (unit-tested alone).

The section (amounts in minor units, days in the cardholder's calendar):

- max_days_ahead: the latest promised date, counted from the cardholder's today (1-90);
- minimum_amount: the smallest promise per currency, "default" for the others;
- minimum_percent_of_overdue: the smallest promise as a whole percent of the overdue amount
  (0-100); the larger of the two minimums applies, never more than the overdue amount;
- grace_days: days after the promised date during which payments still count and escalation
  stays paused (0-30), for a payment made on the day that reaches the ledger later;
- broken_limit / broken_window_days: with this many promises broken within the window (by
  the end of their grace), a cardholder cannot make another promise online until the oldest
  of them leaves the window (a collector still can).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from portal.policy.rules import is_whole_number, out_of_bounds, usable_values

DEFAULTS = {
    "max_days_ahead": 14,
    "minimum_amount": {"CNY": 10000, "HKD": 10000, "USD": 2000, "default": 1000},
    "minimum_percent_of_overdue": 10,
    "grace_days": 3,
    "broken_limit": 2,
    "broken_window_days": 90,
}
# key -> (lowest, highest) accepted value of the whole numbers
BOUNDS = {"max_days_ahead": (1, 90), "minimum_percent_of_overdue": (0, 100),
          "grace_days": (0, 30), "broken_limit": (1, 20), "broken_window_days": (1, 365)}
MAX_MINIMUM = 100_000_000

# Why a cardholder may not make a promise online now (the page turns each into a sentence).
NOTHING_OVERDUE, PLAN_ACTIVE, OPEN_PROMISE, TOO_MANY_BROKEN = (
    "nothing_overdue", "plan_active", "open_promise", "too_many_broken")
# Why a typed promise is refused.
AMOUNT_TOO_SMALL, AMOUNT_TOO_LARGE, DATE_PAST, DATE_TOO_FAR = (
    "amount_too_small", "amount_too_large", "date_past", "date_too_far")


def unusable_keys(section) -> list[str]:
    """Keys of a "promises" section this code cannot read ("" when it is not a table):
    publishing refuses such a version (registered in portal.wiring)."""
    if not isinstance(section, dict):
        return [""]
    bad = out_of_bounds(section, BOUNDS)
    if "minimum_amount" in section:
        table = section["minimum_amount"]
        if not (isinstance(table, dict) and table and all(
                isinstance(k, str) and is_whole_number(v) and 0 < v <= MAX_MINIMUM
                for k, v in table.items())):
            bad.append("minimum_amount")
    return bad


@dataclass(frozen=True)
class PromisePolicy:
    max_days_ahead: int
    minimum_amount: dict
    minimum_percent_of_overdue: int
    grace_days: int
    broken_limit: int
    broken_window_days: int

    @classmethod
    def from_section(cls, section) -> "PromisePolicy":
        """The policy from a section, each key it lacks or cannot use taken from DEFAULTS."""
        return cls(**usable_values(section, DEFAULTS, unusable_keys))

    def minimum_for(self, currency: str) -> int:
        table = self.minimum_amount
        return int(table.get(currency, table.get("default", DEFAULTS["minimum_amount"]["default"])))


@dataclass(frozen=True)
class Limits:
    """What a promise typed today may be: an amount from `least` to `most` (minor units), a
    date from `earliest` to `latest`."""
    least: int
    most: int
    earliest: date
    latest: date


def limits(policy: PromisePolicy, currency: str, overdue: int, owed: int, today: date) -> Limits:
    """The bounds of a promise made on `today` on an account with `overdue` past due and
    `owed` in total: at least the larger minimum (amount, share of overdue, rounded up), but
    never more than the overdue amount; at most all that is owed."""
    share = -(-overdue * policy.minimum_percent_of_overdue // 100)
    least = min(max(policy.minimum_for(currency), share, 1), max(overdue, 1))
    return Limits(least, max(owed, least), today, today + timedelta(days=policy.max_days_ahead))


def check_promise(bounds: Limits, amount: int, promised_on: date) -> list[str]:
    """The reasons (codes above) a promise of `amount` by `promised_on` is outside `bounds`."""
    problems = []
    if amount < bounds.least:
        problems.append(AMOUNT_TOO_SMALL)
    elif amount > bounds.most:
        problems.append(AMOUNT_TOO_LARGE)
    if promised_on < bounds.earliest:
        problems.append(DATE_PAST)
    elif promised_on > bounds.latest:
        problems.append(DATE_TOO_FAR)
    return problems


def refusal(policy: PromisePolicy, *, overdue: int, plan_active: bool, open_promise: bool,
            broken_last_days: list[date], today: date) -> str | None:
    """Why no promise may be made online today (None: one may). `broken_last_days` are the
    last days (promised date + grace) of the account's broken promises."""
    if plan_active:
        return PLAN_ACTIVE
    if open_promise:
        return OPEN_PROMISE
    if overdue <= 0:
        return NOTHING_OVERDUE
    if len(refused_by(policy, broken_last_days, today)) >= policy.broken_limit:
        return TOO_MANY_BROKEN
    return None


def refused_by(policy: PromisePolicy, broken_last_days: list[date], today: date) -> list[date]:
    """The broken promises' last days that still count against the cardholder today."""
    start = today - timedelta(days=policy.broken_window_days)
    return sorted(d for d in broken_last_days if start <= d < today)


def refused_until(policy: PromisePolicy, broken_last_days: list[date], today: date) -> date:
    """The first day a cardholder refused for broken promises may make one online again."""
    counted = refused_by(policy, broken_last_days, today)
    # Once the oldest that keeps the count at the limit leaves the window, one fewer counts.
    oldest = counted[len(counted) - policy.broken_limit]
    return oldest + timedelta(days=policy.broken_window_days + 1)


def last_day(promised_on: date, grace_days: int) -> date:
    """The last day payments count towards a promise and escalation stays paused."""
    return promised_on + timedelta(days=grace_days)
