"""Making, deciding and ending plans. Every change goes through the transition table and is
audited; services add and flush, the route or job commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select

from portal.accounts.models import Account, Component, EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.domain.schedule import Instalment
from portal.extensions import db
from portal.outbox.models import MessageKind
from portal.outbox.services import queue_to_cardholder
from portal.plans import agreement
from portal.plans.models import Plan, PlanInstalment, PlanStatus
from portal.plans.offers import Decision, PlanSpec, Terms, decide
from portal.plans.rules import PlanPolicy
from portal.plans.unearned import reverse_unearned_interest
from portal.plans.services import (
    active_plan, history_for, latest_statement, lock_plan, open_proposal, owed_for, plan_policy,
    set_status,
)
from portal.timeutil import utcnow


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


def evaluate(account: Account, spec: PlanSpec, today: date) -> tuple[Decision, PlanPolicy]:
    policy = plan_policy(account, today)
    return decide(spec, owed_for(account, today), policy, today, history_for(account, today)), policy


def terms_of(plan: Plan) -> Terms:
    """The plan's terms as stored (schedule from its instalment rows)."""
    spec = PlanSpec(plan.kind, plan.instalment_count, plan.frequency, plan.first_date,
                    plan.down_payment, plan.fees_waived > 0, Decimal(plan.discount_percent),
                    plan.interest_mode,
                    Decimal(plan.interest_rate_percent) if plan.interest_rate_percent else None)
    schedule = tuple(Instalment(i.seq, i.due_date, i.amount) for i in plan.instalments)
    return Terms(spec, plan.currency, plan.balance_at_start, plan.fees_waived, plan.discount,
                 plan.interest_added, plan.total, schedule)


def plan_hash(plan: Plan, locale: str) -> str:
    ctx = context_for(plan.account, plan.policy_version, plan.grace_days)
    return agreement.terms_hash(terms_of(plan), ctx, locale)


