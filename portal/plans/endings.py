"""How a plan ends: cancelled, broken (not kept) or completed (kept), and a completed plan
reopened when a payment under it is reversed. Services add and flush; the caller commits."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.balances.services import balance_of
from portal.domain.allocation import allocate
from portal.events import CreditPosted, PlanBroken, credit_posted, emit, plan_broken
from portal.extensions import db
from portal.plans.lifecycle import PlanError
from portal.plans.models import Plan, PlanStatus
from portal.plans.notify import notify
from portal.plans.services import lock_plan, set_status
from portal.plans.unearned import reverse_unearned_interest

# Concessions are waived fees first, then interest, then principal.
WAIVER_ORDER = (Component.FEE.value, Component.INTEREST.value, Component.PRINCIPAL.value)


def cancel(plan: Plan, today: date, action: str = "plan.cancelled") -> None:
    """Cancel a proposal, a counter-offer or an active plan; escalation resumes for an
    active one. What was paid stays paid; up-front interest not yet earned is reversed.
    Raises PlanError('plan_changed') if the plan moved on since the caller looked at it
    (e.g. a reviewer approved the proposal being cancelled)."""
    seen = plan.status
    if lock_plan(plan).status != seen:
        raise PlanError("plan_changed")
    plan.cancelled_on = today
    # The reversal's entry before the audit event, as `complete` posts its waivers.
    set_status(plan, PlanStatus.CANCELLED, action, cancelled_on=today,
               before_audit=lambda: reverse_unearned_interest(plan, today))


def break_plan(plan: Plan, today: date) -> None:
    """End a plan that was not kept; up-front interest not yet earned is reversed."""
    if lock_plan(plan).status != PlanStatus.ACTIVE:
        raise PlanError("plan_changed")
    plan.broken_on = today
    set_status(plan, PlanStatus.BROKEN, "plan.broken", broken_on=today,
               before_audit=lambda: reverse_unearned_interest(plan, today))
    notify(plan, "plan_broken")
    emit(plan_broken, PlanBroken(plan.account, plan.id, today))


def waiver_split(concession: int, total: int, owed: Mapping[str, int]) -> dict[str, int]:
    """What to waive per component ("fee", "interest", "principal", in that order): at most
    `concession`, at most the `total` still owed, and never more than a component owes (a
    negative component, a credit, owes nothing). Pure."""
    cap = max(0, min(concession, total))
    split = allocate(cap, {c: max(0, int(owed.get(c, 0))) for c in WAIVER_ORDER}, WAIVER_ORDER)
    return {c: split[c] for c in WAIVER_ORDER}


def _waiver_round(plan: Plan) -> int:
    prefix = f"plan:{plan.id}:waiver:"
    return (db.session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.account_id == plan.account_id, LedgerEntry.source_ref.like(prefix + "%"),
        LedgerEntry.kind == EntryKind.WAIVER)) or 0) + 1


def complete(plan: Plan, today: date, *, nothing_owed: bool = False) -> None:
    """All paid: the plan completes and its concessions are posted as waivers (fees, then
    interest, then principal), never more than is still owed. `nothing_owed`: the account
    owes nothing any more although instalments are left (the issuer lowered the balance: a
    payment made at the bank, its own credit); the plan is kept, nothing more is asked."""
    plan.completed_on = today
    # The waivers are posted once the plan is completed (a correction replays the days without
    # its pause) and before its audit event: their foreign-key check waits for a nightly claim
    # of the account, which then appends to the account's audit stream.
    set_status(plan, PlanStatus.COMPLETED, "plan.completed", completed_on=today,
               before_audit=lambda: _post_waivers(plan, today),
               **({"nothing_owed": True} if nothing_owed else {}))
    notify(plan, "plan_completed")


def _post_waivers(plan: Plan, today: date) -> None:
    """A completed plan's concessions as waivers, then `credit_posted` (corrections)."""
    balance = balance_of(plan.account, today)
    split = waiver_split(plan.concession, int(balance.total),
                         {"fee": balance.fees, "interest": balance.interest,
                          "principal": balance.principal})
    n = _waiver_round(plan)
    waivers = []
    for component in (Component.FEE, Component.INTEREST, Component.PRINCIPAL):
        amount = split[component.value]
        if amount > 0:
            waivers.append(LedgerEntry(
                account_id=plan.account_id, kind=EntryKind.WAIVER, component=component,
                amount=-amount, currency=plan.currency, effective_date=today,
                source_ref=f"plan:{plan.id}:waiver:{n}:{component.value}"))
    db.session.add_all(waivers)
    db.session.flush()
    if waivers:  # a credit dated on a day the nightly run already charged: corrections
        emit(credit_posted, CreditPosted(plan.account, waivers[0].id,
                                         -sum(w.amount for w in waivers), today, "plan_waiver"))


def complete_if_nothing_owed(plan: Plan, today: date) -> bool:
    """Complete an active plan whose account owes nothing on `today` (see `complete`)."""
    if plan.status != PlanStatus.ACTIVE or balance_of(plan.account, today).total > 0:
        return False
    complete(plan, today, nothing_owed=True)
    return True


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
