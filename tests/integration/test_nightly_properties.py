"""Properties of the nightly run, over random payments and run dates."""
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.consequences.models import ConsequenceEvent, Notice, StageChange
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly

START = date(2026, 11, 1)


def _counts():
    return tuple(_db.session.scalar(select(func.count()).select_from(m))
                 for m in (LedgerEntry, ConsequenceEvent, Notice, StageChange))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days_late=st.integers(0, 200), minimum_due=st.integers(0, 80_000),
       payments=st.lists(st.tuples(st.integers(1, 120), st.integers(1, 60_000)), max_size=3),
       runs=st.lists(st.integers(1, 150), min_size=1, max_size=3),
       profile=st.sampled_from(["cn", "us"]))
def test_rerunning_is_a_no_op_and_balance_equals_the_ledger_sum(
        make_account, days_late, minimum_due, payments, runs, profile):
    currency = "CNY" if profile == "cn" else "USD"
    account = make_account(profile=profile, currency=currency, principal=400_000,
                           minimum_due=minimum_due, effective=START,
                           oldest_unpaid_due_date=START - timedelta(days=days_late))
    for n, (offset, amount) in enumerate(payments):
        _db.session.add(LedgerEntry(
            account_id=account.id, kind=EntryKind.PAYMENT, component=Component.PRINCIPAL,
            amount=-amount, currency=currency, effective_date=START + timedelta(days=offset),
            source_ref=f"prop-pay:{n}"))
    _db.session.commit()
    as_of = START
    for step in sorted(runs):
        as_of = START + timedelta(days=step)
        run_nightly(as_of, batch_size=3)
    before = _counts()
    again = run_nightly(as_of, batch_size=3)
    assert _counts() == before and again.entries_posted == 0
    ledger_sum = _db.session.scalar(select(func.sum(LedgerEntry.amount)).where(
        LedgerEntry.account_id == account.id, LedgerEntry.effective_date <= as_of))
    assert balance_of(account, as_of).total == ledger_sum
    events = _db.session.scalars(select(ConsequenceEvent.kind).where(
        ConsequenceEvent.account_id == account.id)).all()
    assert len(events) == len(set(events))  # each consequence once per cycle
