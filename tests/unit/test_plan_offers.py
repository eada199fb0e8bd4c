"""Plan terms, policy decisions, offers, nearest plan and affordability (with Hypothesis)."""
import json
import os
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.money import percent_of
from portal.plans.choices import disposable_income, offers_for, saving, suggest_for_budget
from portal.plans.offers import (
    History, Owed, PlanSpec, build_terms, check_terms, count_for_budget, decide,
)
from portal.plans.rules import parse_plans_section

SECTIONS = {p: json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "portal", "policy",
                                         "profiles", f"{p}.json")))["plans"] for p in ("cn", "us")}
CN = parse_plans_section(SECTIONS["cn"])
US = parse_plans_section(SECTIONS["us"])
TODAY = date(2026, 11, 28)
OWED = Owed("CNY", 500_000, 20_000, 15_000)


def spec(**kw):
    base = dict(kind="instalment", count=6, frequency="monthly", first_date=TODAY + timedelta(days=7))
    base.update(kw)
    return PlanSpec(**base)


def test_offer_schedule_sums_to_total_and_is_inside_envelope():
    offers = offers_for(OWED, CN, TODAY)
    assert [o.key for o in offers] == ["settlement", "instalment-3", "instalment-6",
                                       "instalment-12", "deferral"]
    for offer in offers:
        assert sum(i.amount for i in offer.terms.schedule) == offer.terms.total
        assert check_terms(offer.terms, CN.envelope, TODAY) == []


def test_settlement_discount_is_policy_percent_rounded_once():
    settlement = offers_for(OWED, CN, TODAY)[0].terms
    assert settlement.discount == percent_of(535_000, Decimal("10")) == 53_500
    assert settlement.total == 481_500


def test_us_envelope_waives_fees_and_saving_counts_them():
    owed = Owed("USD", 200_000, 5_000, 4_000)
    plan = next(o for o in offers_for(owed, US, TODAY) if o.key == "instalment-6")
    assert plan.terms.fees_waived == 4_000 and plan.terms.total == 205_000
    assert plan.saving >= 4_000


def test_proposal_inside_envelope_is_auto_approved():
    assert decide(spec(count=6), OWED, CN, TODAY).outcome == "auto"


def test_proposal_within_policy_beyond_envelope_goes_to_review():
    decision = decide(spec(count=24), OWED, CN, TODAY)
    assert decision.outcome == "review"
    assert [r.code for r in decision.review_reasons] == ["too_many_instalments"]


def test_proposal_beyond_policy_is_refused_with_reason_and_nearest_plan():
    decision = decide(spec(count=70), OWED, CN, TODAY)
    assert decision.outcome == "refused"
    assert decision.reasons[0].code == "too_many_instalments"
    assert decision.reasons[0].params == {"max": 60}
    nearest = decision.nearest
    assert nearest.spec.count <= 60
    assert check_terms(nearest, CN.limits, TODAY) == []
    assert min(i.amount for i in nearest.schedule) >= 10_000


def test_first_date_in_past_and_too_late_are_refused():
    assert decide(spec(first_date=TODAY - timedelta(days=1)), OWED, CN, TODAY).reasons[0].code \
        == "first_date_in_past"
    late = decide(spec(first_date=TODAY + timedelta(days=45)), OWED, CN, TODAY)
    assert late.reasons[0].code == "first_date_too_late"
    assert late.nearest.spec.first_date == TODAY + timedelta(days=30)


def test_frequency_not_allowed_in_envelope_goes_to_review():
    assert decide(spec(frequency="weekly", count=12), OWED, CN, TODAY).outcome == "review"


def test_cooling_off_after_broken_plan_refuses_with_date():
    history = History(last_broken_on=TODAY - timedelta(days=10))
    decision = decide(spec(), OWED, CN, TODAY, history)
    assert decision.outcome == "refused"
    assert decision.reasons[0].code == "cooling_off"
    assert decision.reasons[0].params["until"] == TODAY + timedelta(days=20)


def test_plans_per_year_limit_refuses_and_envelope_sends_second_to_review():
    assert decide(spec(), OWED, CN, TODAY, History(plans_last_12_months=2)).reasons[0].code == \
        "plans_limit"
    assert decide(spec(), OWED, CN, TODAY, History(plans_last_12_months=1)).outcome == "review"


