"""Read-only queries behind the cardholder's account pages.

Every function here takes the signed-in cardholder's own account (see `owned_account_or_404`)
and never looks at another cardholder's rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort
from flask_login import current_user
from sqlalchemy import func, select

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
    account = db.session.scalar(
        select(Account).where(Account.id == account_id, Account.cardholder_id == current_user.id)
    )
    if account is None:
        abort(404)
    return account


def cardholder_today() -> date:
    """Today's calendar date in the signed-in cardholder's own time zone."""
    return local_date(utcnow(), current_user.timezone)


def accounts_of_current_user() -> list[Account]:
    """The signed-in cardholder's accounts, oldest first, in one query."""
    return list(db.session.scalars(
        select(Account).where(Account.cardholder_id == current_user.id).order_by(Account.id)
    ))


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
    entries: list[LedgerEntry]
    page: int
    has_previous: bool
    has_next: bool


def history_page(account: Account, filters: HistoryFilter, page: int = 1,
                 per_page: int = PER_PAGE) -> HistoryPage:
    """One page of the account's ledger, newest first, in a single query.

    The query count does not depend on how many entries the account has: one SELECT fetches
    `per_page + 1` rows, the extra row only telling whether a next page exists. A page number
    below 1 reads as the first page; one past the end (an old bookmark, a hand-edited link,
    however large) shows the last page, which costs a count and one more SELECT.
    """
    page = clamp_page(page)
    query = select(LedgerEntry).where(LedgerEntry.account_id == account.id)
    if filters.kind is not None:
        query = query.where(LedgerEntry.kind == filters.kind)
    if filters.date_from is not None:
        query = query.where(LedgerEntry.effective_date >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(LedgerEntry.effective_date <= filters.date_to)
    rows = _page_rows(query, page, per_page)
    if not rows and page > 1:
        found = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page = max(1, -(-found // per_page))
        rows = _page_rows(query, page, per_page)
    return HistoryPage(entries=rows[:per_page], page=page, has_previous=page > 1,
                       has_next=len(rows) > per_page)


def _page_rows(query, page: int, per_page: int) -> list[LedgerEntry]:
    query = (query.order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc())
             .offset((page - 1) * per_page).limit(per_page + 1))
    return list(db.session.scalars(query))
