"""What staff read about one account while working a case: balance, recent ledger, plans,
payments, letters and disputes. Read-only, one query per kind of record.

The balance and the ledger are the staff package's own (from balances and accounts, below it);
the other parts come from sections that the features above register (`register_section`,
called in `portal.wiring`): plans, payments, consequences' letters and disputes.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from portal.accounts.ledger_lines import ledger_lines
from portal.accounts.models import Account, LedgerEntry
from portal.balances.services import balance_of
from portal.extensions import db

RECENT = 20
# The ledger panel: the newest lines, daily penalty interest folded into runs of days, read
# from at most LEDGER_ROWS rows (over a year of daily postings).
LEDGER_LINES = 40
LEDGER_ROWS = 500

# A section gets the account and returns the keys it adds to the context.
Section = Callable[[Account], dict]
_sections: list[Section] = []


def register_section(section: Section) -> None:
    """Add a feature's part of the staff account context (idempotent)."""
    if section not in _sections:
        _sections.append(section)


def latest(model, account_id: int, *order, limit: int = RECENT) -> list:
    """An account's newest records of `model` (ordered by `order`), at most `limit`."""
    return list(db.session.scalars(select(model).where(model.account_id == account_id)
                                   .order_by(*order).limit(limit)))


def account_context(account, as_of: date | None = None) -> dict:
    """The account's balance as of `as_of` (default: the cardholder's today) and its latest
    ledger entries, plans, payments, letters and disputes, newest first.

    Rendered by templates/staff/_account_context.html; callers may add keys
    (`referrals`, `current_dispute_id`) that the template shows when present."""
    context = {
        "account": account,
        "balance": balance_of(account, as_of),
        "ledger": ledger_lines(latest(LedgerEntry, account.id, LedgerEntry.effective_date.desc(),
                                      LedgerEntry.id.desc(), limit=LEDGER_ROWS))[:LEDGER_LINES],
    }
    for section in _sections:
        context.update(section(account))
    return context
