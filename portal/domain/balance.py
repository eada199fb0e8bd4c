"""What is overdue, from the figures the ledger gives: one definition for pages and jobs.

The issuer's statement gives a minimum payment and the oldest unpaid due date. Until that date
has passed, the minimum payment is *due* but not *overdue*: the overdue amount is 0 and the
minimum payment still to pay is the *next payment due*. The due date itself is not late (0 days
past due); from the day after, what is unpaid of the minimum payment, plus fees posted since the
statement, is overdue. No due date means nothing is past due.
"""
from __future__ import annotations

from datetime import date


def is_past_due(due_date: date | None, as_of: date) -> bool:
    """True when the statement's due date has passed by `as_of` (the due date itself is not)."""
    return due_date is not None and due_date < as_of


def overdue_amount(total: int, minimum_due: int, fees_after_feed: int,
                   payments_after_feed: int, *, due_date: date | None, as_of: date) -> int:
    """What is past due on `as_of`: 0 while the due date has not passed (or there is none);
    after it, the statement's minimum due plus fees posted since, less payments since
    (negative amounts, net of reversals), never below zero nor above the total owed."""
    if not is_past_due(due_date, as_of):
        return 0
    return max(0, min(total, minimum_due + fees_after_feed + payments_after_feed))


def next_due_amount(total: int, minimum_due: int, payments_after_feed: int, *,
                    due_date: date | None, as_of: date) -> int:
    """The minimum payment still to pay that is not yet past due on `as_of`: the statement's
    minimum due less payments since, never below zero nor above the total owed; 0 once the
    due date has passed (it is then part of the overdue amount)."""
    if is_past_due(due_date, as_of):
        return 0
    return max(0, min(total, minimum_due + payments_after_feed))
