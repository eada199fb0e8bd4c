"""A crash halfway through the nightly run loses nothing, and a re-run finishes the job.

The run commits once per batch. Here the second batch dies after writing all its rows but
before its commit: the first batch stays committed and whole, nothing of the second (or any
later) batch is left behind, and running again ends exactly where an uninterrupted run ends.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.balances.services import balance_of
from portal.consequences.models import AccountNightlyState, ConsequenceEvent, Notice, StageChange
from portal.extensions import db as _db
from portal.jobs import nightly
from portal.outbox.models import OutboxMessage
from tests.helpers import empty_tables

AS_OF = date(2027, 1, 5)
FEED = date(2026, 11, 1)
BATCH = 2
# Created in this order, so claimed in this order: batches (1, 2), (3, 4), (5, 6).
ACCOUNTS = (
    # number, profile, oldest unpaid due date, feed date, payment (day, amount) or None
    ("6200000000000001", "cn", date(2026, 11, 1), FEED, None),        # card block, notice
    ("6200000000000002", "cn", date(2026, 10, 20), FEED, None),       # fed in 12 days late
    ("6200000000000003", "cn", date(2026, 10, 1), FEED, None),        # 96 days late
    ("4100000000000004", "us", date(2026, 9, 1), date(2026, 10, 29), None),
    ("6200000000000005", "cn", date(2026, 11, 1), FEED, (date(2026, 11, 15), 52_500)),
    ("6200000000000006", "cn", None, FEED, None),                     # nothing due
)
FIRST_BATCH = {a[0] for a in ACCOUNTS[:BATCH]}


def _build(make_cardholder, make_account) -> None:
    for number, profile, due, fed, payment in ACCOUNTS:
        currency = "CNY" if profile == "cn" else "USD"
        account = make_account(make_cardholder(), account_number=number, profile=profile,
                               currency=currency, principal=500_000, minimum_due=50_000,
                               oldest_unpaid_due_date=due, effective=fed)
        if payment:
            _db.session.add(LedgerEntry(
                account_id=account.id, kind=EntryKind.PAYMENT, component=Component.PRINCIPAL,
                amount=-payment[1], currency=currency, effective_date=payment[0],
                source_ref=f"pay:{number}"))
    _db.session.commit()


def _wipe() -> None:
    _db.session.rollback()
    _db.session.expunge_all()
    empty_tables()


def _end_state() -> dict:
    """Everything the run writes, per account number (ids differ between the two worlds)."""
    _db.session.expire_all()
    number = dict(_db.session.execute(select(Account.id, Account.account_number)).all())
    rows = {
        "ledger": [(number[e.account_id], e.effective_date, e.kind.value, e.component.value,
                    e.amount, e.source_ref) for e in _db.session.scalars(select(LedgerEntry))],
        "events": [(number[e.account_id], e.kind, e.cycle, e.occurred_on, e.days_late,
                    e.amount) for e in _db.session.scalars(select(ConsequenceEvent))],
        "notices": [(number[n.account_id], n.kind, n.issued_on, n.amount, n.pay_by,
                     n.days_late) for n in _db.session.scalars(select(Notice))],
        "stages": [(number[s.account_id], s.changed_on, s.from_stage, s.to_stage, s.days_late)
                   for s in _db.session.scalars(select(StageChange))],
        "nightly": [(number[s.account_id], s.last_processed_day, s.stage)
                    for s in _db.session.scalars(select(AccountNightlyState))],
        "status": [(a.account_number, a.status.value) for a in _db.session.scalars(select(Account))],
        "messages": [(number[m.account_id], m.channel.value, m.purpose)
                     for m in _db.session.scalars(select(OutboxMessage))],
        "audit": [(e.action, number[int(e.subject_id)], str(e.before), str(e.after))
                  for e in _db.session.scalars(select(AuditEvent).where(
                      AuditEvent.action == "account.status_by_policy"))],
    }
    return {name: sorted(values) for name, values in rows.items()}


def _only(state: dict, numbers: set[str]) -> dict:
    return {name: [row for row in rows if (row[1] if name == "audit" else row[0]) in numbers]
            for name, rows in state.items()}


def _crash_on_second_batch(monkeypatch):
    """Arm the crash: the second batch writes all its rows (flushed into the database's
    transaction), then the process "dies" before its commit. Returns the disarm function."""
    real_write = nightly._write
    calls = []

    def write_then_die(writes, summary):
        real_write(writes, summary)
        calls.append(1)
        if len(calls) == 2:
            _db.session.flush()
            raise RuntimeError("power cut")

    monkeypatch.setattr(nightly, "_write", write_then_die)
    return lambda: monkeypatch.setattr(nightly, "_write", real_write)


def test_a_crash_in_a_later_batch_keeps_earlier_batches_and_a_rerun_finishes(
        make_cardholder, make_account, monkeypatch):
    # The reference: the same accounts run through without a crash.
    _build(make_cardholder, make_account)
    whole = nightly.run_nightly(AS_OF, batch_size=BATCH)
    expected = _end_state()
    assert whole.accounts_processed == len(ACCOUNTS)
    assert expected["notices"] and expected["audit"]  # the batches have real work in them
    assert {row[0] for row in expected["notices"]} - FIRST_BATCH  # ... the later ones too

    _wipe()
    _build(make_cardholder, make_account)
    before = _end_state()
    disarm = _crash_on_second_batch(monkeypatch)
    with pytest.raises(RuntimeError, match="power cut"):
        nightly.run_nightly(AS_OF, batch_size=BATCH)
    _db.session.rollback()

    crashed = _end_state()
    # The first batch is committed and whole: exactly what the full run wrote for it.
    assert _only(crashed, FIRST_BATCH) == _only(expected, FIRST_BATCH)
    assert _only(crashed, FIRST_BATCH) != _only(before, FIRST_BATCH)
    # Nothing of the batch that died (nor of any later one) was left behind.
    later = {a[0] for a in ACCOUNTS} - FIRST_BATCH
    assert _only(crashed, later) == _only(before, later)
    for account in _db.session.scalars(select(Account).where(
            Account.account_number.in_(FIRST_BATCH))):
        ledger_sum = _db.session.scalar(select(func.sum(LedgerEntry.amount)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.effective_date <= AS_OF))
        assert balance_of(account, AS_OF).total == ledger_sum
    assert verify_chain()[1] is None

    disarm()
    rerun = nightly.run_nightly(AS_OF, batch_size=BATCH)
    assert rerun.accounts_processed == len(ACCOUNTS) - BATCH  # the first batch is not redone
    assert _end_state() == expected
    assert verify_chain()[1] is None
    assert nightly.run_nightly(AS_OF, batch_size=BATCH).entries_posted == 0
