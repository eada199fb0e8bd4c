"""The last check before the browser confirms a payment with Stripe's Payment Element.

The page was loaded with an amount; until the cardholder presses "Pay", the balance may have
changed (another payment posted, a dispute credit). Just before `stripe.confirmPayment` the
page asks here. The rule is the one the checkout page and the sandbox card form apply
(`services.more_than_owed`): if the payment would now pay more than is still owed, the intent's
amount is lowered at the provider to what is owed (or the payment cancelled when nothing is),
and the cardholder sees the new amount and confirms again before anything is charged.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from portal.audit.services import record
from portal.extensions import db
from portal.payments.cancel import cancel_open_payment
from portal.payments.gateway import ProviderRefused, get_gateway
from portal.payments.models import Payment
from portal.payments.posting import lock_payment
from portal.payments.services import lock_account_payments, more_than_owed, refresh
from portal.payments.states import PaymentStatus as S

CONFIRMABLE = (S.CREATED, S.FAILED)  # the intent waits for a payment method (again)


class Outcome(enum.StrEnum):
    UNCHANGED = "unchanged"  # confirm it as it stands
    CHANGED = "changed"  # the amount was lowered: show it and ask again
    CANCELLED = "cancelled"  # nothing is owed now: nothing will be charged
    CLOSED = "closed"  # no longer waiting to be confirmed (succeeded, cancelled...)


@dataclass(frozen=True)
class Recheck:
    outcome: Outcome
    amount: int  # what the payment is for now
    owed: int | None = None  # what is still owed, when the amount had to change


def recheck_before_confirm(payment: Payment) -> Recheck:
    """Hold `payment` to what is still owed before the browser confirms it (flushed, not
    committed). Raises ProviderUnavailable (nothing changed; the page must not confirm)."""
    lock_account_payments(payment.account)  # no other payment opens meanwhile
    payment = lock_payment(payment.id)
    if payment.status not in CONFIRMABLE or not payment.provider_ref:
        return Recheck(Outcome.CLOSED, payment.amount)
    owed = more_than_owed(payment)
    if owed is None:
        return Recheck(Outcome.UNCHANGED, payment.amount)
    if owed == 0:
        if cancel_open_payment(payment):
            return Recheck(Outcome.CANCELLED, payment.amount, owed)
        return Recheck(Outcome.CLOSED, payment.amount)
    try:
        get_gateway().change_payment_intent_amount(payment.provider_ref, owed)
    except ProviderRefused:  # it moved on at the provider meanwhile: follow it
        refresh(payment)
        return Recheck(Outcome.CLOSED, payment.amount)
    before, payment.amount = payment.amount, owed
    record("payment.amount_lowered", subject=payment, before={"amount": before},
           after={"amount": owed, "reason": "balance changed before confirmation"})
    db.session.flush()
    return Recheck(Outcome.CHANGED, owed, owed)
