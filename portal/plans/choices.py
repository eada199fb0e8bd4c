"""What to show a cardholder: ready-made offers, savings, and the plan a budget affords. Pure."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from portal.domain.money import round_half_up
from portal.plans.offers import (
    History, Owed, PlanSpec, Terms, TermsError, build_terms, check_terms, decide,
    min_down_payment,
)
from portal.plans.rules import Limits, PlanPolicy

PERIODS_PER_YEAR = {"weekly": 52, "fortnightly": 26, "monthly": 12}
EXPENSE_FIELDS = ("housing", "utilities", "food", "transport", "childcare", "other_debts")


@dataclass(frozen=True)
class Offer:
    key: str
    terms: Terms
    saving: int


def saving(terms: Terms, policy: PlanPolicy, today: date) -> int:
    """What the plan saves against not paying: concessions plus the interest that would run
    on the balance at the policy's savings rate until the last due date, less any interest the
    plan adds. Decimal, rounded once; never negative."""
    avoided = Decimal(0)
    if policy.savings_rate_percent:
        days = max(0, (terms.last_date - today).days)
        avoided = Decimal(terms.balance) * policy.savings_rate_percent / 100 * days / 365
    return max(0, round_half_up(avoided + terms.concession - terms.interest_added))


def _envelope_spec(kind: str, count: int, first: date, env: Limits) -> PlanSpec:
    frequency = "monthly" if "monthly" in env.frequencies else env.frequencies[0]
    return PlanSpec(kind=kind, count=count, frequency=frequency, first_date=first,
                    fees_waived=env.fees_waived,
                    discount_percent=env.settlement_discount_percent if kind == "settlement"
                    else Decimal(0),
                    interest=env.interest, interest_rate_percent=env.interest_rate_percent)


def offers_for(owed: Owed, policy: PlanPolicy, today: date,
               history: History = History()) -> list[Offer]:
    """Offers accepted on the spot (inside the auto-approval envelope), best first:
    settlement, instalment plans by count, then a deferral."""
    env = policy.envelope
    first = today + timedelta(days=min(policy.offer_first_due_days, env.first_due_within_days))
    specs: list[tuple[str, PlanSpec]] = []
    if "settlement" in env.plan_types and env.settlement_discount_percent > 0:
        specs.append(("settlement", _envelope_spec("settlement", 1, first, env)))
    if "instalment" in env.plan_types:
        counts = sorted({c for c in (*policy.offer_counts, env.max_instalments)
                         if env.min_instalments <= c <= env.max_instalments})
        for count in counts:
            spec = _envelope_spec("instalment", count, first, env)
            terms = _with_minimum_down_payment(spec, owed, env, today)
            if terms is not None:
                specs.append((f"instalment-{count}", terms.spec))
    if "deferral" in env.plan_types and env.max_deferral_days > 0:
        specs.append(("deferral", _envelope_spec(
            "deferral", 1, today + timedelta(days=env.max_deferral_days), env)))
    offers = []
    for key, spec in specs:
        decision = decide(spec, owed, policy, today, history)
        if decision.outcome == "auto":
            offers.append(Offer(key, decision.terms, saving(decision.terms, policy, today)))
    return offers


def _with_minimum_down_payment(spec, owed, limits, today) -> Terms | None:
    try:
        draft = build_terms(spec, owed, start=today)
        dp = min_down_payment(draft.total - draft.interest_added, limits)
        return build_terms(replace(spec, down_payment=dp), owed, start=today) if dp else draft
    except TermsError:
        return None


def disposable_income(income: int, expenses: dict[str, int]) -> int:
    """Monthly income less essential costs (may be negative: then nothing is affordable)."""
    return income - sum(expenses.get(name, 0) for name in EXPENSE_FIELDS)


def suggest_for_budget(budget_per_month: int, owed: Owed, policy: PlanPolicy, today: date,
                       first: date | None = None) -> Terms | None:
    """The quickest instalment plan within policy whose every instalment (down payment
    included) is at most what the budget allows per period; None when none fits.

    Monthly if the policy allows it, else the allowed frequency with the budget scaled to
    its period and rounded down."""
    limits = policy.limits
    if budget_per_month <= 0 or "instalment" not in limits.plan_types:
        return None
    frequency = "monthly" if "monthly" in limits.frequencies else limits.frequencies[0]
    per_period = budget_per_month * 12 // PERIODS_PER_YEAR[frequency]
    first = first or today + timedelta(days=min(policy.offer_first_due_days,
                                                limits.first_due_within_days))
    env = policy.envelope
    for count in range(limits.min_instalments, limits.max_instalments + 1):
        spec = PlanSpec("instalment", count, frequency, first, fees_waived=env.fees_waived,
                        interest=env.interest, interest_rate_percent=env.interest_rate_percent)
        terms = _with_minimum_down_payment(spec, owed, limits, today)
        if terms is None:
            continue
        if terms.largest_instalment <= per_period and not check_terms(terms, limits, today):
            return terms
    return None
