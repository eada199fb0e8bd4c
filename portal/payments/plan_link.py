"""What payments ask of instalment plans: queries only. What plans do when a payment is
posted or reversed travels as events (`portal.events.payment_posted`, `payment_reversed`)."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import Plan, PlanInstalment
from portal.plans.services import active_plan, next_instalment
from portal.plans.services import next_instalments_for as next_instalments

__all__ = ["active_plan", "instalment_due", "instalment_positions", "next_instalment",
           "next_instalments"]


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
