"""What plans do when another feature's fact happens; `portal.wiring` connects these to the
events in `portal.events`. They run in the emitter's transaction: add and flush, never commit."""
from __future__ import annotations

from sqlalchemy import bindparam, exists, select

from portal.accounts.models import Account
from portal.balances.services import today_for
from portal.events import CreditPosted, PaymentPosted, PaymentReversed
from portal.extensions import db
from portal.plans import endings, services
from portal.plans.models import Plan, PlanStatus
from portal.policy.rules import PolicyError

# Plans whose terms are promised or about to be: a new policy version must not break them.
_PROMISED = (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW, PlanStatus.COUNTERED)


def on_payment_posted(event: PaymentPosted) -> list[list[int]]:
    """Apply the payment to the active plan's instalments, oldest first, or paying ahead
    (last instalments first beyond what is due) for an extra payment; the plan completes
    when all are paid. Returns what was applied, [[instalment_id, amount]], which payments
    keeps so that a reversal can unwind exactly that; [] without an active plan."""
    if services.active_plan(event.account) is None:
        return []
    applied = services.apply_payment(event.account, event.amount, event.paid_on,
                                    ahead=event.ahead, payment_id=event.payment_id)
    plan = services.active_plan(event.account)
    if plan is not None:  # instalments left, but the payment may have cleared what is owed
        endings.complete_if_nothing_owed(plan, today_for(event.account))
    return [[int(i), int(a)] for i, a in applied]


def posting_needs_plan():
    """SQL for the fast posting path (binds :account_id): the account has an active plan, so
    `on_payment_posted` has work to do and the posting takes the general path."""
    return exists().where(Plan.account_id == bindparam("account_id"),
                          Plan.status == PlanStatus.ACTIVE)


def on_payment_reversed(event: PaymentReversed) -> None:
    """Reopen what the reversed part of the payment had paid on the plan's instalments."""
    if event.plan_reversal:
        services.reverse_payment(event.account, [(int(i), int(a)) for i, a in event.plan_reversal])


def on_credit_posted(event: CreditPosted) -> None:
    """An upheld dispute's credit lowers what the active plan still asks by the same amount
    (its last instalments first); the plan completes when the credit covers all of it. The
    plan's own waivers (posted when it completes) are what it already promised: ignored."""
    if event.source == "dispute":
        services.apply_credit(event.account, event.amount, event.value_date,
                              entry_id=event.entry_id)


def frozen_plans_keep_their_terms(profile: str, document: dict) -> list[PolicyError]:
    """Publishing guard: plans that promised frozen interest rely on penalty interest stopping
    while escalation is paused; a version of their profile that lets it run is refused while
    any such plan is in force or under review."""
    interest = document.get("penalty_interest")
    if not isinstance(interest, dict) or interest.get("freeze_while_paused", True):
        return []
    promised = db.session.scalar(select(Plan.id).join(Account, Account.id == Plan.account_id)
                                 .where(Account.policy_profile == profile,
                                        Plan.status.in_(_PROMISED),
                                        Plan.interest_mode == "frozen").limit(1))
    return [PolicyError("frozen_plans_in_force", "penalty_interest.freeze_while_paused")] \
        if promised else []
