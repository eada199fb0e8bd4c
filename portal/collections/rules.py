"""Pure rules of collections work: promise outcomes, plan outcomes, days-late buckets, rates,
and the order of a collector's worklist.

No framework here: unit-tested without a database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

KEPT, BROKEN, PENDING = "kept", "broken", "pending"
BEHIND, CANCELLED, OPEN = "behind", "cancelled", "open"

# (key, first day late, last day late or None): the filter on the assignment page.
BUCKETS = (("1-29", 1, 29), ("30-59", 30, 59), ("60-89", 60, 89), ("90-179", 90, 179),
           ("180+", 180, None))


def promise_status(amount: int, paid: int, last_day: date, today: date) -> str:
    """Kept when the payments posted from the promise's day to its last day (the promised
    date plus its grace days) cover `amount`; broken when that day has passed without it;
    pending (open) until then."""
    if paid >= amount:
        return KEPT
    return BROKEN if today > last_day else PENDING


def plan_outcome(status: str, has_missed_instalment: bool) -> str:
    """How an agreed plan is doing: kept (completed, or active with nothing missed), behind
    (active with a missed instalment, still in grace), broken, cancelled; anything else open."""
    if status == "completed" or (status == "active" and not has_missed_instalment):
        return KEPT
    if status == "active":
        return BEHIND
    if status in ("broken", "cancelled"):
        return BROKEN if status == "broken" else CANCELLED
    return OPEN


def kept_rate(kept: int, behind: int, broken: int) -> Fraction | None:
    """Share of agreed plans being kept, among those that could be kept (cancelled plans are
    left out: the cardholder or the issuer ended them); None when there are none."""
    judged = kept + behind + broken
    return Fraction(kept, judged) if judged else None


def bucket_dates(key: str, as_of: date) -> tuple[date | None, date | None]:
    """The oldest-unpaid-due-date range (earliest, latest) that puts an account in bucket
    `key` on `as_of` (days late = as_of - oldest unpaid due date)."""
    for name, low, high in BUCKETS:
        if name == key:
            earliest = as_of - timedelta(days=high) if high is not None else None
            return earliest, as_of - timedelta(days=low)
    raise KeyError(key)


def percent(rate: Fraction | None) -> int | None:
    """A rate as a whole percentage, rounded half up, for display."""
    if rate is None:
        return None
    return int(rate * 100 + Fraction(1, 2))


# Promises to pay broken within this many days count towards an account's priority.
BROKEN_PROMISE_DAYS = 90


def bucket_rank(days_past_due: int) -> int:
    """The days-late bucket an account is in, 0 (not late) to len(BUCKETS) (the last)."""
    rank = 0
    for index, (_, low, _) in enumerate(BUCKETS, start=1):
        if days_past_due >= low:
            rank = index
    return rank


@dataclass(frozen=True)
class PriorityFacts:
    days_past_due: int
    overdue: int  # minor units of the account's currency
    broken_promises: int  # broken within BROKEN_PROMISE_DAYS
    last_contact: datetime | None  # aware; None: never contacted
    account_id: int  # last tie-break, so the order is stable


def priority_key(facts: PriorityFacts) -> tuple:
    """Sort key of the worklist (ascending = work first), documented in docs/features.md:

    1. the later days-late bucket (1-29, 30-59, 60-89, 90-179, 180+) first;
    2. then more promises to pay broken in the last BROKEN_PROMISE_DAYS days first;
    3. then the larger overdue amount first (minor units, not converted between currencies);
    4. then the longest without contact first (never contacted before anyone);
    5. then the lower account id.

    Days late count by bucket, not by day, so that within a bucket the other three decide."""
    return priority_order(facts.days_past_due, facts.overdue, facts.broken_promises,
                          facts.last_contact, facts.account_id)


def priority_order(days_past_due: int, overdue: int, broken_promises: int,
                   last_contact: datetime | None, account_id: int) -> tuple:
    """`priority_key` of the facts given one by one (`PriorityFacts`' fields, in order), for a
    list that has them at hand: the worklist's page sorts 50 rows without building 50 frozen
    `PriorityFacts` (issue 15)."""
    contacted = last_contact.timestamp() if last_contact is not None else float("-inf")
    return (-bucket_rank(days_past_due), -broken_promises, -overdue, contacted, account_id)


# ---- manager figures (docs/features.md "Figures for managers") -------------------------------

CURRENT = "current"  # the stage of an account with nothing overdue (first in every profile)


@dataclass(frozen=True)
class Ratio:
    """A figure shown with its counts: numerator / denominator (None when nothing to count)."""
    numerator: int
    denominator: int

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None


@dataclass(frozen=True)
class StageFigures:
    rolls: tuple[tuple[str, str, Ratio], ...]  # (from stage, next stage, accounts rolled)
    cure: Ratio
    self_cure: Ratio


def stage_figures(moves: dict[tuple[str, str, bool], int], order: list[str]) -> StageFigures:
    """From counts of accounts by (stage before the period, stage at its end, helped in the
    period) and the profile's stages in order (the first is `current`):

    - roll rate from stage A: accounts in A before the period that are in a later stage at
      its end / accounts in A before the period, for every stage but `current` and the last;
    - cure: accounts in any stage but `current` before the period that are `current` at its
      end / accounts in any stage but `current` before it;
    - self-cure: the cured accounts that were not helped (no plan, promise or staff contact
      in the period) / the same denominator.

    A stage code the profile no longer has counts as the latest stage (it cannot roll)."""
    rank = {code: i for i, code in enumerate(order)}
    last = len(order) - 1
    rolls = []
    for i, stage in enumerate(order[1:-1], start=1):
        held = rolled = 0
        for (before, after, _helped), n in moves.items():
            if before == stage:
                held += n
                rolled += n if rank.get(after, last) > i else 0
        rolls.append((stage, order[i + 1], Ratio(rolled, held)))
    late = cured = self_cured = 0
    for (before, after, helped), n in moves.items():
        if before != CURRENT:
            late += n
            if after == CURRENT:
                cured += n
                self_cured += 0 if helped else n
    return StageFigures(tuple(rolls), Ratio(cured, late), Ratio(self_cured, late))
