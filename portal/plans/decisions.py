"""Deciding a proposal: staff approve, counter or reject it; the cardholder accepts a
counter-offer (declining one is a cancel, in `endings`). Services add and flush; the route
commits.

A plan is priced on the day it starts: approving a proposal, or accepting a counter-offer, on a
later day than its terms were made prices them again from that day's balance (`reprice`). Terms
that come out the same activate the plan; changed terms wait, as a counter-offer does, for the
cardholder's consent to them, and nothing about escalation changes meanwhile (only an active
plan pauses it)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from portal.accounts.locks import lock_loaded_account
from portal.audit.services import record
from portal.plans.lifecycle import (
    Consent, PlanError, activate, may_decide, may_decide_plan, plan_hash, record_consent, required_role, set_terms,
    terms_of, terms_summary,
)
from portal.plans.models import Plan, PlanStatus
from portal.plans.notify import notify
from portal.plans.offers import Decision, PlanSpec, Terms, build_terms, decide, min_down_payment
from portal.plans.rules import PlanPolicy
from portal.plans.services import (
    balance_on, lock_plan, movements_since, owed_for, plan_policy, set_status,
)
from portal.timeutil import as_aware, utcnow


def approve(plan: Plan, staff, today: date) -> bool:
    """A collector or manager approves a proposal in review, within their authority
    (`may_decide_plan`, the rule counter-offers and rejections follow too). The terms are
    priced again from today's balance: True when they came out the same and the plan is
    active; False when they changed and the plan now waits for the cardholder's consent to
    the new terms (PlanError('refused') when policy no longer allows them,
    'beyond_authority' when they are beyond the approver's)."""
    lock_loaded_account(plan.account)  # before the plan (docs/money.md, "Lock order"): reprice
    lock_plan(plan)
    if plan.status != PlanStatus.IN_REVIEW:
        raise PlanError("not_in_review")
    if not may_decide_plan(staff, plan):
        raise PlanError("beyond_authority")
    if plan.first_date < today:
        raise PlanError("first_date_passed")
    old, decision, policy = reprice(plan, today)
    if decision.terms != old and not may_decide(staff, required_role(decision.terms, policy)):
        raise PlanError("beyond_authority", decision)
    plan.decided_by_id, plan.decided_at = staff.id, utcnow()
    if decision.terms != old:
        _hold_for_consent(plan, old, decision.terms, policy, today, since=plan.accepted_at)
        set_status(plan, PlanStatus.COUNTERED, "plan.repriced", **plan.repriced)
        notify(plan, "plan_repriced")
        return False
    activate(plan, today, "plan.approved")
    return True


def reprice(plan: Plan, today: date) -> tuple[Terms, Decision, PlanPolicy]:
    """The plan's stored terms, and the same terms priced on `today`: the same kind, count,
    frequency, dates and concessions on today's balance; a down payment that was the
    policy's minimum stays the minimum, any other keeps its amount. Raises
    PlanError('refused', decision) when policy does not allow them on today's balance."""
    old = terms_of(plan)
    account = plan.account
    balance = balance_on(account, today)
    policy = plan_policy(account, today, balance=balance)
    owed = owed_for(account, today, balance)
    spec = old.spec
    if spec.down_payment and spec.down_payment == min_down_payment(
            old.total - old.interest_added, policy.limits):
        spec = replace(spec, down_payment=_minimum_down_payment(spec, owed, policy))
    decision = decide(spec, owed, policy, today)
    if decision.outcome == "refused":
        raise PlanError("refused", decision)
    return old, decision, policy


def _minimum_down_payment(spec: PlanSpec, owed, policy: PlanPolicy) -> int:
    try:
        draft = build_terms(replace(spec, down_payment=0), owed)
    except ValueError:
        return spec.down_payment  # decide() says why these terms are impossible
    return min_down_payment(draft.total - draft.interest_added, policy.limits)


def _hold_for_consent(plan: Plan, old: Terms, new: Terms, policy: PlanPolicy, today: date, *,
                      since: datetime | None) -> None:
    """Store the re-priced terms and why they changed; the consent to the old ones lapses."""
    moved = movements_since(plan.account, as_aware(since)) if since else {}
    plan.repriced = {"on": today.isoformat(), "balance_before": old.balance,
                     "balance_now": new.balance, "total_before": old.total,
                     "total_now": new.total, **moved}
    set_terms(plan, new)
    plan.policy_version, plan.stage, plan.grace_days = (policy.version, policy.stage,
                                                        policy.limits.grace_days)
    plan.required_role = required_role(new, policy)
    plan.terms_hash = None


def counter(plan: Plan, staff, spec: PlanSpec, today: date, reason: str) -> None:
    """Offer different terms, within policy and the staff member's authority; the
    cardholder then accepts or declines them."""
    lock_plan(plan)
    if plan.status != PlanStatus.IN_REVIEW:
        raise PlanError("not_in_review")
    if not may_decide_plan(staff, plan):
        raise PlanError("beyond_authority")
    account = plan.account
    balance = balance_on(account, today)
    policy = plan_policy(account, today, balance=balance)
    decision = decide(spec, owed_for(account, today, balance), policy, today)
    if decision.outcome == "refused":
        raise PlanError("refused", decision)
    role = required_role(decision.terms, policy)
    if not may_decide(staff, role):  # the new terms must be within the decider's authority too
        raise PlanError("beyond_authority", decision)
    plan.proposed_terms = {k: str(v) for k, v in terms_summary(plan).items()}
    set_terms(plan, decision.terms)
    plan.policy_version, plan.stage, plan.grace_days = (policy.version, policy.stage,
                                                        policy.limits.grace_days)
    plan.required_role, plan.decision_reason = role, reason
    plan.decided_by_id, plan.decided_at = staff.id, utcnow()
    plan.terms_hash = None
    set_status(plan, PlanStatus.COUNTERED, "plan.countered", terms=terms_summary(plan),
               reason=reason)
    notify(plan, "plan_countered")


def reject(plan: Plan, staff, reason: str) -> None:
    """Refuse a proposal in review, within the staff member's authority; the cardholder sees
    `reason` (required)."""
    lock_plan(plan)
    if plan.status != PlanStatus.IN_REVIEW:
        raise PlanError("not_in_review")
    if not may_decide_plan(staff, plan):
        raise PlanError("beyond_authority")
    if not reason.strip():
        raise PlanError("reason_required")
    plan.decided_by_id, plan.decided_at, plan.decision_reason = staff.id, utcnow(), reason
    set_status(plan, PlanStatus.REJECTED, "plan.rejected", reason=reason)
    notify(plan, "plan_rejected")


def accept_counter(plan: Plan, consent: Consent, today: date) -> bool:
    """The cardholder accepts a counter-offer (or re-priced terms): the hash must match the
    terms shown. The terms are priced again from today's balance: True when they came out the
    same and the plan is active; False when they changed again, and the plan keeps waiting
    with the new terms for a new consent (PlanError('refused') when policy no longer allows
    them)."""
    lock_loaded_account(plan.account)  # as `approve`: the balance priced is every posting's
    lock_plan(plan)
    if plan.status != PlanStatus.COUNTERED:
        raise PlanError("not_countered")
    if plan_hash(plan, consent.locale) != consent.terms_hash:
        raise PlanError("terms_changed")
    if plan.first_date < today:
        raise PlanError("first_date_passed")
    old, decision, policy = reprice(plan, today)
    if decision.terms != old:
        _hold_for_consent(plan, old, decision.terms, policy, today, since=plan.decided_at)
        plan.decided_at = utcnow()
        record("plan.repriced", subject=plan, after=plan.repriced)
        notify(plan, "plan_repriced")
        return False
    record_consent(plan, consent)
    activate(plan, today, "plan.counter_accepted")
    return True
