"""An account's ledger sums as of a day: its closing snapshot plus the entries dated after it.

The five sums every balance is built from (`portal.balances.services`, the nightly run):
principal, interest, fees (the components), fees posted after the issuer's last statement
(`after_feed`) and payments or reversals the issuer's figures do not include yet
(`unapplied_payment`). The first three are plain sums of entries, kept per account in
`ledger_snapshot` up to `closed_through` (`portal.balances.models`). The last two depend on
`Account.feed_as_of` and on the issuer's acknowledgements, which change after the entries were
posted, so they are never snapshotted: for entries up to `closed_through` they are read from the
sparse kinds only (fees, payments, reversals: a partial index), which are a few per cycle,
while the daily interest that makes histories long is never read again.

`ledger_sums(..., snapshots=False)` is the definition: every entry up to the day, summed. The
snapshot read equals it in every case (tests/unit/test_snapshot_properties.py and the money
machine check it); a snapshot closed after the day asked for is not used.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, and_, case, func, literal, literal_column, or_, select, union_all

from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.balances.models import LedgerSnapshot
from portal.extensions import db
from portal.journal.models import not_in_issuer_figures

Sums = tuple[int, int, int, int, int]  # principal, interest, fees, fees after feed, unapplied
ZERO: Sums = (0, 0, 0, 0, 0)
NO_DAY = date(1, 1, 1)

IS_FEE = LedgerEntry.kind == EntryKind.FEE
IS_PAYMENT = LedgerEntry.kind.in_([EntryKind.PAYMENT, EntryKind.REVERSAL])
# Written with literals, exactly as the partial index's predicate, so the planner can use it.
IS_SPARSE = LedgerEntry.kind.in_([literal_column(f"'{kind}'") for kind in
                                  (EntryKind.FEE, EntryKind.PAYMENT, EntryKind.REVERSAL)])


def after_feed():
    """SQL: the entry is later than the issuer's last statement (all are, when none came)."""
    return or_(Account.feed_as_of.is_(None), LedgerEntry.effective_date > Account.feed_as_of)


def unapplied_payment():
    """SQL: a payment or reversal the issuer's figures (its minimum due) do not include yet."""
    return IS_PAYMENT & not_in_issuer_figures()


def total(condition):
    """SQL: the sum of the amounts of the entries meeting `condition` (0 when none)."""
    return func.coalesce(func.sum(case((condition, LedgerEntry.amount), else_=0)), 0)


def component_totals():
    """SQL: the five sums over the LedgerEntry rows of a query (joined with Account)."""
    return (total(LedgerEntry.component == Component.PRINCIPAL),
            total(LedgerEntry.component == Component.INTEREST),
            total(LedgerEntry.component == Component.FEE),
            total(IS_FEE & after_feed()), total(unapplied_payment()))


def feed_dependent_totals():
    """SQL: the two sums a snapshot does not hold (zeros stand for the components)."""
    return (total(IS_FEE & after_feed()), total(unapplied_payment()))


def ledger_sums(account_ids: list[int], as_of: date, *, snapshots: bool = True) -> dict[int, Sums]:
    """The five sums per account for entries dated up to `as_of`, in one query (accounts with
    no entry are left out). With `snapshots=False`, summed over the whole history."""
    if not account_ids:
        return {}
    query = _snapshot_query(account_ids, as_of) if snapshots else _full_query(account_ids, as_of)
    return {row[0]: tuple(int(s) for s in row[1:]) for row in db.session.execute(query)}


def _full_query(account_ids, as_of: date):
    return (select(LedgerEntry.account_id, *component_totals())
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(LedgerEntry.account_id.in_(account_ids), LedgerEntry.effective_date <= as_of)
            .group_by(LedgerEntry.account_id))


NAMES = ("principal", "interest", "fees", "new_fees", "unapplied")


def _labelled(*columns):
    return [column.label(name) for column, name in zip(columns, NAMES)]


def _snapshot_query(account_ids, as_of: date):
    snap = LedgerSnapshot
    usable = and_(snap.account_id == Account.id, snap.closed_through <= as_of)
    # Entries after the snapshot (all of them when there is none usable): every sum.
    since = (select(Account.id.label("account_id"), *_labelled(*component_totals()))
             .select_from(Account).outerjoin(snap, usable)
             .join(LedgerEntry, and_(
                 LedgerEntry.account_id == Account.id, LedgerEntry.effective_date <= as_of,
                 LedgerEntry.effective_date > func.coalesce(snap.closed_through,
                                                            literal(NO_DAY, Date))))
             .where(Account.id.in_(account_ids))
             .group_by(Account.id))
    # The snapshot, and the sparse entries it covers for the sums it does not hold.
    closed = (select(snap.account_id.label("account_id"),
                     *_labelled(snap.principal, snap.interest, snap.fees,
                                *feed_dependent_totals()))
              .select_from(snap).join(Account, Account.id == snap.account_id)
              .outerjoin(LedgerEntry, and_(LedgerEntry.account_id == snap.account_id, IS_SPARSE,
                                           LedgerEntry.effective_date <= snap.closed_through))
              .where(snap.account_id.in_(account_ids), snap.closed_through <= as_of)
              .group_by(snap.account_id, snap.principal, snap.interest, snap.fees))
    both = union_all(since, closed).subquery()
    return (select(both.c.account_id, *[func.sum(both.c[name]) for name in NAMES])
            .group_by(both.c.account_id))


def add(a: Sums, b: Sums) -> Sums:
    return tuple(x + y for x, y in zip(a, b))
