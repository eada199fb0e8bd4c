"""Deciding a proposal: staff approve, counter or reject it; the cardholder accepts a
counter-offer (declining one is a cancel, in `endings`). Services add and flush; the route
commits."""
from __future__ import annotations

from datetime import date

from portal.plans.lifecycle import (
    Consent, PlanError, activate, may_decide, may_decide_plan, plan_hash, record_consent, required_role, set_terms,
    terms_summary,
)
from portal.plans.models import Plan, PlanStatus
from portal.plans.notify import notify
from portal.plans.offers import PlanSpec, decide
from portal.plans.services import balance_on, lock_plan, owed_for, plan_policy, set_status
from portal.timeutil import utcnow


def approve(plan: Plan, staff, today: date) -> None:
    """A collector or manager approves a proposal in review, within their authority
    (`may_decide_plan`, the rule counter-offers and rejections follow too)."""
    lock_plan(plan)
    if plan.status != PlanStatus.IN_REVIEW:
        raise PlanError("not_in_review")
    if not may_decide_plan(staff, plan):
        raise PlanError("beyond_authority")
    if plan.first_date < today:
        raise PlanError("first_date_passed")
    plan.decided_by_id, plan.decided_at = staff.id, utcnow()
    activate(plan, today, "plan.approved")


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


def accept_counter(plan: Plan, consent: Consent, today: date) -> None:
    """The cardholder accepts a counter-offer: the hash must match the counter terms."""
    lock_plan(plan)
    if plan.status != PlanStatus.COUNTERED:
        raise PlanError("not_countered")
    if plan_hash(plan, consent.locale) != consent.terms_hash:
        raise PlanError("terms_changed")
    if plan.first_date < today:
        raise PlanError("first_date_passed")
    record_consent(plan, consent)
    activate(plan, today, "plan.counter_accepted")
