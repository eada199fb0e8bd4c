"""PostgreSQL: the issuer's feed and a late webhook for a payment made the same day both take
back the nightly charges after that day, at the same moment: each charge is taken back at
most once, whichever commits first, and neither fails."""
from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from portal.accounts.models import Account, EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from tests.helpers import run_together
from portal.journal.feed_io import RawRow
from portal.journal.importer import import_rows
from tests.integration.journal_helpers import account, feed, feed_values, pay, utc

pytestmark = pytest.mark.postgres
if not os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)", allow_module_level=True)

BEFORE, D, WALKED = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _now(clock):
    clock.move_to(utc(2026, 12, 1, 4))


def _net_after(account_id: int, day: date) -> list[int]:
    """Each nightly charge dated after `day`, less what corrections took back of it."""
    charges = _db.session.execute(select(LedgerEntry.id, LedgerEntry.amount).where(
        LedgerEntry.account_id == account_id, LedgerEntry.source_ref.startswith("nightly:"),
        LedgerEntry.effective_date > day)).all()
    taken = dict(_db.session.execute(
        select(LedgerEntry.reversal_of_id, func.sum(LedgerEntry.amount)).where(
            LedgerEntry.account_id == account_id,
            LedgerEntry.source_ref.startswith("correction:"))
        .group_by(LedgerEntry.reversal_of_id)).all())
    return [amount + int(taken.get(entry_id, 0)) for entry_id, amount in charges]


@pytest.mark.parametrize("attempt", range(3))
def test_a_late_feed_and_a_late_webhook_at_once_take_each_charge_back_once(app, db, attempt):
    feed(BEFORE, 430_000, applied=[])
    acct = account()
    run_nightly(WALKED)
    account_id = acct.id
    assert sum(_net_after(account_id, D)) > 0
    balance = balance_of(acct, D)
    interest, fees = balance.interest, balance.fees
    _db.session.commit()

    def work(i):
        if i == 0:  # the issuer's feed for D: CN¥500.00 paid at the bank that day
            result = feed(D, 380_000, minimum_due=0, due="", applied=[], interest=interest,
                          fees=fees)
            return ("feed", result.rejected)
        # The same CN¥500.00 also paid through the portal on D; its webhook comes only now.
        pay(_db.session.get(Account, account_id), 50_000, f"late-{attempt}", utc(2026, 11, 28, 4))
        return ("payment", 0)

    results, errors = run_together(app, work, 2)
    assert not errors, errors
    assert sorted(results) == [("feed", 0), ("payment", 0)]
    _db.session.expire_all()
    net = _net_after(account_id, D)
    assert net and all(amount == 0 for amount in net), net  # all taken back, none twice
    kinds = set(_db.session.scalars(select(LedgerEntry.kind).where(
        LedgerEntry.account_id == account_id, LedgerEntry.amount < 0,
        LedgerEntry.source_ref.startswith("correction:"))))
    assert kinds <= {EntryKind.INTEREST, EntryKind.FEE}


def _waiting_on_a_lock() -> int:
    with _db.engine.connect() as conn:
        return conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"))


@pytest.mark.parametrize("rows", [1, 2], ids=["set-based", "row by row"])
def test_a_lowering_feed_locks_the_nightly_state_before_the_audit_head(app, db, rows):
    """A posting locks the account's nightly state (its corrections) before its audit stream's
    head (its audit event); a lowering feed must take them in the same order, or a feed and a
    late webhook for the same account deadlock and one of them fails. Here a "posting" holds
    the state while the feed runs, then asks for the head: it must get it. (Two rows for one
    account take the row-by-row path.)"""
    feed(BEFORE, 430_000, applied=[])
    account_id = account().id
    run_nightly(WALKED)
    _db.session.commit()
    outcome = {}

    def import_feed():
        with app.app_context():
            try:
                values = feed_values(D, 380_000, minimum_due=0, due="", applied=[])
                outcome["result"] = import_rows([RawRow(i + 1, dict(values)) for i in range(rows)])
            except Exception as exc:  # noqa: BLE001 - reported by the test
                outcome["error"] = exc
            finally:
                _db.session.remove()

    with _db.engine.connect() as posting:
        posting.execute(text("SET lock_timeout = '20s'"))
        posting.execute(text("SELECT 1 FROM account_nightly_state WHERE account_id = :a "
                             "FOR UPDATE"), {"a": account_id})
        importer = threading.Thread(target=import_feed)
        importer.start()
        deadline = time.monotonic() + 20
        while _waiting_on_a_lock() == 0 and importer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        # The feed now waits for the nightly state. The posting's audit append takes the head:
        # with the feed holding it (the old order) PostgreSQL finds a deadlock and fails one.
        posting.execute(text("SELECT 1 FROM audit_stream_head WHERE stream = :s FOR UPDATE"),
                        {"s": f"account:{account_id}"})
        posting.commit()
    importer.join(30)
    assert not importer.is_alive()
    assert "error" not in outcome, outcome
    assert outcome["result"].rejected == 0
    _db.session.expire_all()
    assert all(amount == 0 for amount in _net_after(account_id, D))
