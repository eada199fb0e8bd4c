"""Making a plan: the terms and their hash, the cardholder's consent, submitting a proposal
and activating a plan. Deciding proposals is in `decisions`, ending plans in `endings`. Every
change goes through the transition table and is audited; services add and flush, the route or
job commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from portal.accounts.locks import lock_loaded_account
from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.balances.services import Balance
from portal.domain.schedule import Instalment
from portal.extensions import db
from portal.plans import agreement
from portal.plans.models import Plan, PlanInstalment, PlanStatus
from portal.plans.notify import notify
from portal.plans.offers import Decision, PlanSpec, Reason, Terms, decide
from portal.plans.rules import PlanPolicy
from portal.plans.services import (
    active_plan, balance_on, history_for, latest_statement, lock_account_plans, lock_plan,
    open_proposal, owed_for, plan_policy, set_status,
)


class PlanError(Exception):
    """A plan action was refused; `code` says why (pages turn it into a sentence)."""

    def __init__(self, code: str, decision: Decision | None = None):
        super().__init__(code)
        self.code = code
        self.decision = decision


@dataclass(frozen=True)
class Consent:
    terms_hash: str
    locale: str
    ip: str | None
    user_agent: str | None
    at: datetime


def context_for(account: Account, policy_version: int, grace_days: int) -> agreement.AgreementContext:
    return agreement.AgreementContext(
        holder_name=account.cardholder.full_name, account_number=account.account_number,
        masked_card=account.masked_card, profile=account.policy_profile,
        policy_version=policy_version, grace_days=grace_days)


def evaluate(account: Account, spec: PlanSpec, today: date, *,
             balance: Balance | None = None) -> tuple[Decision, PlanPolicy]:
    """What policy says to `spec` for the account on `today`, and that policy. Pass the
    account's `balance` on `today` when the caller already has it (it is read otherwise)."""
    balance = balance_on(account, today, balance)
    policy = plan_policy(account, today, balance=balance)
    decision = decide(spec, owed_for(account, today, balance), policy, today,
                      history_for(account, today))
    return decision, policy


def terms_of(plan: Plan) -> Terms:
    """The plan's terms as stored (schedule from its instalment rows)."""
    spec = PlanSpec(plan.kind, plan.instalment_count, plan.frequency, plan.first_date,
                    plan.down_payment, plan.fees_waived > 0, Decimal(plan.discount_percent),
                    plan.interest_mode,
                    Decimal(plan.interest_rate_percent) if plan.interest_rate_percent else None)
    schedule = tuple(Instalment(i.seq, i.due_date, i.amount) for i in plan.instalments)
    return Terms(spec, plan.currency, plan.balance_at_start, plan.fees_waived, plan.discount,
                 plan.interest_added, plan.total, schedule, plan.terms_start)


def plan_hash(plan: Plan, locale: str) -> str:
    ctx = context_for(plan.account, plan.policy_version, plan.grace_days)
    return agreement.terms_hash(terms_of(plan), ctx, locale)


def set_terms(plan: Plan, terms: Terms) -> None:
    spec = terms.spec
    plan.kind, plan.instalment_count, plan.frequency = spec.kind, len(terms.schedule), spec.frequency
    plan.first_date, plan.down_payment = spec.first_date, spec.down_payment
    plan.balance_at_start, plan.fees_waived, plan.discount = terms.balance, terms.fees_waived, terms.discount
    plan.discount_percent = str(spec.discount_percent)
    plan.interest_mode = spec.interest
    plan.interest_rate_percent = None if spec.interest_rate_percent is None else str(spec.interest_rate_percent)
    plan.interest_added, plan.total, plan.currency = terms.interest_added, terms.total, terms.currency
    plan.terms_start = terms.start
    plan.instalments.clear()
    db.session.flush()
    plan.instalments.extend(PlanInstalment(seq=i.seq, due_date=i.due_date, amount=i.amount)
                            for i in terms.schedule)


def terms_summary(plan: Plan) -> dict:
    return {"kind": plan.kind, "count": plan.instalment_count, "frequency": plan.frequency,
            "first_date": plan.first_date, "down_payment": plan.down_payment,
            "total": plan.total, "fees_waived": plan.fees_waived, "discount": plan.discount}


