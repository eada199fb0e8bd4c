"""Plan servicing: changing an agreed plan's schedule within the "servicing" section of a
profile. Pure: no Flask, no database (unit-tested alone, with Hypothesis).

The section (days in the cardholder's calendar):

- date_change_allowed: may the cardholder move the payment date of the instalments to come;
- date_changes_per_plan: how many date changes one plan may have (0-12);
- date_change_max_days: how far the next payment date may move, earlier or later (1-31);
- delay_max_days: how many days one instalment may be delayed (0 = no delays, up to 60);
  each instalment may be delayed once;
- skips_per_plan: how many instalments of one plan may be skipped (0-12); a skipped
  instalment moves to the end, one period after the last, extending the plan;
- max_term_months: no change may put a payment later than this many months after the plan
  started (1-120; cn: the five-year ceiling of personalised instalments).

Every operation keeps each instalment's amount and what was paid towards it, so the schedule
still adds up to the plan total and the unpaid instalments to what is left to pay; paid
instalments never move. Limits are counted from the changes recorded (`Counts`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from portal.domain.dates import add_months
from portal.domain.schedule import due_dates
from portal.policy.rules import out_of_bounds, usable_values

DEFAULTS = {
    "date_change_allowed": True,
    "date_changes_per_plan": 2,
    "date_change_max_days": 15,
    "delay_max_days": 14,
    "skips_per_plan": 1,
    "max_term_months": 60,
}
BOUNDS = {"date_changes_per_plan": (0, 12), "date_change_max_days": (1, 31),
          "delay_max_days": (0, 60), "skips_per_plan": (0, 12), "max_term_months": (1, 120)}
KINDS = ("date_change", "delay", "skip")

# Why a change is refused (the pages turn each into a sentence).
NOT_ACTIVE, NOT_ALLOWED, LIMIT_REACHED, ALREADY_DELAYED = (
    "not_active", "not_allowed", "limit_reached", "already_delayed")
NO_SUCH_INSTALMENT, ALREADY_PAID, PARTLY_PAID, NOTHING_TO_MOVE = (
    "no_such_instalment", "already_paid", "partly_paid", "nothing_to_move")
DATE_PAST, DATE_TOO_FAR, DELAY_TOO_FAR, DATE_UNCHANGED, DATE_AFTER_NEXT, BEYOND_TERM = (
    "date_past", "date_too_far", "delay_too_far", "date_unchanged", "date_after_next",
    "beyond_term")


def unusable_keys(section) -> list[str]:
    """Keys of a "servicing" section this code cannot read ("" when it is not a table):
    publishing refuses such a version (registered in portal.wiring)."""
    if not isinstance(section, dict):
        return [""]
    bad = out_of_bounds(section, BOUNDS)
    if "date_change_allowed" in section and not isinstance(section["date_change_allowed"], bool):
        bad.append("date_change_allowed")
    return bad


@dataclass(frozen=True)
class ServicingPolicy:
    date_change_allowed: bool
    date_changes_per_plan: int
    date_change_max_days: int
    delay_max_days: int
    skips_per_plan: int
    max_term_months: int

    @classmethod
    def from_section(cls, section) -> "ServicingPolicy":
        """The policy from a section, each key it lacks or cannot use taken from DEFAULTS."""
        return cls(**usable_values(section, DEFAULTS, unusable_keys))


@dataclass(frozen=True)
class Row:
    """One instalment as servicing sees it; `key` identifies the stored row."""
    key: int
    seq: int
    due_date: date
    amount: int
    paid_amount: int = 0
    paid: bool = False
    missed: bool = False

    @property
    def still_due(self) -> int:
        return self.amount - self.paid_amount

    @property
    def status(self) -> str:  # as an instalment row's status reads
        return "paid" if self.paid else "missed" if self.missed else "due"


@dataclass(frozen=True)
class Counts:
    """The changes already recorded on a plan."""
    date_changes: int = 0
    skips: int = 0
    delayed_keys: frozenset = frozenset()


class ServicingRefused(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def allowed_kinds(policy: ServicingPolicy, counts: Counts) -> dict[str, str | None]:
    """For each kind of change, None when it may be asked for, else the refusal code."""
    return {
        "date_change": (NOT_ALLOWED if not policy.date_change_allowed
                        or policy.date_changes_per_plan == 0
                        else LIMIT_REACHED if counts.date_changes >= policy.date_changes_per_plan
                        else None),
        "delay": NOT_ALLOWED if policy.delay_max_days == 0 else None,
        "skip": (NOT_ALLOWED if policy.skips_per_plan == 0
                 else LIMIT_REACHED if counts.skips >= policy.skips_per_plan else None),
    }


def _check_kind(policy: ServicingPolicy, counts: Counts, kind: str) -> None:
    refusal = allowed_kinds(policy, counts)[kind]
    if refusal:
        raise ServicingRefused(refusal)


def _check_term(rows: list[Row], started: date, policy: ServicingPolicy) -> None:
    if max(r.due_date for r in rows) > add_months(started, policy.max_term_months):
        raise ServicingRefused(BEYOND_TERM)


def _target(rows: list[Row], seq: int) -> Row:
    row = next((r for r in rows if r.seq == seq), None)
    if row is None:
        raise ServicingRefused(NO_SUCH_INSTALMENT)
    if row.paid:
        raise ServicingRefused(ALREADY_PAID)
    return row


def change_date(rows: list[Row], new_first: date, *, frequency: str, today: date,
                started: date, policy: ServicingPolicy, counts: Counts) -> list[Row]:
    """Move every instalment still to come (unpaid, due today or later) so the first of them
    falls on `new_first` and the rest follow at the plan's frequency. Missed instalments keep
    their dates (delay or pay them). Paid instalments never move, and one paid ahead may sit
    between instalments still to come: a change that would move one of them past it (the
    schedule's dates no longer in the instalments' order) is refused (DATE_AFTER_NEXT)."""
    _check_kind(policy, counts, "date_change")
    upcoming = [r for r in rows if not r.paid and r.due_date >= today]
    if not upcoming:
        raise ServicingRefused(NOTHING_TO_MOVE)
    if new_first < today:
        raise ServicingRefused(DATE_PAST)
    if new_first == upcoming[0].due_date:
        raise ServicingRefused(DATE_UNCHANGED)
    if abs((new_first - upcoming[0].due_date).days) > policy.date_change_max_days:
        raise ServicingRefused(DATE_TOO_FAR)
    earlier = [r.due_date for r in rows if r.seq < upcoming[0].seq]
    if earlier and new_first < max(earlier):
        raise ServicingRefused(DATE_PAST)
    dates = dict(zip((r.key for r in upcoming), due_dates(new_first, len(upcoming), frequency)))
    result = [replace(r, due_date=dates[r.key]) if r.key in dates else r for r in rows]
    ordered = [r.due_date for r in sorted(result, key=lambda r: r.seq)]
    if any(a > b for a, b in zip(ordered, ordered[1:])):
        raise ServicingRefused(DATE_AFTER_NEXT)
    _check_term(result, started, policy)
    return result


def delay(rows: list[Row], seq: int, new_date: date, *, today: date, started: date,
          policy: ServicingPolicy, counts: Counts) -> list[Row]:
    """Delay one unpaid instalment (upcoming or missed) to `new_date`: at most
    `delay_max_days` after its due date, not in the past, before the next instalment, once
    per instalment. A missed instalment delayed is due again."""
    _check_kind(policy, counts, "delay")
    row = _target(rows, seq)
    if row.key in counts.delayed_keys:
        raise ServicingRefused(ALREADY_DELAYED)
    if new_date <= row.due_date or new_date < today:
        raise ServicingRefused(DATE_PAST)
    if (new_date - row.due_date).days > policy.delay_max_days:
        raise ServicingRefused(DELAY_TOO_FAR)
    later = [r.due_date for r in rows if r.seq > seq]
    if later and new_date >= min(later):
        raise ServicingRefused(DATE_AFTER_NEXT)
    result = [replace(r, due_date=new_date, missed=False) if r.key == row.key else r
              for r in rows]
    _check_term(result, started, policy)
    return result


def skip(rows: list[Row], seq: int, *, frequency: str, started: date,
         policy: ServicingPolicy, counts: Counts) -> list[Row]:
    """Skip one unpaid instalment nothing was paid towards: it moves to the end, one period
    after the last instalment, and the instalments after it move up one place."""
    _check_kind(policy, counts, "skip")
    row = _target(rows, seq)
    if row.paid_amount:
        raise ServicingRefused(PARTLY_PAID)
    others = [r for r in rows if r.key != row.key]
    last = max(r.due_date for r in rows)
    moved = replace(row, due_date=due_dates(last, 2, frequency)[1], missed=False)
    result = [replace(r, seq=i) for i, r in enumerate(others + [moved], start=1)]
    _check_term(result, started, policy)
    return result
