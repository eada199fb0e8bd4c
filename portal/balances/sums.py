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
snapshot read equals it in every case (tests/integration/test_snapshot_properties.py checks
it); a snapshot closed after the day asked for is not used.
"""
from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import (BigInteger, Date, Integer, and_, bindparam, case, func, literal,
                        literal_column, or_, select, true, union_all)
from sqlalchemy.dialects.postgresql import ARRAY

from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.balances.models import LedgerSnapshot
from portal.extensions import db
from portal.journal.models import not_in_issuer_figures

Sums = tuple[int, int, int, int, int]  # principal, interest, fees, fees after feed, unapplied
ZERO: Sums = (0, 0, 0, 0, 0)

IS_FEE = LedgerEntry.kind == EntryKind.FEE
IS_PAYMENT = LedgerEntry.kind.in_([EntryKind.PAYMENT, EntryKind.REVERSAL])
# Written with literals, exactly as the partial index's predicate, so the planner can use it.
IS_SPARSE = LedgerEntry.kind.in_([literal_column(f"'{kind}'") for kind in
                                  (EntryKind.FEE, EntryKind.PAYMENT, EntryKind.REVERSAL)])


def after_feed():
    """SQL: the entry is later than the issuer's last statement (all are, when none came)."""
    return or_(Account.feed_as_of.is_(None), LedgerEntry.effective_date > Account.feed_as_of)


# Marks a reversal entry that takes back what a payment paid beyond the statement's minimum
# (`portal.payments.posting`): it makes nothing owed again, so it never counts here.
BEYOND_MINIMUM = ":beyond-minimum"


def unapplied_payment():
    """SQL: a payment or reversal the issuer's figures (its minimum due) do not include yet,
    and that moves the minimum (not a reversal of what was paid beyond it)."""
    return IS_PAYMENT & not_in_issuer_figures() & ~LedgerEntry.source_ref.like(
        f"%{BEYOND_MINIMUM}")


# A zero written into the SQL, not bound: the statements stay shorter (psycopg converts a
# statement of at most 4,096 bytes once per process, a longer one on every run) and carry
# fewer parameters.
NOUGHT = literal_column("0", Integer)


def total(condition):
    """SQL: the sum of the amounts of the entries meeting `condition` (0 when none)."""
    return func.coalesce(func.sum(case((condition, LedgerEntry.amount), else_=NOUGHT)), NOUGHT)


@cache  # SQL expressions are immutable: built once, reused by every query (issue 15)
def component_totals():
    """SQL: the five sums over the LedgerEntry rows of a query (joined with Account)."""
    return (total(LedgerEntry.component == Component.PRINCIPAL),
            total(LedgerEntry.component == Component.INTEREST),
            total(LedgerEntry.component == Component.FEE),
            total(IS_FEE & after_feed()), total(unapplied_payment()))


@cache
def feed_dependent_totals():
    """SQL: the two sums a snapshot does not hold (zeros stand for the components)."""
    return (total(IS_FEE & after_feed()), total(unapplied_payment()))


def ledger_sums(account_ids: list[int], as_of: date, *, snapshots: bool = True) -> dict[int, Sums]:
    """The five sums per account for entries dated up to `as_of` (accounts with no entry and
    no snapshot are left out). Two queries: the snapshots, then the entries after them with
    the sparse entries they cover. With `snapshots=False`, one query over the whole history."""
    if not account_ids:
        return {}
    if not snapshots:
        return _rows(db.session.execute(_full_query(account_ids, as_of)))
    snaps = usable_snapshots({account_id: as_of for account_id in account_ids})
    groups = by_closed(account_ids, snaps)
    since = (select(LedgerEntry.account_id.label("account_id"), *_labelled(*component_totals()))
             .join(Account, Account.id == LedgerEntry.account_id)
             .where(after_snapshots(groups), LedgerEntry.effective_date <= as_of)
             .group_by(LedgerEntry.account_id))
    covered = covered_sparse(groups)
    query = since
    if covered is not None:
        both = union_all(since, covered).subquery()
        query = (select(both.c.account_id, *[func.sum(both.c[name]) for name in NAMES])
                 .group_by(both.c.account_id))
    sums = {account_id: (s.principal, s.interest, s.fees, 0, 0) for account_id, s in snaps.items()}
    for account_id, figures in _rows(db.session.execute(query)).items():
        sums[account_id] = add(sums.get(account_id, ZERO), figures)
    return sums


