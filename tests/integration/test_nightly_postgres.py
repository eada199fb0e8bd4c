"""Two nightly runs at once on PostgreSQL post every entry exactly once."""
import os
import threading
from datetime import date

import pytest
from sqlalchemy import event, func, select, text

from portal.accounts.models import LedgerEntry
from portal.audit.models import AuditEvent
from portal.audit.services import lane, verify_chain
from portal.consequences.models import AccountNightlyState, ConsequenceEvent
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from portal.jobs.nightly_share import MIN_BATCH

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]


def test_two_concurrent_runs_post_each_entry_once(app, make_account, make_cardholder):
    holder = make_cardholder()
    accounts = [make_account(holder, principal=500_000, minimum_due=50_000,
                             oldest_unpaid_due_date=date(2026, 11, 1),
                             effective=date(2026, 11, 1)) for _ in range(40)]
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                results.append(run_nightly(date(2026, 11, 10), batch_size=3))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.accounts_processed for r in results) == len(accounts)
    # per account: 9 days of interest + 1 late fee; 2 consequences
    assert _db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.source_ref.like("nightly:%"))) == 40 * 10
    assert _db.session.scalar(select(func.count()).select_from(ConsequenceEvent)) == 40 * 2
    assert _db.session.scalar(select(func.count()).select_from(AccountNightlyState)) == 40
    # every batch's audit event is chained in a lane of the nightly streams, all intact
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "nightly.batch")) == 40 // 3 + 1
    assert verify_chain()[1] is None


def test_two_batches_at_once_append_their_audit_events_to_different_lanes(app, db):
    """Issue 15: the nightly processes queued on one audit stream's head, held from each
    batch's audit event to its commit. A batch takes a lane no other transaction holds,
    without waiting for the one that holds the first."""
    lane("nightly")
    _db.session.commit()  # the lanes' heads exist, as after the first night
    held, release, taken, errors = threading.Event(), threading.Event(), [], []

    def first():
        with app.app_context():
            try:
                taken.append(lane("nightly"))
                held.set()
                release.wait(10)
                _db.session.rollback()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                held.set()
                _db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert held.wait(10)
        _db.session.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail
        second = lane("nightly")
    finally:
        release.set()
        thread.join()
    _db.session.rollback()
    assert errors == []
    assert (taken, second) == (["nightly:0"], "nightly:1")


@pytest.mark.parametrize("batch_size", [4, 60], ids=["fixed-batches", "shrinking-batches"])
@pytest.mark.parametrize("skip_locked", [True, False], ids=["skip-locked", "wait-for-locks"])
def test_two_concurrent_runs_never_claim_the_same_account(app, make_account, make_cardholder,
                                                          skip_locked, batch_size):
    """Issue 15: with two processes on one day, 3-4% of accounts were claimed by both (the
    claim judged from a snapshot taken before the other run committed them). Every account
    is claimed by exactly one run, and its day processed once. Waiting for locks (a chunk of
    the job engine delivered twice) makes the window certain: the second claim gets the rows
    when the first commits."""
    holder = make_cardholder()
    ids = [make_account(holder, principal=500_000, minimum_due=50_000,
                        oldest_unpaid_due_date=date(2026, 11, 1),
                        effective=date(2026, 11, 9)).id for _ in range(120)]
    claims: dict[int, list[int]] = {0: [], 1: []}
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker(n):
        with app.app_context():
            try:
                barrier.wait()
                results.append(run_nightly(date(2026, 11, 10), batch_size=batch_size,
                                           on_claim=claims[n].extend,
                                           skip_locked=skip_locked))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(claims[0]) & set(claims[1]) == set()
    assert sorted(claims[0] + claims[1]) == sorted(ids)
    assert sum(r.accounts_processed for r in results) == len(ids)
    assert _db.session.scalar(select(func.count()).select_from(AccountNightlyState)) == len(ids)


def _late_accounts(make_account, make_cardholder, n):
    holder = make_cardholder()
    return [make_account(holder, principal=500_000, minimum_due=50_000,
                         oldest_unpaid_due_date=date(2026, 11, 1),
                         effective=date(2026, 11, 9)).id for _ in range(n)]


def test_a_run_that_may_share_the_accounts_claims_smaller_batches_towards_the_end(
        app, make_account, make_cardholder):
    """Issue 15: with fixed batches the last one left the other process idle (5,000 accounts
    in batches of 1,000: three for one process, two for the other). A run that skips locked
    rows claims at most a quarter of what is left, never fewer than MIN_BATCH accounts."""
    ids = _late_accounts(make_account, make_cardholder, 120)
    sizes = []
    summary = run_nightly(date(2026, 11, 10), batch_size=1000,
                          on_claim=lambda claimed: sizes.append(len(claimed)))
    assert sizes == [MIN_BATCH, MIN_BATCH, 120 - 2 * MIN_BATCH]
    assert summary.accounts_processed == len(ids)


def test_a_chunk_that_owns_its_range_claims_whole_batches(app, make_account, make_cardholder):
    """A chunk of the job engine (`skip_locked=False`) shares its range with no one: its
    batches keep their size."""
    ids = _late_accounts(make_account, make_cardholder, 120)
    sizes = []
    run_nightly(date(2026, 11, 10), batch_size=1000, first_id=ids[0], last_id=ids[-1],
                skip_locked=False, on_claim=lambda claimed: sizes.append(len(claimed)))
    assert sizes == [120]


def test_a_run_with_nothing_due_locks_no_row(app, make_account, make_cardholder):
    """The count at the start of a run that may share the accounts finds none due: the run
    ends there, without a claim scanning the accounts again (the hourly runs mostly find
    nothing to do)."""
    _late_accounts(make_account, make_cardholder, 3)
    run_nightly(date(2026, 11, 10))
    statements = []
    listen = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listen)
    try:
        assert run_nightly(date(2026, 11, 10)).accounts_seen == 0
    finally:
        event.remove(_db.engine, "before_cursor_execute", listen)
    assert statements and not [s for s in statements if "FOR UPDATE" in s]
