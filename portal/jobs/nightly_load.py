"""Loading one batch of accounts for the nightly run: a fixed number of queries per batch."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, literal, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Account, LedgerEntry
from portal.balances.sums import (ZERO, add, after_snapshots, by_closed, component_totals,
                                  covered_sparse, usable_snapshots)
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
    one for the sparse entries they cover, and one grouped query for the entries after them
    (those up to the start day fold into one bucket, later ones by day).
    Entries after the start whose source_ref begins with one of `leave_out_after_start` are
    left out (a replay of days the nightly run already walked leaves out its own postings).
    """
    snaps = usable_snapshots(starts)
    by_start = defaultdict(list)
    for account_id, start in starts.items():
        by_start[start].append(account_id)
    groups = by_closed(list(starts), snaps)
    opening = or_(*[and_(LedgerEntry.account_id.in_(ids), LedgerEntry.effective_date <= start)
                    for start, ids in by_start.items()])
    bucket = case((opening, literal(_NO_DAY)), else_=LedgerEntry.effective_date).label("bucket")
    query = (
        select(LedgerEntry.account_id, bucket, *component_totals())
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(after_snapshots(groups), LedgerEntry.effective_date <= end)
        .group_by(LedgerEntry.account_id, bucket))
    if leave_out_after_start:
        query = query.where(or_(opening, and_(*[~LedgerEntry.source_ref.startswith(prefix)
                                                for prefix in leave_out_after_start])))
    openings: dict[int, tuple] = {account_id: (snap.principal, snap.interest, snap.fees, 0, 0)
                                  for account_id, snap in snaps.items()}
    covered = covered_sparse(groups)
    for account_id, *sums in (db.session.execute(covered) if covered is not None else ()):
        openings[account_id] = add(openings[account_id], tuple(int(s) for s in sums))
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
