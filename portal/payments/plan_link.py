"""What payments ask of instalment plans: queries only. What plans do when a payment is
posted or reversed travels as events (`portal.events.payment_posted`, `payment_reversed`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.domain.allocation import allocate_ahead, due_now, schedule_after
from portal.extensions import db
from portal.plans.models import Plan, PlanInstalment
from portal.plans.services import active_plan, next_instalment, unpaid_instalments
from portal.plans.services import next_instalments_for as next_instalments

__all__ = ["PlanAhead", "active_plan", "due_now_for", "instalment_due", "instalment_positions",
           "next_instalment", "next_instalments", "plan_ahead"]


def instalment_due(instalment) -> int:
    return max(0, int(instalment.amount) - int(instalment.paid_amount or 0))


def instalment_positions(instalment_ids) -> dict[int, tuple[int, int]]:
    """For each instalment id, its place in its plan: (number, how many the plan has), so a
    receipt says "instalment 1 of 12" rather than a database id."""
    ids = [int(i) for i in instalment_ids]
    if not ids:
        return {}
    rows = db.session.execute(
        select(PlanInstalment.id, PlanInstalment.seq, Plan.instalment_count)
        .join(Plan, Plan.id == PlanInstalment.plan_id).where(PlanInstalment.id.in_(ids)))
    return {row.id: (row.seq, row.instalment_count) for row in rows}


def due_now_for(account, today: date) -> int:
    """What the active plan asks for on `today`: every instalment missed or falling due by
    then, else the next one (0 without an active plan). The "next instalment" choice pays it."""
    return _due_now(unpaid_instalments(account), today)


def _due_now(unpaid, today: date) -> int:
    return due_now([(i.due_date, instalment_due(i)) for i in unpaid], today)


@dataclass(frozen=True)
class PlanAhead:
    """The active plan as the pay page shows it: what is left (paying it off; plans have no
    early-payoff discount in policy, so none is given), what falls due now, and the unpaid
    instalments."""
    plan_id: int
    left: int
    due: int
    unpaid: list
    missed: bool = False  # an instalment's date has passed unpaid: "due now" includes it

    def payoff(self, owed: int) -> int:
        """What paying the plan off takes: what it has left, never more than the account
        owes (`owed`, the full balance) when the issuer lowered the balance below it."""
        return min(self.left, max(0, owed))

    def after(self, amount: int) -> list[tuple[PlanInstalment, int]]:
        """The schedule after an extra payment of `amount` ("another amount"): each unpaid
        instalment with what it would still owe, as `apply_payment(ahead=True)` applies it."""
        outstanding = [(i.seq, instalment_due(i)) for i in self.unpaid]
        applied, _rest = allocate_ahead(amount, outstanding, self.due)
        by_seq = {i.seq: i for i in self.unpaid}
        return [(by_seq[seq], still) for seq, still in schedule_after(outstanding, applied)]


def plan_ahead(account, today: date) -> PlanAhead | None:
    """The account's active plan for paying ahead, or None (no active plan, nothing left)."""
    plan = active_plan(account)
    unpaid = unpaid_instalments(account) if plan is not None else []
    left = sum(instalment_due(i) for i in unpaid)
    if not left:
        return None
    return PlanAhead(plan.id, left, _due_now(unpaid, today), unpaid,
                     missed=any(i.due_date < today for i in unpaid))
