"""Read-only queries behind the cardholder's account pages.

Every function here takes the signed-in cardholder's own account (see `owned_account_or_404`)
and never looks at another cardholder's rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.ledger_lines import LedgerLine, ledger_lines
from portal.accounts.models import Account, EntryKind, LedgerEntry
from portal.core.pagination import clamp_page
from portal.domain.dates import local_date
from portal.extensions import db
from portal.timeutil import utcnow

PER_PAGE = 20


def owned_account_or_404(account_id: int) -> Account:
    """The account with this id if it belongs to the signed-in cardholder; otherwise 404.

    Unknown and foreign ids look the same from outside, so no one can probe for accounts.
    """
    # The user's accounts came with the user (portal.auth.session._load_cardholder).
    account = next((a for a in current_user.accounts if a.id == account_id), None)
    if account is None:
        abort(404)
    return account


def cardholder_today() -> date:
    """Today's calendar date in the signed-in cardholder's own time zone."""
    return local_date(utcnow(), current_user.timezone)


def accounts_of_current_user() -> list[Account]:
    """The signed-in cardholder's accounts, oldest first: loaded with the user
    (portal.auth.session._load_cardholder), so no statement of its own."""
    return list(current_user.accounts)


@dataclass(frozen=True)
class HistoryFilter:
    kind: EntryKind | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def active(self) -> bool:
        return any((self.kind, self.date_from, self.date_to))


@dataclass(frozen=True)
class HistoryPage:
    entries: list[LedgerLine]
    page: int
    has_previous: bool
    has_next: bool


def history_page(account: Account, filters: HistoryFilter, page: int = 1,
                 per_page: int = PER_PAGE) -> HistoryPage:
    """One page of the account's ledger as lines, newest first, from a single query.

    Daily penalty interest is folded into one line per run of days (`ledger_lines`), so the
    pages count lines, not rows: the matching rows are read in one SELECT of the few
    columns a line needs (an account's ledger is hundreds of rows, not millions), grouped,
    then cut into pages. A page number below 1 reads as the first page; one past the end (an
    old bookmark, a hand-edited link, however large) shows the last page.
    """
    page = clamp_page(page)
    query = select(LedgerEntry.effective_date, LedgerEntry.kind, LedgerEntry.component,
                   LedgerEntry.amount, LedgerEntry.currency, LedgerEntry.source_ref
                   ).where(LedgerEntry.account_id == account.id)
    if filters.kind is not None:
        query = query.where(LedgerEntry.kind == filters.kind)
    if filters.date_from is not None:
        query = query.where(LedgerEntry.effective_date >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(LedgerEntry.effective_date <= filters.date_to)
    query = query.order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc())
    lines = ledger_lines(db.session.execute(query))
    pages = max(1, -(-len(lines) // per_page))
    page = min(page, pages)
    start = (page - 1) * per_page
    return HistoryPage(entries=lines[start:start + per_page], page=page,
                       has_previous=page > 1, has_next=page < pages)