def account_sums(account_id: int, as_of: date) -> Sums:
    """`ledger_sums` of one account (zeros when it has nothing) in one round trip: its
    snapshot, the entries after it and the sparse entries it covers, one constant statement
    compiled once (the fast webhook posting reads a balance with it). Equal to `ledger_sums`
    (tests/integration/test_snapshot_properties.py checks it)."""
    row = db.session.execute(_account_sums(), {"account_id": account_id, "as_of": as_of}).one()
    return tuple(int(s) for s in row)


def account_sums_query():
    """`account_sums`'s statement (binds :account_id, :as_of; columns NAMES), for a caller
    that reads the sums in a statement of its own (the fast webhook posting's read)."""
    return _account_sums()


def sums_lateral(account, day, outer):
    """`account_sums`'s statement for the columns `account` and `day` of `outer` (a FROM
    item of the enclosing statement, one row an account and day): a LATERAL subquery
    with the columns NAMES (the batch posting's read, portal/payments/batch_posting.py)."""
    return _sums_of(account, day, outer=outer).lateral("sums")


@cache
def _account_sums():
    return _sums_of(bindparam("account_id"), bindparam("as_of"))


def _sums_of(account, day, outer=None):
    """The statement of `account_sums` for `account` (a bound id, or a column of `outer`,
    the FROM item a LATERAL statement takes its ids from) as of `day`: the components from
    the snapshot and the entries after it, the two feed-dependent sums from the sparse
    entries up to the day (they are fees, payments and reversals only, so the same as over
    every entry). When `outer` is Account itself (`sums_beside`), the entries' account is
    the outer row, not joined again: a join of `account` inside would shadow the outer one
    and sum every account's entries."""
    zero = NOUGHT

    def on(query):
        return query if outer is None else query.correlate(outer)

    usable = and_(LedgerSnapshot.account_id == account, LedgerSnapshot.closed_through <= day)
    closed = on(select(LedgerSnapshot.closed_through).where(usable)).scalar_subquery()
    mine = LedgerEntry.account_id == account
    since = on(select(*_labelled(*component_totals()[:3], zero, zero)).where(
        mine, LedgerEntry.effective_date <= day,
        LedgerEntry.effective_date > func.coalesce(closed, literal(date.min))))
    sparse = select(*_labelled(zero, zero, zero, *feed_dependent_totals()))
    if outer is not Account:
        sparse = sparse.join_from(LedgerEntry, Account, Account.id == LedgerEntry.account_id)
    sparse = on(sparse.where(mine, IS_SPARSE, LedgerEntry.effective_date <= day))
    stored = on(select(*_labelled(LedgerSnapshot.principal, LedgerSnapshot.interest,
                                  LedgerSnapshot.fees, zero, zero)).where(usable))
    both = union_all(since, sparse, stored).subquery("parts")
    return on(select(*[func.coalesce(func.sum(both.c[name]), NOUGHT).label(name)
                       for name in NAMES]))


def page_sums(account_ids: list[int], as_of: date) -> dict[int, Sums]:
    """`ledger_sums` of a page of accounts (zeros for an account with nothing), for lists
    that show a page of balances (the worklist): on PostgreSQL `account_sums`'s statement
    for each id of one array (LATERAL), a constant statement built and compiled once
    whatever the ids and their snapshots, where `ledger_sums` builds and compiles one with
    every id bound on each call; elsewhere `ledger_sums` itself.
    tests/integration/test_snapshot_properties.py holds it equal to `ledger_sums`."""
    if not account_ids:
        return {}
    if db.session.get_bind().dialect.name != "postgresql":
        found = ledger_sums(list(account_ids), as_of)
        return {account_id: found.get(account_id, ZERO) for account_id in account_ids}
    return _rows(db.session.execute(_page_sums(), {"ids": list(account_ids), "as_of": as_of}))


