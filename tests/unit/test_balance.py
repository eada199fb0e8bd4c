"""What is overdue and what is only due: the statement's minimum payment becomes overdue the day
after its due date, never before, and the overdue amount never exceeds what is owed."""
import json
import os
from datetime import date, timedelta

from hypothesis import given, strategies as st

from portal.consequences.engine import AccountDay, run_day
from portal.domain.balance import is_past_due, next_due_amount, overdue_amount
from portal.policy.rules import parse_policy

PROFILES = os.path.join(os.path.dirname(__file__), "..", "..", "portal", "policy", "profiles")

DAY = date(2026, 11, 28)

totals = st.integers(0, 10**10)
minimums = st.integers(0, 10**9)
fees = st.integers(0, 10**7)
payments = st.integers(-10**10, 0)  # payments and reversals since the statement, net
due_dates = st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31)))
as_of_days = st.dates(date(2020, 1, 1), date(2030, 12, 31))


def test_the_due_date_itself_is_not_past_due_the_day_after_is():
    assert not is_past_due(DAY, DAY)
    assert is_past_due(DAY, DAY + timedelta(days=1))
    assert not is_past_due(DAY + timedelta(days=1), DAY)
    assert not is_past_due(None, DAY)


def test_a_minimum_payment_not_due_yet_is_not_overdue():
    # 李伟 in the demo: CN¥8,200.00 owed, CN¥820.00 minimum, nothing past due.
    assert overdue_amount(820_000, 82_000, 0, 0, due_date=None, as_of=DAY) == 0
    assert next_due_amount(820_000, 82_000, 0, due_date=None, as_of=DAY) == 82_000
    later = DAY + timedelta(days=7)
    assert overdue_amount(820_000, 82_000, 0, 0, due_date=later, as_of=DAY) == 0
    assert overdue_amount(820_000, 82_000, 0, 0, due_date=later, as_of=later) == 0
    assert overdue_amount(820_000, 82_000, 0, 0, due_date=later,
                          as_of=later + timedelta(days=1)) == 82_000


def test_past_due_minimum_plus_fees_less_payments():
    due = DAY - timedelta(days=30)
    assert overdue_amount(500_000, 50_000, 2_500, -10_000, due_date=due, as_of=DAY) == 42_500
    assert next_due_amount(500_000, 50_000, -10_000, due_date=due, as_of=DAY) == 0


@given(totals, minimums, fees, payments, due_dates, as_of_days)
def test_overdue_is_never_negative_nor_above_the_total(total, minimum, fee, paid, due, as_of):
    overdue = overdue_amount(total, minimum, fee, paid, due_date=due, as_of=as_of)
    assert 0 <= overdue <= total


@given(totals, minimums, fees, payments, as_of_days, st.integers(0, 3_000))
def test_nothing_is_overdue_until_the_due_date_has_passed(total, minimum, fee, paid, as_of,
                                                          days_ahead):
    due = as_of + timedelta(days=days_ahead)  # today or later
    assert overdue_amount(total, minimum, fee, paid, due_date=due, as_of=as_of) == 0
    assert overdue_amount(total, minimum, fee, paid, due_date=None, as_of=as_of) == 0


@given(totals, minimums, fees, payments, due_dates, as_of_days)
def test_a_figure_is_either_overdue_or_next_due_never_both(total, minimum, fee, paid, due,
                                                           as_of):
    overdue = overdue_amount(total, minimum, fee, paid, due_date=due, as_of=as_of)
    upcoming = next_due_amount(total, minimum, paid, due_date=due, as_of=as_of)
    assert not (overdue and upcoming)
    assert 0 <= upcoming <= total
    assert overdue + upcoming <= total


@given(totals, minimums, payments, as_of_days)
def test_what_is_due_on_the_due_date_is_what_is_overdue_the_day_after(total, minimum, paid,
                                                                      due):
    # No fee has been posted yet on the first late day's morning: the same money moves over.
    assert (next_due_amount(total, minimum, paid, due_date=due, as_of=due)
            == overdue_amount(total, minimum, 0, paid, due_date=due,
                              as_of=due + timedelta(days=1)))


@given(totals, minimums, fees, payments, due_dates, as_of_days, st.integers(1, 10**8))
def test_a_payment_never_raises_what_is_overdue_or_due(total, minimum, fee, paid, due, as_of,
                                                       payment):
    kw = dict(due_date=due, as_of=as_of)
    assert (overdue_amount(total - payment if total >= payment else 0, minimum, fee,
                           paid - payment, **kw)
            <= overdue_amount(total, minimum, fee, paid, **kw))
    assert (next_due_amount(total, minimum, paid - payment, **kw)
            <= next_due_amount(total, minimum, paid, **kw))


@given(st.integers(1, 10**9), fees, as_of_days, st.integers(1, 3_000))
def test_past_due_overdue_is_minimum_plus_fees_when_the_total_allows(minimum, fee, as_of,
                                                                     days_late):
    due = as_of - timedelta(days=days_late)
    total = minimum + fee + 1
    assert overdue_amount(total, minimum, fee, 0, due_date=due, as_of=as_of) == minimum + fee


def test_the_nightly_engine_sees_nothing_overdue_before_the_due_date():
    due = date(2026, 2, 10)
    state = AccountDay(account_id=1, currency="CNY", minimum_due=50_000, cycle=due,
                       feed_as_of=date(2026, 1, 31), principal=500_000)
    with open(os.path.join(PROFILES, "cn.json"), encoding="utf-8") as fh:
        policy = parse_policy(json.load(fh), profile="cn", version=1,
                              effective_from=date(2000, 1, 1))
    for day in (date(2026, 2, 1), due):
        out = run_day(state, policy, day, paused=False)
        assert out.dpd == 0 and out.postings == [] and out.events == []
        assert state.overdue == 0
    late = run_day(state, policy, due + timedelta(days=1), paused=False)
    assert late.dpd == 1 and [p.kind for p in late.postings] == ["fee", "interest"]
    assert state.overdue == 52_500  # the minimum due plus the late fee just posted
