"""The disclosed cost of a plan: the annualised rate solves the plan's cash flows, interest in
all is what is repaid beyond what was credited, smallest and largest payment are the schedule's."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from portal.domain.cost import annual_rate, plan_cost
from portal.domain.schedule import Frequency, build_schedule
from portal.plans.offers import Owed, PlanSpec, build_terms

START = date(2026, 11, 28)


def test_a_plan_without_interest_costs_nothing():
    cost = plan_cost(120_000, START, [(START + timedelta(days=30 * k), 20_000) for k in range(1, 7)])
    assert cost.annual_rate_percent == Decimal("0.00")
    assert cost.interest == 0
    assert (cost.smallest_payment, cost.largest_payment) == (20_000, 20_000)


def test_one_payment_a_year_later_gives_the_simple_rate():
    cost = plan_cost(100_000, START, [(START + timedelta(days=365), 118_250)])
    assert cost.annual_rate_percent == Decimal("18.25")
    assert cost.interest == 18_250


def test_half_a_year_compounds_to_the_yearly_rate():
    # 100 grows to 110 in half a year: (1.1)^2 - 1 = 21% a year
    cost = plan_cost(10_000, START, [(START + timedelta(days=int(365 / 2)), 11_000)])
    assert Decimal("20.9") < cost.annual_rate_percent < Decimal("21.2")


def test_payments_on_the_start_day_carry_no_rate():
    assert annual_rate(1_000, START, [(START, 1_100)]) == 0


def test_nothing_credited_is_refused():
    with pytest.raises(ValueError):
        plan_cost(0, START, [(START, 1)])


@given(credited=st.integers(1_000, 10**9), count=st.integers(1, 36),
       extra=st.integers(0, 10**8), frequency=st.sampled_from(list(Frequency)),
       delay=st.integers(0, 60))
def test_the_rate_discounts_the_payments_back_to_what_was_credited(
        credited, count, extra, frequency, delay):
    schedule = build_schedule(credited + extra, count, frequency, START + timedelta(days=delay))
    payments = [(i.due_date, i.amount) for i in schedule]
    cost = plan_cost(credited, START, payments)
    assert cost.interest == extra
    assert cost.smallest_payment == min(a for _, a in payments)
    assert cost.largest_payment == max(a for _, a in payments)
    rate = annual_rate(credited, START, payments)
    if extra == 0:
        assert cost.annual_rate_percent == 0
    elif rate < 1000 and any(d > START for d, _ in payments):
        present = sum(a / (1 + rate) ** (max((d - START).days, 0) / 365) for d, a in payments)
        assert abs(present - credited) <= max(1e-6 * credited, 0.01)


@given(credited=st.integers(10_000, 10**8), count=st.integers(2, 24),
       more=st.integers(1, 10**6))
def test_more_interest_never_shows_a_lower_rate(credited, count, more):
    first = START + timedelta(days=30)
    low = build_schedule(credited + more, count, Frequency.MONTHLY, first)
    high = build_schedule(credited + 2 * more, count, Frequency.MONTHLY, first)
    assert plan_cost(credited, START, [(i.due_date, i.amount) for i in low]).annual_rate_percent \
        <= plan_cost(credited, START, [(i.due_date, i.amount) for i in high]).annual_rate_percent


def test_terms_disclose_their_cost_and_the_start_is_not_part_of_the_terms():
    owed = Owed("CNY", 500_000, 20_000, 15_000)
    spec = PlanSpec("instalment", 12, "monthly", START + timedelta(days=7),
                    interest="reduced", interest_rate_percent=Decimal("5"))
    terms = build_terms(spec, owed, start=START)
    cost = terms.cost
    assert cost.interest == terms.interest_added > 0
    assert cost.amount_credited == terms.total - terms.interest_added
    # simple interest on the declining balance, paid in equal parts: a little above 5 %
    assert Decimal("5") <= cost.annual_rate_percent < Decimal("7")
    assert build_terms(spec, owed, start=START + timedelta(days=1)).start != terms.start
    frozen = build_terms(PlanSpec("instalment", 12, "monthly", START + timedelta(days=7)), owed,
                         start=START)
    assert frozen.cost.annual_rate_percent == 0 and frozen.cost.interest == 0
