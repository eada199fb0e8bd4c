"""A ledger entry racing the writer of its account's snapshot is counted once (PostgreSQL)."""
import os
import threading
from datetime import date

import pytest
from sqlalchemy import text

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.balances.snapshots import close, lock_accounts, mismatches
from portal.extensions import db as _db

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                 reason="needs TEST_DATABASE_URL (PostgreSQL)")]

DAY = date(2026, 11, 10)


def _post(app, account_id, day, ref, errors):
    with app.app_context():
        try:
            _db.session.add(LedgerEntry(account_id=account_id, kind=EntryKind.PAYMENT,
                                        component=Component.PRINCIPAL, amount=-7_000,
                                        currency="CNY", effective_date=day, source_ref=ref))
            _db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            _db.session.remove()


def test_an_entry_posted_while_its_snapshot_is_written_waits_and_is_counted(app, db,
                                                                            make_account):
    """The writer holds the account's row lock; a payment dated before the snapshot's day
    waits at its foreign-key check, then its trigger adds it to the snapshot just written."""
    account = make_account(principal=100_000, effective=date(2026, 11, 1))
    errors: list[Exception] = []
    lock_accounts([account.id])
    close({account.id: DAY})
    late = threading.Thread(target=_post, args=(app, account.id, date(2026, 11, 5),
                                                "payment:late", errors))
    late.start()
    late.join(timeout=1.0)
    assert late.is_alive(), "the insert must wait for the snapshot's transaction"
    db.session.commit()
    late.join()
    assert errors == []
    db.session.expire_all()
    assert mismatches() == []
    assert balance_of(account, DAY).principal == 93_000
    assert balance_of(account, DAY) == balance_of(account, DAY, snapshots=False)


def test_an_entry_in_flight_when_the_snapshot_is_written_is_counted(app, db, make_account):
    """A payment inserted (not yet committed) before the writer asks for the row lock: the
    writer waits for it, then reads it from the ledger."""
    account = make_account(principal=100_000, effective=date(2026, 11, 1))
    with _db.engine.connect() as other:
        other.execute(text(
            "INSERT INTO ledger_entry (account_id, kind, component, amount, currency, "
            "effective_date, source_ref, posted_at) VALUES (:a, 'payment', 'principal', -5000, "
            "'CNY', '2026-11-04', 'payment:in-flight', now())"), {"a": account.id})
        done = threading.Event()

        def writer():
            with app.app_context():
                lock_accounts([account.id])
                close({account.id: DAY})
                _db.session.commit()
                _db.session.remove()
                done.set()

        thread = threading.Thread(target=writer)
        thread.start()
        assert not done.wait(1.0), "the writer must wait for the insert in flight"
        other.commit()
    thread.join()
    db.session.expire_all()
    assert mismatches() == []
    assert balance_of(account, DAY).principal == 95_000
