"""A late feed ends where a timely one would have: Hypothesis over the issuer's feed for day F
(a payment at the bank, whole or part of what is overdue) arriving before the nightly run
walks past F, or 1-4 days after. Two accounts with the same history, one of each: once the
late feed's corrections are posted, the late one has the same fees, stage and principal as
the timely one, on that day and on later nights; its interest is never more, and at most two
minor units less (a correction's replay starts with no carried fraction of a unit, and the
run goes on with the smaller of the two carries: docs/money.md)."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.consequences.models import AccountNightlyState
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from tests.integration.journal_helpers import account, feed, utc

START = date(2026, 11, 1)
_numbers = itertools.count(1)


def _charged(account_id: int, first: date, last: date) -> dict[tuple[date, str], int]:
    """Net charges (nightly, less corrections) per day and kind, first..last."""
    rows = _db.session.execute(
        select(LedgerEntry.effective_date, LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.account_id == account_id,
               LedgerEntry.kind.in_([EntryKind.INTEREST, EntryKind.FEE]),
               LedgerEntry.effective_date.between(first, last))
        .group_by(LedgerEntry.effective_date, LedgerEntry.kind)).all()
    return {(day, kind.value): int(amount) for day, kind, amount in rows if amount}


def _same_but_interest_never_more(timely: int, late: int, first: date, last: date) -> None:
    a, b = _charged(timely, first, last), _charged(late, first, last)
    assert {k: v for k, v in a.items() if k[1] == "fee"} == {
        k: v for k, v in b.items() if k[1] == "fee"}
    behind, day = 0, first
    while day <= last:
        behind += a.get((day, "interest"), 0) - b.get((day, "interest"), 0)
        assert 0 <= behind <= 2, (day, a, b)
        day += timedelta(days=1)


def _figures(acct) -> tuple:
    balance = balance_of(acct, date(2026, 12, 31))
    state = _db.session.get(AccountNightlyState, acct.id)
    return (balance.principal, balance.fees, balance.overdue, balance.days_past_due,
            state.stage, state.last_processed_day)


def test_a_late_feed_ends_where_a_timely_one_would_have(db, clock):
    clock.move_to(utc(2026, 12, 20, 4))

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(principal=st.integers(60_000, 900_000), overdue=st.integers(5_000, 50_000),
           late_since=st.integers(0, 40), walked_before=st.integers(0, 3),
           paid=st.integers(1, 60_000), lateness=st.integers(1, 4), after=st.integers(0, 3))
    # 335.5 a day: the replay's units fell a day apart from the run's, and a day-by-day
    # take-back left the late account 3 units lower (found by this test, 2026-12-07)
    @example(principal=671_001, overdue=5_000, late_since=0, walked_before=0, paid=1,
             lateness=4, after=1)
    @example(principal=671_001, overdue=5_000, late_since=0, walked_before=3, paid=1,
             lateness=4, after=3)
    def check(principal, overdue, late_since, walked_before, paid, lateness, after):
        paid = min(paid, principal)
        first = START + timedelta(days=walked_before)
        day = first + timedelta(days=1)  # F: the day paid at the bank
        due = (START - timedelta(days=late_since)).isoformat()
        timely, late = (f"6228{next(_numbers):012d}" for _ in range(2))
        for number in (timely, late):
            feed(START - timedelta(days=1), principal, minimum_due=overdue, due=due,
                 number=number, applied=[])
        a, b = account(timely), account(late)
        low, high = min(a.id, b.id), max(a.id, b.id)
        run_nightly(day, first_id=low, last_id=high)
        before = balance_of(a, day)
        assert (before.interest, before.fees) == (balance_of(b, day).interest,
                                                  balance_of(b, day).fees)
        left = overdue - paid
        figures = dict(minimum_due=max(0, left), due=due if left > 0 else "", applied=[],
                       interest=before.interest, fees=before.fees)
        feed(day, principal - paid, number=timely, **figures)  # before tonight's run
        run_nightly(day + timedelta(days=lateness), first_id=low, last_id=high)
        feed(day, principal - paid, number=late, **figures)  # after `lateness` nights
        _db.session.expire_all()
        end = day + timedelta(days=lateness)
        _same_but_interest_never_more(a.id, b.id, day, end)
        assert _figures(a) == _figures(b)
        run_nightly(end + timedelta(days=after), first_id=low, last_id=high)
        _db.session.expire_all()
        later = end + timedelta(days=after)
        _same_but_interest_never_more(a.id, b.id, day, later)
        assert _figures(a) == _figures(b)

    check()
