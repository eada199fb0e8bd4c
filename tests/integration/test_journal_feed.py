"""The issuer's feed never undoes portal money; a same-day payment lowers what is overdue."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.consequences.models import AccountNightlyState
from portal.disputes import workflow
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from portal.journal.models import AckSource, JournalAck
from tests.dispute_helpers import join, raise_dispute
from tests.integration.journal_helpers import Clock, account, feed, movement_ids, pay, utc

D = date(2026, 11, 28)
NOON = utc(2026, 11, 28, 4)  # noon in Shanghai on D


@pytest.fixture()
def clock(clock):
    return Clock(clock, NOON)


@pytest.fixture()
def paid(db, clock):
    """CN¥4,300 owed, CN¥500 of it overdue since 19 October; CN¥500 paid through the portal
    on D. The last feed is dated the day before."""
    feed(date(2026, 11, 27), 430_000)
    acct = account()
    pay(acct, 50_000, "same-day", NOON)
    return acct


def test_feed_built_before_the_payments_export_keeps_the_payment(paid):
    assert balance_of(paid, D).total == 380_000
    result = feed(D, 430_000, applied=[])  # the issuer has not received the export yet
    assert result.rejected == 0
    balance = balance_of(paid, D)
    assert balance.total == 380_000
    assert (balance.overdue, balance.days_past_due) == (0, 0)


def test_old_feed_without_the_field_keeps_a_payment_made_the_same_day(paid):
    feed(D, 430_000)  # no applied_portal_ids column: the date rule applies
    balance = balance_of(paid, D)
    assert (balance.total, balance.overdue, balance.days_past_due) == (380_000, 0, 0)


def test_feed_that_applied_the_payment_counts_it_once(paid):
    ids = movement_ids(paid, "payment:")
    feed(date(2026, 11, 29), 380_000, minimum_due=50_000, applied=ids)
    balance = balance_of(paid, date(2026, 11, 29))
    assert balance.total == 380_000
    # The issuer's new minimum due already counts the payment: it is not subtracted again.
    assert balance.overdue == 50_000
    acks = _db.session.scalars(select(JournalAck)).all()
    assert {a.ledger_entry_id for a in acks} == set(ids)
    assert {a.source for a in acks} == {AckSource.FEED}


def test_old_feed_dated_days_later_takes_the_payment_as_applied(paid):
    feed(date(2026, 11, 30), 380_000)  # two days after: the issuer has it in its figure
    assert balance_of(paid, date(2026, 11, 30)).total == 380_000
    assert {a.source for a in _db.session.scalars(select(JournalAck))} == {AckSource.OLD_FEED}


def test_replaying_an_acknowledging_feed_changes_nothing(paid):
    ids = movement_ids(paid, "payment:")
    feed(date(2026, 11, 29), 380_000, applied=ids)
    entries = _db.session.scalar(select(func.count()).select_from(LedgerEntry))
    again = feed(date(2026, 11, 29), 380_000, applied=ids)
    assert (again.unchanged, again.entries_posted) == (1, 0)
    assert _db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries


def test_feed_naming_another_accounts_movement_is_refused(paid):
    other = "6222000000000099"
    feed(date(2026, 11, 27), 100_000, number=other)
    result = feed(date(2026, 11, 29), 100_000, number=other,
                  applied=movement_ids(paid, "payment:"))
    assert result.rejected == 1
    assert "not a portal movement on this account" in result.rejects[0][1]
    assert _db.session.scalar(select(func.count()).select_from(JournalAck)) == 0


def test_a_payment_on_the_statements_own_date_lowers_what_is_overdue(db, clock):
    feed(D, 430_000)  # the figures are dated today
    acct = account()
    assert (balance_of(acct, D).overdue, balance_of(acct, D).days_past_due) == (50_000, 40)
    pay(acct, 50_000, "on-statement-day", NOON)
    balance = balance_of(acct, D)
    assert (balance.total, balance.overdue, balance.days_past_due) == (380_000, 0, 0)


@pytest.fixture()
def agent(make_staff):
    staff = make_staff("customer_service")
    join("billing", staff, "en")
    return staff


def test_next_days_feed_keeps_an_upheld_dispute_credit(db, clock, agent):
    feed(date(2026, 11, 27), 430_000)
    acct = account()
    dispute = raise_dispute(acct, amount=20_000)
    workflow.resolve(dispute, agent, "upheld", 20_000, "The charge was wrong.")
    _db.session.commit()
    assert balance_of(acct, D).total == 410_000
    feed(date(2026, 11, 29), 430_000, applied=[])  # the issuer has not applied the credit
    assert balance_of(acct, date(2026, 11, 29)).total == 410_000
    kinds = set(_db.session.scalars(select(LedgerEntry.kind).where(
        LedgerEntry.source_ref.startswith("feed:"))))
    assert kinds == {EntryKind.STATEMENT_BALANCE}  # no adjustment undid the credit


def test_nightly_run_stops_counting_days_late_after_a_payment_on_the_statements_date(db, clock):
    feed(D, 430_000)  # 40 days late on D, CN¥500 overdue
    acct = account()
    pay(acct, 50_000, "paid-before-the-night", NOON)
    run_nightly(date(2026, 12, 1))
    nightly = _db.session.scalars(select(LedgerEntry.source_ref).where(
        LedgerEntry.account_id == acct.id, LedgerEntry.source_ref.startswith("nightly:"))).all()
    assert nightly == []  # no penalty interest or fee for days on which nothing was overdue
    assert _db.session.get(AccountNightlyState, acct.id).stage == "current"
    assert balance_of(acct, date(2026, 12, 1)).days_past_due == 0
