"""Writing closing snapshots (`ledger_snapshot`): by the nightly run, and by a rebuild.

Exactness (docs/money.md, "Closing snapshots"):
- A snapshot is written from the ledger as it stands, by a transaction that holds the account's
  row lock (FOR UPDATE). On PostgreSQL every ledger insert checks its foreign key with FOR KEY
  SHARE on the same row, so an insert in flight when the lock is asked for has committed (or
  the nightly claim skipped the account), and one that comes later waits for the snapshot's
  commit; its trigger then sees the new snapshot and adds itself when it is dated on or before
  `closed_through`. On SQLite writers are serialised: write after the transaction's first write.
- Entries are never updated or deleted (ORM hooks and triggers refuse it), so an insert is the
  only change the trigger has to follow.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import delete, insert, select

from portal.accounts.models import Account
from portal.balances.models import LedgerSnapshot
from portal.balances.sums import ZERO, ledger_sums
from portal.extensions import db
from portal.timeutil import utcnow


def close(ends: dict[int, date], *, from_history: bool = False) -> int:
    """Write each account's snapshot closed through its day in `ends` (replacing the one it
    had), from its current snapshot and the entries since, or with `from_history` from every
    entry. The caller holds the accounts' row locks and commits. Returns the rows written."""
    if not ends:
        return 0
    by_end: dict[date, list[int]] = defaultdict(list)
    for account_id, end in ends.items():
        by_end[end].append(account_id)
    now, rows = utcnow(), []
    for end, ids in by_end.items():
        sums = ledger_sums(ids, end, snapshots=not from_history)
        for account_id in ids:
            principal, interest, fees = sums.get(account_id, ZERO)[:3]
            rows.append(dict(account_id=account_id, closed_through=end, principal=principal,
                             interest=interest, fees=fees, written_at=now))
    db.session.execute(delete(LedgerSnapshot).where(LedgerSnapshot.account_id.in_(list(ends))))
    db.session.execute(insert(LedgerSnapshot), rows)
    return len(rows)


def lock_accounts(ids: list[int]) -> None:
    """Take the accounts' row locks (PostgreSQL) before writing their snapshots."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Account.id).where(Account.id.in_(ids)).with_for_update())


def rebuild(through: date, *, batch_size: int = 1000, progress=None) -> int:
    """Rebuild every account's snapshot from its whole history, closed through `through`, one
    committed batch of accounts at a time. Returns the number written."""
    written, after = 0, 0
    while True:
        ids = list(db.session.scalars(select(Account.id).where(Account.id > after)
                                      .order_by(Account.id).limit(batch_size)))
        if not ids:
            return written
        after = ids[-1]
        try:
            lock_accounts(ids)
            written += close({account_id: through for account_id in ids}, from_history=True)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        if progress:
            progress(len(ids))


def mismatches(*, batch_size: int = 1000) -> list[tuple[int, tuple, tuple]]:
    """Snapshots that differ from their whole history summed: (account id, snapshot's sums,
    history's sums). Empty when every snapshot is exact."""
    wrong, after = [], 0
    while True:
        snaps = db.session.scalars(select(LedgerSnapshot).where(LedgerSnapshot.account_id > after)
                                   .order_by(LedgerSnapshot.account_id).limit(batch_size)).all()
        if not snaps:
            return wrong
        after = snaps[-1].account_id
        by_end: dict[date, list[LedgerSnapshot]] = defaultdict(list)
        for snap in snaps:
            by_end[snap.closed_through].append(snap)
        for end, group in by_end.items():
            sums = ledger_sums([s.account_id for s in group], end, snapshots=False)
            for snap in group:
                held = (snap.principal, snap.interest, snap.fees)
                history = sums.get(snap.account_id, ZERO)[:3]
                if held != history:
                    wrong.append((snap.account_id, held, history))
