"""Plan terms, policy checks, offers, the nearest allowed plan and affordability. Pure code.

Money: every amount is integer minor units; concessions and interest are computed with
Decimal and rounded once (portal.domain.money). A schedule always sums to the plan total.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from portal.domain.cost import PlanCost, plan_cost
from portal.domain.money import percent_of, round_half_up
from portal.domain.schedule import Frequency, Instalment, build_schedule
from portal.plans.rules import Limits, PlanPolicy


@dataclass(frozen=True)
class Owed:
    currency: str
    principal: int
    interest: int
    fees: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class PlanSpec:
    """What someone asks for; the concessions come from policy or a collector."""
    kind: str
    count: int
    frequency: str
    first_date: date
    down_payment: int = 0
    fees_waived: bool = False
    discount_percent: Decimal = Decimal(0)
    interest: str = "frozen"
    interest_rate_percent: Decimal | None = None

    def normalised(self) -> PlanSpec:
        if self.kind == "deferral":
            return replace(self, count=1, frequency="monthly", down_payment=0, fees_waived=False,
                           discount_percent=Decimal(0), interest="frozen",
                           interest_rate_percent=None)
        if self.kind == "settlement":
            return replace(self, count=1, frequency="monthly", down_payment=0,
                           interest="frozen", interest_rate_percent=None)
        return replace(self, discount_percent=Decimal(0))


@dataclass(frozen=True)
class Terms:
    spec: PlanSpec
    currency: str
    balance: int          # what was owed when the terms were made
    fees_waived: int
    discount: int
    interest_added: int   # interest at a reduced rate, added to the total up front
    total: int            # what the cardholder repays: the schedule sums to it
    schedule: tuple[Instalment, ...]
    # The day the plan takes the balance over (interest runs from it). Not part of what the
    # terms are: the same terms priced on another day compare equal.
    start: date | None = field(default=None, compare=False)

    @property
    def cost(self) -> PlanCost:
        """The disclosed cost: annualised rate, interest in all, smallest and largest payment."""
        return plan_cost(self.total - self.interest_added, self.start or self.spec.first_date,
                         [(i.due_date, i.amount) for i in self.schedule])

    @property
    def concession(self) -> int:
        """What the issuer gives up in money: fees waived plus the settlement discount."""
        return self.fees_waived + self.discount

    @property
    def instalment_amount(self) -> int:
        """The regular instalment (the first one after any down payment)."""
        regular = self.schedule[1:] if self.spec.down_payment and len(self.schedule) > 1 \
            else self.schedule
        return regular[0].amount

    @property
    def largest_instalment(self) -> int:
        return max(i.amount for i in self.schedule)

    @property
    def last_date(self) -> date:
        return self.schedule[-1].due_date


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict = field(default_factory=dict)


class TermsError(ValueError):
    """Terms cannot be built at all (e.g. too little owed for that many instalments)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _interest_at(rate: Decimal, principal_schedule: list[Instalment], start: date) -> int:
    """Simple interest on the declining principal between due dates, rounded once."""
    outstanding = sum(i.amount for i in principal_schedule)
    exact = Decimal(0)
    previous = start
    for inst in principal_schedule:
        days = (inst.due_date - previous).days
        exact += Decimal(outstanding) * rate / Decimal(100) * Decimal(days) / Decimal(365)
        outstanding -= inst.amount
        previous = inst.due_date
    return round_half_up(exact)


