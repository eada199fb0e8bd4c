"""What plans do when another feature's fact happens; `portal.wiring` connects these to the
events in `portal.events`. They run in the emitter's transaction: add and flush, never commit."""
from __future__ import annotations

from portal.events import PaymentPosted, PaymentReversed
from portal.plans import services


def on_payment_posted(event: PaymentPosted) -> list[list[int]]:
    """Apply the payment to the active plan's instalments, oldest first (the plan completes
    when all are paid). Returns what was applied, [[instalment_id, amount]], which payments
    keeps so that a reversal can unwind exactly that; [] without an active plan."""
    if services.active_plan(event.account) is None:
        return []
    applied = services.apply_payment(event.account, event.amount, event.paid_on)
    return [[int(i), int(a)] for i, a in applied]


def on_payment_reversed(event: PaymentReversed) -> None:
    """Reopen what the reversed part of the payment had paid on the plan's instalments."""
    if event.plan_reversal:
        services.reverse_payment(event.account, [(int(i), int(a)) for i, a in event.plan_reversal])
