"""Loading one batch of accounts for the nightly run: a fixed number of queries per batch."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, literal, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Account, LedgerEntry
from portal.balances.models import LedgerSnapshot
from portal.balances.sums import (IS_SPARSE, ZERO, add, component_totals,
                                  feed_dependent_totals)
from portal.consequences.models import AccountNightlyState
from portal.extensions import db

_NO_DAY = date(1, 1, 1)


def load_accounts(ids: list[int]):
    """Accounts (with cardholders) and their nightly state rows, keyed by account id."""
    accounts = db.session.scalars(select(Account).options(joinedload(Account.cardholder))
                                  .where(Account.id.in_(ids)).order_by(Account.id)).unique().all()
    states = {s.account_id: s for s in db.session.scalars(
        select(AccountNightlyState).where(AccountNightlyState.account_id.in_(ids)))}
    return accounts, states


def start_day(account: Account, state: AccountNightlyState | None, end: date) -> date:
    """The last day already accounted for: the state's, or the statement's date.

    A statement fed in after the last processed day supersedes it (the issuer's figures
    already include what happened up to its date).
    """
    candidates = [d for d in (state.last_processed_day if state else None, account.feed_as_of)
                  if d is not None]
    if not candidates:
        return end.fromordinal(end.toordinal() - 1)
    return max(candidates)


def ledger_figures(starts: dict[int, date], feeds: dict[int, date | None], end: date, *,
                   leave_out_after_start: tuple[str, ...] = ()):
    """Per account: (opening sums as of its start day, {day: sums} for later days up to end).

    Sums are tuples (principal, interest, fees, fees_after_feed, payments_after_feed), where
    payments_after_feed are those not in the issuer's figures (`unapplied_payment`).
    The opening is the account's closing snapshot (when it is closed on or before the start
    day) plus what is dated after it (`portal.balances.sums`): one query for the snapshots,
    one grouped query for the entries after them (those up to the start day fold into one
    bucket, later ones by day) and one for the sparse entries the snapshots cover.
    Entries after the start whose source_ref begins with one of `leave_out_after_start` are
    left out (a replay of days the nightly run already walked leaves out its own postings).
    """
    snaps = {s.account_id: s for s in db.session.scalars(select(LedgerSnapshot).where(
        LedgerSnapshot.account_id.in_(list(starts))))
        if s.closed_through <= starts[s.account_id]}
    by_start, by_closed = defaultdict(list), defaultdict(list)
    for account_id, start in starts.items():
        by_start[start].append(account_id)
        snap = snaps.get(account_id)
        by_closed[snap.closed_through if snap else None].append(account_id)
    opening = or_(*[and_(LedgerEntry.account_id.in_(ids), LedgerEntry.effective_date <= start)
                    for start, ids in by_start.items()])
    since = or_(*[LedgerEntry.account_id.in_(ids) if closed is None else
                  and_(LedgerEntry.account_id.in_(ids), LedgerEntry.effective_date > closed)
                  for closed, ids in by_closed.items()])
    bucket = case((opening, literal(_NO_DAY)), else_=LedgerEntry.effective_date).label("bucket")
    query = (
        select(LedgerEntry.account_id, bucket, *component_totals())
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(since, LedgerEntry.effective_date <= end)
        .group_by(LedgerEntry.account_id, bucket))
    if leave_out_after_start:
        query = query.where(or_(opening, and_(*[~LedgerEntry.source_ref.startswith(prefix)
                                                for prefix in leave_out_after_start])))
    openings: dict[int, tuple] = {account_id: (snap.principal, snap.interest, snap.fees, 0, 0)
                                  for account_id, snap in snaps.items()}
    for account_id, new_fees, unapplied in _closed_parts(by_closed):
        openings[account_id] = add(openings[account_id], (0, 0, 0, int(new_fees), int(unapplied)))
    deltas: dict[int, dict[date, tuple]] = defaultdict(dict)
    for account_id, day, *sums in db.session.execute(query):
        if isinstance(day, str):  # SQLite hands back CASE results untyped
            day = date.fromisoformat(day)
        if day == _NO_DAY:
            openings[account_id] = add(openings.get(account_id, ZERO),
                                       tuple(int(s) for s in sums))
        else:
            deltas[account_id][day] = tuple(int(s) for s in sums)
    return openings, deltas


def _closed_parts(by_closed):
    """Rows (account id, fees after feed, unapplied payments) for the entries the accounts'
    snapshots cover: the sparse kinds only."""
    covered = [and_(LedgerEntry.account_id.in_(ids), LedgerEntry.effective_date <= closed)
               for closed, ids in by_closed.items() if closed is not None]
    if not covered:
        return []
    return db.session.execute(
        select(LedgerEntry.account_id, *feed_dependent_totals())
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(IS_SPARSE, or_(*covered))
        .group_by(LedgerEntry.account_id)).all()