def build_terms(spec: PlanSpec, owed: Owed, *, start: date | None = None) -> Terms:
    """Terms for `spec` on what is `owed`; raises TermsError('nothing_owed'|'total_too_small')."""
    spec = spec.normalised()
    if owed.total <= 0:
        raise TermsError("nothing_owed")
    fees_waived = owed.fees if spec.fees_waived else 0
    base = owed.total - fees_waived
    discount = percent_of(base, spec.discount_percent) if spec.kind == "settlement" else 0
    total = base - discount
    if total <= 0 or spec.count < 1 or spec.down_payment < 0:
        raise TermsError("total_too_small")
    frequency = Frequency(spec.frequency)
    try:
        interest_added = 0
        if spec.kind == "instalment" and spec.interest == "reduced" and spec.interest_rate_percent:
            principal = build_schedule(total, spec.count, frequency, spec.first_date,
                                       down_payment=spec.down_payment)
            interest_added = _interest_at(Decimal(spec.interest_rate_percent), principal,
                                          start or spec.first_date)
            total += interest_added
        schedule = build_schedule(total, spec.count, frequency, spec.first_date,
                                  down_payment=spec.down_payment)
    except ValueError as exc:
        raise TermsError("total_too_small") from exc
    return Terms(spec, owed.currency, owed.total, fees_waived, discount, interest_added, total,
                 tuple(schedule), start or spec.first_date)


def min_down_payment(terms_total_before_dp: int, limits: Limits) -> int:
    return percent_of(terms_total_before_dp, limits.min_down_payment_percent)


def check_terms(terms: Terms, limits: Limits, today: date) -> list[Reason]:
    """Why `terms` break `limits` (an empty list: they are within them)."""
    spec, reasons = terms.spec, []
    if spec.kind not in limits.plan_types:
        return [Reason("type_not_allowed", {"kind": spec.kind})]
    window = limits.max_deferral_days if spec.kind == "deferral" else limits.first_due_within_days
    if spec.first_date < today:
        reasons.append(Reason("first_date_in_past"))
    elif spec.first_date > today + timedelta(days=window):
        code = "deferral_too_long" if spec.kind == "deferral" else "first_date_too_late"
        reasons.append(Reason(code, {"latest": today + timedelta(days=window)}))
    if spec.kind == "instalment":
        if spec.frequency not in limits.frequencies:
            reasons.append(Reason("frequency_not_allowed", {"frequency": spec.frequency}))
        if spec.count < limits.min_instalments:
            reasons.append(Reason("too_few_instalments", {"min": limits.min_instalments}))
        if spec.count > limits.max_instalments:
            reasons.append(Reason("too_many_instalments", {"max": limits.max_instalments}))
        floor = limits.min_instalment_for(terms.currency)
        if min(i.amount for i in terms.schedule) < floor:
            reasons.append(Reason("instalment_too_small", {"min": floor}))
        needed = min_down_payment(terms.total - terms.interest_added, limits)
        if spec.down_payment < needed:
            reasons.append(Reason("down_payment_too_small", {"min": needed}))
        if spec.interest == "reduced" or limits.interest == "reduced":
            floor_rate = limits.interest_rate_percent or Decimal(0)
            rate = spec.interest_rate_percent if spec.interest == "reduced" else Decimal(0)
            if rate is None or rate < floor_rate:
                reasons.append(Reason("interest_rate_too_low", {"min": floor_rate}))
    if spec.discount_percent > limits.settlement_discount_percent:
        reasons.append(Reason("discount_too_large", {"max": limits.settlement_discount_percent}))
    if spec.fees_waived and terms.fees_waived and not limits.fees_waived:
        reasons.append(Reason("fees_waiver_not_allowed"))
    max_total = limits.max_total_for(terms.currency)
    if max_total is not None and terms.total > max_total:
        reasons.append(Reason("total_too_large", {"max": max_total}))
    return reasons


@dataclass(frozen=True)
class History:
    """The account's recent plans, for the per-12-months limit and cooling-off."""
    plans_last_12_months: int = 0
    last_broken_on: date | None = None


def check_eligibility(history: History, limits: Limits, today: date) -> list[Reason]:
    if history.last_broken_on is not None:
        until = history.last_broken_on + timedelta(days=limits.cooling_off_days)
        if today < until:
            return [Reason("cooling_off", {"until": until})]
    if history.plans_last_12_months >= limits.max_plans_per_12_months:
        return [Reason("plans_limit", {"max": limits.max_plans_per_12_months,
                                       "count": history.plans_last_12_months})]
    return []