def test_minimum_down_payment_in_m3_stage():
    m3 = parse_plans_section(SECTIONS["cn"], stage="m3")
    refused = decide(spec(), OWED, m3, TODAY)
    assert refused.reasons[0].code == "down_payment_too_small"
    assert refused.reasons[0].params["min"] == percent_of(535_000, Decimal(5))
    assert refused.nearest.spec.down_payment == 26_750
    assert refused.nearest.schedule[0].amount == 26_750


def test_deferral_pays_all_once_without_concessions():
    terms = build_terms(spec(kind="deferral", fees_waived=True, count=9), OWED)
    assert terms.total == OWED.total and len(terms.schedule) == 1 and terms.concession == 0


def test_reduced_rate_interest_is_added_and_scheduled():
    terms = build_terms(spec(interest="reduced", interest_rate_percent=Decimal("6")), OWED,
                        start=TODAY)
    assert terms.interest_added > 0
    assert sum(i.amount for i in terms.schedule) == terms.total == OWED.total + terms.interest_added


def test_disposable_income_subtracts_every_essential_cost():
    costs = dict(housing=300_000, utilities=20_000, food=100_000, transport=30_000,
                 childcare=0, other_debts=50_000)
    assert disposable_income(550_000, costs) == 50_000


def test_budget_too_small_for_any_plan_suggests_nothing():
    assert suggest_for_budget(5_000, OWED, CN, TODAY) is None


def test_saving_is_zero_without_a_rate_and_no_concession():
    terms = build_terms(spec(), OWED)
    assert saving(terms, replace(CN, savings_rate_percent=None), TODAY) == 0


AMOUNTS = st.integers(min_value=1, max_value=10**9)


@settings(max_examples=200, deadline=None)
@given(principal=AMOUNTS, fees=st.integers(0, 10**6), count=st.integers(1, 60),
       freq=st.sampled_from(["weekly", "fortnightly", "monthly"]),
       kind=st.sampled_from(["instalment", "settlement", "deferral"]),
       pct=st.decimals(min_value=0, max_value=100, places=2), waive=st.booleans())
def test_schedule_always_sums_exactly_to_total(principal, fees, count, freq, kind, pct, waive):
    owed = Owed("CNY", principal, 0, fees)
    try:
        terms = build_terms(spec(kind=kind, count=count, frequency=freq, fees_waived=waive,
                                 discount_percent=pct), owed)
    except ValueError:
        return
    assert sum(i.amount for i in terms.schedule) == terms.total
    assert terms.total + terms.concession == owed.total
    assert all(i.amount > 0 for i in terms.schedule)
    if kind == "settlement":
        assert terms.discount == percent_of(owed.total - terms.fees_waived, pct)


@settings(max_examples=200, deadline=None)
@given(principal=st.integers(20_000, 5 * 10**7), budget=st.integers(1, 10**6))
def test_suggested_plan_never_asks_more_than_the_budget(principal, budget):
    owed = Owed("CNY", principal, 0, 0)
    terms = suggest_for_budget(budget, owed, CN, TODAY)
    if terms is not None:
        assert terms.largest_instalment <= budget
        assert check_terms(terms, CN.limits, TODAY) == []
        assert sum(i.amount for i in terms.schedule) == terms.total


@settings(max_examples=300, deadline=None)
@given(total=st.integers(1, 10**9), per=st.integers(1, 10**7))
def test_count_for_budget_keeps_every_instalment_within_budget(total, per):
    n = count_for_budget(total, per)
    if n <= 1000:
        base, rem = divmod(total, n)
        assert base + rem <= per


@settings(max_examples=100, deadline=None)
@given(count=st.integers(61, 200), principal=st.integers(1, 10**8))
def test_refused_proposal_nearest_is_always_within_policy(count, principal):
    decision = decide(spec(count=count), Owed("CNY", principal, 0, 0), CN, TODAY)
    assert decision.outcome == "refused"
    if decision.nearest is not None:
        assert check_terms(decision.nearest, CN.limits, TODAY) == []