def submit(account: Account, spec: PlanSpec, consent: Consent, *, source: str, today: date,
           statement=None) -> Plan:
    """Record a cardholder's accepted terms: active at once inside the auto-approval envelope,
    in review when within policy but outside it. Raises PlanError('refused' with the decision,
    'terms_changed' when the hash of the terms shown differs, 'already_active',
    'proposal_pending', 'plan_changed' when the open proposal it would supersede was decided
    meanwhile). Submissions on one account run one at a time (`lock_account_plans`), so two
    tabs cannot both leave a proposal in review. The terms are priced from the balance read
    under the account's money lock (`lock_loaded_account`, as postings take it): a payment
    posting at the same moment either lands first, and the terms shown no longer match
    ('terms_changed'), or waits and is applied to the plan; never neither."""
    lock_account_plans(account)
    lock_loaded_account(account)
    decision, policy = evaluate(account, spec, today)
    if decision.outcome == "refused":
        raise PlanError("refused", decision)
    ctx = context_for(account, policy.version, policy.limits.grace_days)
    if agreement.terms_hash(decision.terms, ctx, consent.locale) != consent.terms_hash:
        raise PlanError("terms_changed", decision)
    if active_plan(account) is not None:
        raise PlanError("already_active")
    pending = open_proposal(account)
    if decision.outcome == "review" and pending is not None:
        raise PlanError("proposal_pending")
    if pending is not None:  # superseded below: lock it first, as a reviewer's decision does
        seen = pending.status
        if lock_plan(pending).status != seen:
            raise PlanError("plan_changed")
    plan = Plan(account=account, status=PlanStatus.PROPOSED, source=source,
                policy_profile=account.policy_profile, policy_version=policy.version,
                stage=policy.stage, grace_days=policy.limits.grace_days,
                required_role=required_role(decision.terms, policy),
                review_reasons=[{"code": r.code, "params": {k: str(v) for k, v in r.params.items()}}
                                for r in decision.review_reasons] or None)
    set_terms(plan, decision.terms)
    record_consent(plan, consent)
    db.session.add(plan)
    db.session.flush()
    statement = statement or latest_statement(account)  # a statement left without a plan
    if statement is not None:
        statement.plan_id = plan.id

    record("plan.proposed", subject=plan, after={**terms_summary(plan), "source": source,
                                                 "terms_hash": consent.terms_hash})
    if decision.outcome == "auto":
        if pending is not None:
            set_status(pending, PlanStatus.CANCELLED, "plan.superseded", by_plan=plan.id)
        activate(plan, today, "plan.auto_approved")
    else:
        set_status(plan, PlanStatus.IN_REVIEW, "plan.sent_for_review",
                   required_role=plan.required_role)
    return plan


def record_consent(plan: Plan, consent: Consent) -> None:
    """Store what the cardholder agreed to (the terms' text and hash) and when, where and how."""
    plan.terms_hash, plan.terms_locale = consent.terms_hash, consent.locale
    plan.terms_text = agreement.terms_text(
        terms_of(plan), context_for(plan.account, plan.policy_version, plan.grace_days),
        consent.locale)
    plan.accepted_at, plan.accepted_ip = consent.at, consent.ip
    plan.accepted_user_agent = (consent.user_agent or "")[:500]


def required_role(terms: Terms, policy: PlanPolicy) -> str:
    """'collector' when within a collector's authority, else 'collections_manager'."""
    authority = policy.authority
    limit = authority.max_concession.get(terms.currency, 0)
    if terms.concession <= limit and len(terms.schedule) <= authority.max_instalments:
        return "collector"
    return "collections_manager"


def may_decide(staff, role_needed: str) -> bool:
    """Whether `staff` may decide a plan that needs `role_needed` (a manager may decide all)."""
    if staff.has_role("collections_manager"):
        return True
    return role_needed == "collector" and staff.has_role("collector")


def may_decide_plan(staff, plan: Plan) -> bool:
    """The one authority rule for a proposal in review: approving, rejecting and counter-offering
    are all deciding it, so all need the role it was sent to review for (a manager's when
    unknown). The review page asks this too, so it never offers what the server refuses."""
    return may_decide(staff, plan.required_role or "collections_manager")


# Review reasons are stored as JSON text; these parameters are dates and amounts again.
_DATE_PARAMS = frozenset({"latest", "until"})
_MONEY_REASONS = frozenset({"instalment_too_small", "down_payment_too_small", "total_too_large"})


def stored_reasons(plan: Plan) -> list[Reason]:
    """Why the plan went to review, with each parameter typed as when it was decided."""
    reasons = []
    for stored in plan.review_reasons or []:
        params = dict(stored.get("params") or {})
        for key, value in params.items():
            if key in _DATE_PARAMS:
                params[key] = date.fromisoformat(value)
            elif stored["code"] in _MONEY_REASONS:
                params[key] = int(value)
        reasons.append(Reason(stored["code"], params))
    return reasons


def activate(plan: Plan, today: date, action: str) -> None:
    """Make an agreed plan the account's active one from `today` (PlanError('already_active')
    if it has one), post any up-front interest and tell the cardholder."""
    if active_plan(plan.account) is not None:
        raise PlanError("already_active")
    plan.started_on = today
    # The interest's entry before the audit event (docs/money.md, "Lock order"): its foreign-key
    # check waits for a nightly claim of the account, which then appends to its audit stream.
    set_status(plan, PlanStatus.ACTIVE, action, started_on=today, total=plan.total,
               before_audit=lambda: _post_interest(plan, today))
    notify(plan, "plan_confirmation")


def _post_interest(plan: Plan, today: date) -> None:
    if plan.interest_added:
        db.session.add(LedgerEntry(
            account_id=plan.account_id, kind=EntryKind.INTEREST, component=Component.INTEREST,
            amount=plan.interest_added, currency=plan.currency, effective_date=today,
            source_ref=f"plan:{plan.id}:interest"))
        db.session.flush()
