"""Upgrading to the journal keeps every balance: what old feeds folded in counts as applied."""
from datetime import date

from flask_migrate import upgrade
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import Account, Cardholder, Component, EntryKind, LedgerEntry
from portal.extensions import db as _db
from portal.journal.models import AckSource, JournalAck
from tests.integration.test_migrations import scratch_url  # noqa: F401 (fixture)


def test_movements_dated_up_to_the_last_feed_are_taken_as_applied(scratch_url):  # noqa: F811
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": scratch_url,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade(revision="0012_audit_head")  # a database from before the journal
        holder = Cardholder(customer_id="C1", full_name="Li Wei", date_of_birth=date(1985, 3, 14),
                            email="li@example.com")
        account = Account(account_number="62001", card_last4="0001", cardholder=holder,
                          currency="CNY", credit_limit=0, policy_profile="cn",
                          feed_as_of=date(2026, 11, 20))
        _db.session.add(account)
        _db.session.flush()

        def entry(kind, ref, day, amount):
            row = LedgerEntry(account_id=account.id, kind=kind, component=Component.PRINCIPAL,
                              amount=amount, currency="CNY", effective_date=day, source_ref=ref)
            _db.session.add(row)
            return row

        entry(EntryKind.STATEMENT_BALANCE, "feed:2026-11-01:principal:1:430000",
              date(2026, 11, 1), 430_000)
        folded = entry(EntryKind.PAYMENT, "payment:1:principal", date(2026, 11, 10), -50_000)
        entry(EntryKind.FEE, "nightly:2026-11-12:late_fee", date(2026, 11, 12), 5_000)
        entry(EntryKind.PAYMENT, "payment:2:principal", date(2026, 11, 25), -20_000)
        _db.session.flush()
        # Read before the commit: reading after it would open a transaction that holds the
        # tables while the upgrade below runs (0031 drops an index: it would wait forever).
        folded_id, account_id = folded.id, account.id
        _db.session.commit()

        upgrade()
        acks = _db.session.scalars(select(JournalAck)).all()
        assert [(a.ledger_entry_id, a.account_id, a.feed_as_of, a.source) for a in acks] == [
            (folded_id, account_id, date(2026, 11, 20), AckSource.OLD_FEED)]
        _db.session.remove()
        _db.engine.dispose()