@cache
def _page_sums():
    ids = (func.unnest(bindparam("ids", type_=ARRAY(BigInteger)))
           .table_valued("id").render_derived("ids"))
    sums = _sums_of(ids.c.id, bindparam("as_of", type_=Date), outer=ids).lateral("sums")
    return select(ids.c.id, *sums.c).select_from(ids).join(sums, true())


def sums_beside():
    """PostgreSQL: `account_sums`'s statement as a LATERAL subquery (five columns, named
    "sums") for each row of a statement whose FROM lists `account`, as of the bound parameter
    "as_of": a list joins it (`ON true`) to read each row's sums with its page statement (the
    worklist, `portal.collections.worklists`), from the closing snapshot and the entries
    after it. Sums come back as NUMERIC: `as_sums` turns a row's five into integers."""
    return _sums_of(Account.id, bindparam("as_of", type_=Date), outer=Account).lateral("sums")


def as_sums(values) -> Sums:
    """Five sums read by `sums_beside` (PostgreSQL sums BIGINT into NUMERIC) as integers."""
    return tuple(int(s) for s in values)


def _rows(result) -> dict[int, Sums]:
    # PostgreSQL sums BIGINT into NUMERIC: back to exact integers of minor units.
    return {row[0]: as_sums(row[1:]) for row in result}


def _full_query(account_ids, as_of: date):
    return (select(LedgerEntry.account_id, *component_totals())
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(LedgerEntry.account_id.in_(account_ids), LedgerEntry.effective_date <= as_of)
            .group_by(LedgerEntry.account_id))


NAMES = ("principal", "interest", "fees", "new_fees", "unapplied")


def _labelled(*columns):
    return [column.label(name) for column, name in zip(columns, NAMES)]


def usable_snapshots(limits: dict[int, date]) -> dict[int, LedgerSnapshot]:
    """The accounts' snapshots closed on or before each one's day in `limits` (a snapshot
    closed later is of no use for that day)."""
    return {s.account_id: s for s in db.session.scalars(select(LedgerSnapshot).where(
        LedgerSnapshot.account_id.in_(list(limits)))) if s.closed_through <= limits[s.account_id]}


def by_closed(account_ids, snaps: dict[int, LedgerSnapshot]) -> dict[date | None, list[int]]:
    """Account ids grouped by their snapshot's day (None: no snapshot)."""
    groups: dict[date | None, list[int]] = {}
    for account_id in account_ids:
        snap = snaps.get(account_id)
        groups.setdefault(snap.closed_through if snap else None, []).append(account_id)
    return groups


def after_snapshots(groups: dict[date | None, list[int]]):
    """SQL: the entry is one of the accounts' and dated after its snapshot (any, without).
    Literal bounds per group, so the planner reads each account's index range only."""
    return or_(*[LedgerEntry.account_id.in_(ids) if closed is None else
                 and_(LedgerEntry.account_id.in_(ids), LedgerEntry.effective_date > closed)
                 for closed, ids in groups.items()])


def covered_sparse(groups: dict[date | None, list[int]]):
    """SQL query, or None without snapshots: per account (account_id, 0, 0, 0, fees after
    feed, unapplied payments) over the entries its snapshot covers, sparse kinds only."""
    covered = [and_(LedgerEntry.account_id.in_(ids), LedgerEntry.effective_date <= closed)
               for closed, ids in groups.items() if closed is not None]
    if not covered:
        return None
    zero = literal(0)
    return (select(LedgerEntry.account_id.label("account_id"),
                   *_labelled(zero, zero, zero, *feed_dependent_totals()))
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(IS_SPARSE, or_(*covered))
            .group_by(LedgerEntry.account_id))


def add(a: Sums, b: Sums) -> Sums:
    return tuple(x + y for x, y in zip(a, b))
