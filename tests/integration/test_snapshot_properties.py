"""Closing snapshots never change a figure: a Hypothesis state machine over two accounts' ledgers.

Entries of every kind and component are posted on any day (before, on or after a snapshot's
day: late payments, corrections, feed adjustments dated in the past), reversed, acknowledged by
the issuer (journal_ack), and the issuer's feed moves `feed_as_of` on; snapshots are closed by
the nightly run's writer on any day, or rebuilt from history. After every step:
- the five sums (`portal.balances.sums.ledger_sums`, `account_sums` for one account,
  `page_sums` for a page of them and, on PostgreSQL, `sums_beside` read with a statement
  listing the accounts, as the worklist's page statement does) and
  the balances read from snapshots equal the whole history summed, for days before, on and
  after each snapshot's day;
- the nightly run's figures (`ledger_figures`: opening as of a start day plus each later day's
  movements) add up, day by day, to the whole history summed, with or without a snapshot;
- every snapshot equals its history summed (`flask snapshots verify`).
"""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, true

from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.balances.models import LedgerSnapshot
from portal.balances.services import balances_for
from portal.balances.snapshots import close, lock_accounts, mismatches, rebuild
from portal.balances.sums import (ZERO, account_sums, add, as_sums, ledger_sums, page_sums,
                                  sums_beside)
from portal.extensions import db as _db
from portal.jobs.nightly_load import ledger_figures
from portal.journal.models import AckSource, JournalAck, is_movement

def _beside(ids, day):
    sums = sums_beside()
    statement = (select(Account.id, *sums.c).join(sums, true()).where(Account.id.in_(ids)))
    return {row[0]: as_sums(row[1:]) for row in _db.session.execute(statement, {"as_of": day})}


START = date(2026, 11, 1)
DAYS = st.integers(0, 8).map(lambda n: START + timedelta(days=n))
PREFIXES = ("payment:", "nightly:", "feed:", "correction:", "dispute:", "waiver:")
_refs = itertools.count(1)


