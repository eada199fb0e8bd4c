"""What payments ask of instalment plans: queries only. What plans do when a payment is
posted or reversed travels as events (`portal.events.payment_posted`, `payment_reversed`)."""
from __future__ import annotations

from portal.plans.services import active_plan, next_instalment
from portal.plans.services import next_instalments_for as next_instalments

__all__ = ["active_plan", "instalment_due", "next_instalment", "next_instalments"]


def instalment_due(instalment) -> int:
    return max(0, int(instalment.amount) - int(instalment.paid_amount or 0))