def _set_terms(plan: Plan, terms: Terms) -> None:
    spec = terms.spec
    plan.kind, plan.instalment_count, plan.frequency = spec.kind, len(terms.schedule), spec.frequency
    plan.first_date, plan.down_payment = spec.first_date, spec.down_payment
    plan.balance_at_start, plan.fees_waived, plan.discount = terms.balance, terms.fees_waived, terms.discount
    plan.discount_percent = str(spec.discount_percent)
    plan.interest_mode = spec.interest
    plan.interest_rate_percent = None if spec.interest_rate_percent is None else str(spec.interest_rate_percent)
    plan.interest_added, plan.total, plan.currency = terms.interest_added, terms.total, terms.currency
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
    'proposal_pending')."""
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
    plan = Plan(account=account, status=PlanStatus.PROPOSED, source=source,
                policy_profile=account.policy_profile, policy_version=policy.version,
                stage=policy.stage, grace_days=policy.limits.grace_days,
                required_role=required_role(decision.terms, policy),
                review_reasons=[{"code": r.code, "params": {k: str(v) for k, v in r.params.items()}}
                                for r in decision.review_reasons] or None)
    _set_terms(plan, decision.terms)
    _record_consent(plan, consent)
    db.session.add(plan)
    db.session.flush()
    statement = statement or latest_statement(account)  # a statement left without a plan
    if statement is not None:
        statement.plan_id = plan.id
    from portal.audit.services import record

    record("plan.proposed", subject=plan, after={**terms_summary(plan), "source": source,
                                                 "terms_hash": consent.terms_hash})
    if decision.outcome == "auto":
        if pending is not None:
            set_status(pending, PlanStatus.CANCELLED, "plan.superseded", by_plan=plan.id)
        _activate(plan, today, "plan.auto_approved")
    else:
        set_status(plan, PlanStatus.IN_REVIEW, "plan.sent_for_review",
                   required_role=plan.required_role)
    return plan


def _record_consent(plan: Plan, consent: Consent) -> None:
    plan.terms_hash, plan.terms_locale = consent.terms_hash, consent.locale
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
    if staff.has_role("collections_manager"):
        return True
    return role_needed == "collector" and staff.has_role("collector")


def _activate(plan: Plan, today: date, action: str) -> None:
    if active_plan(plan.account) is not None:
        raise PlanError("already_active")
    plan.started_on = today
    set_status(plan, PlanStatus.ACTIVE, action, started_on=today, total=plan.total)
    if plan.interest_added:
        db.session.add(LedgerEntry(
            account_id=plan.account_id, kind=EntryKind.INTEREST, component=Component.INTEREST,
            amount=plan.interest_added, currency=plan.currency, effective_date=today,
            source_ref=f"plan:{plan.id}:interest"))
        db.session.flush()
    notify(plan, "plan_confirmation")


def approve(plan: Plan, staff, today: date) -> None:
    """A collector or manager approves a proposal in review, within their authority."""
    lock_plan(plan)
    if plan.status != PlanStatus.IN_REVIEW:
        raise PlanError("not_in_review")
    if not may_decide(staff, plan.required_role or "collections_manager"):
        raise PlanError("beyond_authority")
    if plan.first_date < today:
        raise PlanError("first_date_passed")
    plan.decided_by_id, plan.decided_at = staff.id, utcnow()
    _activate(plan, today, "plan.approved")


def counter(plan: Plan, staff, spec: PlanSpec, today: date, reason: str) -> None:
    """Offer different terms, within policy and the staff member's authority; the
    cardholder then accepts or declines them."""
    lock_plan(plan)
    if plan.status != PlanStatus.IN_REVIEW:
        raise PlanError("not_in_review")
    account = plan.account
    policy = plan_policy(account, today)
    decision = decide(spec, owed_for(account, today), policy, today)
    if decision.outcome == "refused":
        raise PlanError("refused", decision)
    role = required_role(decision.terms, policy)
    if not may_decide(staff, role) or not may_decide(staff, plan.required_role or role):
        raise PlanError("beyond_authority", decision)
    plan.proposed_terms = {k: str(v) for k, v in terms_summary(plan).items()}
    _set_terms(plan, decision.terms)
    plan.policy_version, plan.stage, plan.grace_days = (policy.version, policy.stage,
                                                        policy.limits.grace_days)
    plan.required_role, plan.decision_reason = role, reason
    plan.decided_by_id, plan.decided_at = staff.id, utcnow()
    plan.terms_hash = None
    set_status(plan, PlanStatus.COUNTERED, "plan.countered", terms=terms_summary(plan),
               reason=reason)
    notify(plan, "plan_countered")


def reject(plan: Plan, staff, reason: str) -> None:
    lock_plan(plan)
    if plan.status != PlanStatus.IN_REVIEW:
        raise PlanError("not_in_review")
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
    _record_consent(plan, consent)
    _activate(plan, today, "plan.counter_accepted")


def cancel(plan: Plan, today: date, action: str = "plan.cancelled") -> None:
    """Cancel a proposal, a counter-offer or an active plan; escalation resumes for an
    active one. What was paid stays paid; up-front interest not yet earned is reversed.
    Raises PlanError('plan_changed') if the plan moved on since the caller looked at it
    (e.g. a reviewer approved the proposal being cancelled)."""
    seen = plan.status
    if lock_plan(plan).status != seen:
        raise PlanError("plan_changed")
    plan.cancelled_on = today
    set_status(plan, PlanStatus.CANCELLED, action, cancelled_on=today)
    reverse_unearned_interest(plan, today)


def break_plan(plan: Plan, today: date) -> None:
    """End a plan that was not kept; up-front interest not yet earned is reversed."""
    if lock_plan(plan).status != PlanStatus.ACTIVE:
        raise PlanError("plan_changed")
    plan.broken_on = today
    set_status(plan, PlanStatus.BROKEN, "plan.broken", broken_on=today)
    reverse_unearned_interest(plan, today)
    notify(plan, "plan_broken")


def _waiver_round(plan: Plan) -> int:
    prefix = f"plan:{plan.id}:waiver:"
    return (db.session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.account_id == plan.account_id, LedgerEntry.source_ref.like(prefix + "%"),
        LedgerEntry.kind == EntryKind.WAIVER)) or 0) + 1


def complete(plan: Plan, today: date) -> None:
    """All paid: the plan completes and its concessions are posted as waivers (fees, then
    interest, then principal), never more than is still owed."""
    plan.completed_on = today
    set_status(plan, PlanStatus.COMPLETED, "plan.completed", completed_on=today)
    balance = balance_of(plan.account, today)
    left = min(plan.concession, int(balance.total))
    n = _waiver_round(plan)
    for component, owed in ((Component.FEE, balance.fees), (Component.INTEREST, balance.interest),
                            (Component.PRINCIPAL, balance.principal)):
        amount = min(left, max(int(owed), 0))
        if amount > 0:
            db.session.add(LedgerEntry(
                account_id=plan.account_id, kind=EntryKind.WAIVER, component=component,
                amount=-amount, currency=plan.currency, effective_date=today,
                source_ref=f"plan:{plan.id}:waiver:{n}:{component.value}"))
            left -= amount
    db.session.flush()
    notify(plan, "plan_completed")


def reopen(plan: Plan, today: date) -> None:
    """A completed plan is active again after a reversal; its waivers are reversed."""
    waivers = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == plan.account_id, LedgerEntry.kind == EntryKind.WAIVER,
        LedgerEntry.source_ref.like(f"plan:{plan.id}:waiver:%"))).all()
    reversed_ids = set(db.session.scalars(select(LedgerEntry.reversal_of_id).where(
        LedgerEntry.account_id == plan.account_id, LedgerEntry.reversal_of_id.is_not(None))))
    for entry in waivers:
        if entry.id not in reversed_ids:
            db.session.add(LedgerEntry(
                account_id=entry.account_id, kind=EntryKind.REVERSAL, component=entry.component,
                amount=-entry.amount, currency=entry.currency, effective_date=today,
                source_ref=f"plan:{plan.id}:waiver-reversal:{entry.id}", reversal_of_id=entry.id))
    plan.completed_on = None
    set_status(plan, PlanStatus.ACTIVE, "plan.reopened")


MESSAGES = {
    "plan_confirmation": lambda: (_("Your repayment plan is agreed"), _(
        "Your repayment plan is agreed. You can see the schedule and download the agreement "
        "in the portal.")),
    "plan_countered": lambda: (_("We have replied to your plan proposal"), _(
        "We could not accept your plan as proposed and have offered different terms. Please "
        "look at them in the portal and accept or decline them.")),
    "plan_rejected": lambda: (_("Your plan proposal"), _(
        "We could not accept your plan proposal. The reason is shown in the portal.")),
    "plan_broken": lambda: (_("Your repayment plan has ended"), _(
        "A payment under your repayment plan is still unpaid after the grace period, so the "
        "plan has ended. Please sign in to see what happens next and your options.")),
    "plan_completed": lambda: (_("Your repayment plan is complete"), _(
        "Thank you: every payment under your repayment plan has been made.")),
}


# Contact rules per message (portal/contact): a broken plan is a collection message; replies
# to a proposal and the completion note are service messages; the confirmation answers the
# cardholder's own acceptance (or a reviewer's approval of their proposal) and goes at once.
KINDS = {"plan_broken": MessageKind.COLLECTION, "plan_countered": MessageKind.SERVICE,
         "plan_rejected": MessageKind.SERVICE, "plan_completed": MessageKind.SERVICE}


def notify(plan: Plan, purpose: str) -> None:
    holder = plan.account.cardholder
    with force_locale(holder.locale or "en"):
        subject, body = MESSAGES[purpose]()
    kind = KINDS.get(purpose, MessageKind.TRANSACTIONAL)
    queue_to_cardholder(holder, subject, body, purpose=purpose, kind=kind,
                        account_id=plan.account_id)