class SnapshotMachine(RuleBasedStateMachine):
    make_account = None  # set by the test
    seen: set[str] = set()  # paths the examples reached (checked at the end)

    @initialize()
    def accounts(self):
        self.ids = [self.make_account(principal=100_000, effective=START - timedelta(days=1),
                                      oldest_unpaid_due_date=START).id for _ in range(2)]

    def _account(self, data):
        return data.draw(st.sampled_from(self.ids))

    @rule(data=st.data(), kind=st.sampled_from(list(EntryKind)),
          component=st.sampled_from(list(Component)), day=DAYS,
          amount=st.integers(-50_000, 50_000).filter(bool), prefix=st.sampled_from(PREFIXES))
    def post(self, data, kind, component, day, amount, prefix):
        account_id = self._account(data)
        _db.session.add(LedgerEntry(account_id=account_id, kind=kind, component=component,
                                    amount=amount, currency="CNY", effective_date=day,
                                    source_ref=f"{prefix}{next(_refs)}"))
        _db.session.commit()

    @rule(data=st.data(), day=DAYS)
    def reverse(self, data, day):
        entries = _db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.account_id.in_(self.ids)).order_by(LedgerEntry.id)).all()
        entry = data.draw(st.sampled_from(entries))
        _db.session.add(LedgerEntry(account_id=entry.account_id, kind=EntryKind.REVERSAL,
                                    component=entry.component, amount=-entry.amount,
                                    currency="CNY", effective_date=max(day, entry.effective_date),
                                    source_ref=f"reversal:{next(_refs)}",
                                    reversal_of_id=entry.id))
        _db.session.commit()

    @rule(data=st.data())
    def issuer_acknowledges(self, data):
        open_ = _db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.account_id.in_(self.ids), is_movement(),
            LedgerEntry.id.not_in(select(JournalAck.ledger_entry_id)))).all()
        if not open_:
            return
        entry = data.draw(st.sampled_from(open_))
        _db.session.add(JournalAck(ledger_entry_id=entry.id, account_id=entry.account_id,
                                   feed_as_of=entry.effective_date, source=AckSource.FEED))
        _db.session.commit()
        self.seen.add("ack")

    @rule(data=st.data(), days=st.integers(0, 3), none=st.booleans())
    def feed_moves_on(self, data, days, none):
        account = _db.session.get(Account, self._account(data))
        if none and account.feed_as_of is None:
            return
        account.feed_as_of = None if none else (account.feed_as_of or START) + timedelta(days=days)
        _db.session.commit()

    @rule(data=st.data(), day=DAYS)
    def nightly_closes(self, data, day):
        account_id = self._account(data)
        lock_accounts([account_id])
        close({account_id: day})
        _db.session.commit()
        self.seen.add("closed")

    @rule(day=DAYS)
    def rebuilt(self, day):
        rebuild(day)

    @invariant()
    def sums_read_from_snapshots_equal_the_whole_history(self):
        snaps = {s.account_id: s.closed_through for s in _db.session.scalars(
            select(LedgerSnapshot).where(LedgerSnapshot.account_id.in_(self.ids)))}
        days = {START - timedelta(days=2), START + timedelta(days=30), date.max}
        for closed in snaps.values():
            days |= {closed - timedelta(days=1), closed, closed + timedelta(days=1)}
        accounts = [_db.session.get(Account, i) for i in self.ids]
        for day in days:
            assert ledger_sums(self.ids, day) == ledger_sums(self.ids, day, snapshots=False), day
            whole = ledger_sums(self.ids, day, snapshots=False)
            for account_id in self.ids:  # one account in one statement (fast posting)
                assert account_sums(account_id, day) == whole.get(account_id, ZERO), day
            # a page of accounts in one statement (the worklist)
            assert page_sums(self.ids, day) == {i: whole.get(i, ZERO) for i in self.ids}, day
            if _db.session.get_bind().dialect.name == "postgresql":
                # each row's sums read beside a statement that lists the accounts themselves
                # (the worklist's page statement joins them so)
                assert _beside(self.ids, day) == {i: whole.get(i, ZERO) for i in self.ids}, day
            assert balances_for(accounts, day) == balances_for(accounts, day, snapshots=False)
            if any(closed <= day for closed in snaps.values()):
                self.seen.add("read through a snapshot")

    @invariant()
    def nightly_figures_add_up_to_the_whole_history(self):
        snaps = {s.account_id: s.closed_through for s in _db.session.scalars(
            select(LedgerSnapshot).where(LedgerSnapshot.account_id.in_(self.ids)))}
        end = START + timedelta(days=10)
        for start in {START - timedelta(days=1), START + timedelta(days=4), *snaps.values()}:
            starts = {i: start for i in self.ids}
            openings, deltas = ledger_figures(starts, {}, end)
            full = ledger_sums(self.ids, start, snapshots=False)
            for account_id in self.ids:
                running = openings.get(account_id, ZERO)
                assert running == full.get(account_id, ZERO), (account_id, start)
                day = start
                while day < end:
                    day += timedelta(days=1)
                    running = add(running, deltas.get(account_id, {}).get(day, ZERO))
                assert running == ledger_sums([account_id], end, snapshots=False).get(
                    account_id, ZERO), (account_id, start)

    @invariant()
    def every_snapshot_equals_its_history(self):
        assert mismatches() == []


def test_snapshot_reads_equal_the_whole_history_summed(db, make_account):
    SnapshotMachine.make_account = staticmethod(make_account)
    run_state_machine_as_test(SnapshotMachine, settings=settings(
        max_examples=10, stateful_step_count=20, deadline=None, derandomize=True,
        database=None))
    assert SnapshotMachine.seen >= {"ack", "closed", "read through a snapshot"}, SnapshotMachine.seen
