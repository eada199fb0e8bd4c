"""Two nightly runs at once on PostgreSQL post every entry exactly once."""
import os
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import LedgerEntry
from portal.consequences.models import AccountNightlyState, ConsequenceEvent
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly

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