@dataclass(frozen=True)
class Decision:
    outcome: str  # "auto" (accepted on consent), "review", "refused"
    terms: Terms | None
    reasons: list[Reason]          # why refused
    review_reasons: list[Reason]   # why outside the envelope
    nearest: Terms | None = None   # the nearest allowed plan, when refused


def decide(spec: PlanSpec, owed: Owed, policy: PlanPolicy, today: date,
           history: History = History()) -> Decision:
    """Refused (with reasons and the nearest allowed plan), review, or auto-approval."""
    blocked = check_eligibility(history, policy.limits, today)
    if blocked:
        return Decision("refused", None, blocked, [])
    try:
        terms = build_terms(spec, owed, start=today)
    except TermsError as exc:
        return Decision("refused", None, [Reason(exc.code)], [],
                        nearest_allowed(spec, owed, policy.limits, today))
    reasons = check_terms(terms, policy.limits, today)
    if reasons:
        return Decision("refused", terms, reasons, [],
                        nearest_allowed(spec, owed, policy.limits, today))
    review = check_terms(terms, policy.envelope, today) + check_eligibility(
        history, policy.envelope, today)
    return Decision("review" if review else "auto", terms, [], review)


def nearest_allowed(spec: PlanSpec, owed: Owed, limits: Limits, today: date) -> Terms | None:
    """The plan closest to `spec` that `limits` allow, or None if none is."""
    kind = spec.kind if spec.kind in limits.plan_types else (
        "instalment" if "instalment" in limits.plan_types else limits.plan_types[0])
    window = limits.max_deferral_days if kind == "deferral" else limits.first_due_within_days
    first = min(max(spec.first_date, today), today + timedelta(days=window))
    frequency = spec.frequency if spec.frequency in limits.frequencies else (
        "monthly" if "monthly" in limits.frequencies else limits.frequencies[0])
    candidate = replace(spec, kind=kind, first_date=first, frequency=frequency,
                        discount_percent=min(spec.discount_percent,
                                             limits.settlement_discount_percent),
                        fees_waived=spec.fees_waived and limits.fees_waived)
    if limits.interest == "reduced":
        rate = max(spec.interest_rate_percent or Decimal(0), limits.interest_rate_percent)
        candidate = replace(candidate, interest="reduced", interest_rate_percent=rate)
    if kind == "instalment":
        count = min(max(spec.count, limits.min_instalments), limits.max_instalments)
        # Fewer instalments until each reaches the minimum amount.
        for n in range(count, limits.min_instalments - 1, -1):
            terms = _with_down_payment(replace(candidate, count=n), owed, limits, today)
            if terms is not None:
                return terms
        return None
    try:
        terms = build_terms(candidate, owed, start=today)
    except TermsError:
        return None
    return None if check_terms(terms, limits, today) else terms


def _with_down_payment(spec: PlanSpec, owed: Owed, limits: Limits, today: date) -> Terms | None:
    try:
        draft = build_terms(replace(spec, down_payment=0), owed, start=today)
        needed = min_down_payment(draft.total - draft.interest_added, limits)
        terms = build_terms(replace(spec, down_payment=max(spec.down_payment, needed)),
                            owed, start=today)
    except TermsError:
        return None
    return None if check_terms(terms, limits, today) else terms


def count_for_budget(total: int, per_period: int, down_payment: int = 0) -> int:
    """Fewest instalments whose every regular instalment is at most `per_period`."""
    if per_period <= 0:
        raise ValueError("per_period must be > 0")
    rest = total - down_payment
    n = max(1, -(-rest // per_period))
    while rest // n + rest % n > per_period:  # the last instalment carries the remainder
        n += 1
    return n + (1 if down_payment else 0)
