"""A refund or chargeback takes back what a payment paid beyond the statement's minimum first:
only what it takes of the minimum is owed again (docs/money.md). The issuer's minimum due
stops at zero, so once it has applied a payment larger than the minimum it cannot say how
far beyond the minimum the payment went; the portal keeps it on the payment when posting."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.extensions import db
from portal.jobs.nightly import run_nightly
from portal.payments.models import ReversalKind
from portal.payments.posting import lock_payment, post_reversal, reinstate_reversal
from tests.integration.journal_helpers import Clock, account, feed, movement_ids, pay, utc

DUE, START = date(2026, 11, 1), date(2026, 11, 2)


@pytest.fixture()
def paid_in_full(db, clock):
    """CN¥500.00 overdue since 1 November on CN¥4,300.00; paid in full on 2 November and the
    issuer's feed of 4 November applied it (its minimum due is now zero)."""
    when = Clock(clock, utc(2026, 11, 2, 4))
    feed(START - timedelta(days=1), 430_000, minimum_due=50_000, due=DUE.isoformat())
    acct = account()
    payment = pay(acct, 430_000, "full", when.now)
    when.now = utc(2026, 11, 4, 4)
    run_nightly(date(2026, 11, 4))
    feed(date(2026, 11, 4), 0, minimum_due=0, due=DUE.isoformat(),
         applied=movement_ids(acct, f"payment:{payment.id}:"))
    return when, acct, payment


def _charges(acct) -> list:
    return db.session.execute(select(LedgerEntry.effective_date, LedgerEntry.kind,
                                     LedgerEntry.amount).where(
        LedgerEntry.account_id == acct.id, LedgerEntry.source_ref.startswith("nightly:"))).all()


def test_a_partial_refund_of_what_went_beyond_the_minimum_makes_nothing_overdue(paid_in_full):
    # Found by the money machine on 38e5a6a: penalty interest of CN¥0.11 stood for
    # 5 November after CN¥237.05 of a CN¥4,300.00 payment (CN¥500.00 overdue) was refunded.
    when, acct, payment = paid_in_full
    post_reversal(lock_payment(payment.id), 23_705, kind=ReversalKind.REFUND,
                  external_ref="re_1", reason="overpaid")
    db.session.commit()
    assert balance_of(acct, date(2026, 11, 4)).total == 23_705
    assert balance_of(acct, date(2026, 11, 4)).overdue == 0
    when.now = utc(2026, 11, 6, 4)
    run_nightly(date(2026, 11, 6))
    assert _charges(acct) == []


def test_a_chargeback_of_the_whole_payment_makes_the_minimum_overdue_again(paid_in_full):
    when, acct, payment = paid_in_full
    post_reversal(lock_payment(payment.id), 430_000, kind=ReversalKind.CHARGEBACK,
                  external_ref="dp_1", reason="fraudulent")
    db.session.commit()
    assert balance_of(acct, date(2026, 11, 4)).overdue == 50_000
    # Won: the payment stands again, and nothing is overdue.
    reinstate_reversal(lock_payment(payment.id), "dp_1", "won")
    db.session.commit()
    assert balance_of(acct, date(2026, 11, 4)).overdue == 0
    # Two refunds: the part beyond the minimum (CN¥3,800.00) goes first, then the minimum.
    post_reversal(lock_payment(payment.id), 380_000, kind=ReversalKind.REFUND,
                  external_ref="re_1", reason="overpaid")
    db.session.commit()
    assert balance_of(acct, date(2026, 11, 4)).overdue == 0
    post_reversal(lock_payment(payment.id), 10_000, kind=ReversalKind.REFUND,
                  external_ref="re_2", reason="more")
    db.session.commit()
    assert balance_of(acct, date(2026, 11, 4)).overdue == 10_000
    assert sum(e.amount for e in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.kind == EntryKind.REVERSAL))) == 390_000


def test_payments_posted_out_of_order_count_the_minimum_once(db, clock):
    # Found by the money machine (80 examples of 60 steps) on 8246e68: CN¥142.65 was paid on
    # 7 November and posted first; CN¥500.00 paid on 6 November was posted after it (a late
    # webhook), each counted in full towards the CN¥500.00 minimum. A refund of CN¥0.01 then
    # made CN¥0.01 overdue and penalty interest of CN¥1.79 was charged on 16 November.
    when = Clock(clock, utc(2026, 11, 7, 4))
    feed(START - timedelta(days=1), 430_000, minimum_due=50_000, due=DUE.isoformat())
    acct = account()
    later = pay(acct, 14_265, "later", utc(2026, 11, 7, 3))
    earlier = pay(acct, 50_000, "earlier", utc(2026, 11, 6, 3))
    assert (later.toward_minimum, earlier.toward_minimum) == (14_265, 50_000 - 14_265)
    when.now = utc(2026, 11, 12, 4)
    feed(date(2026, 11, 12), 430_000 - 64_265, minimum_due=0, due=DUE.isoformat(),
         applied=movement_ids(acct, "payment:"))
    post_reversal(lock_payment(later.id), 1, kind=ReversalKind.REFUND, external_ref="re_1",
                  reason="rounding")
    db.session.commit()
    assert balance_of(acct, date(2026, 11, 15)).overdue == 0
    when.now = utc(2026, 11, 16, 4)
    run_nightly(date(2026, 11, 16))
    assert [c for c in _charges(acct) if c.effective_date >= date(2026, 11, 12)] == []
