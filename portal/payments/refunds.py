"""Refunds asked for by a collections manager: the provider first, then the reversal entries."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.services import record
from portal.extensions import db
from portal.payments.gateway import get_gateway
from portal.payments.models import Payment, ReversalKind
from portal.payments.posting import lock_payment, post_reversal
from portal.payments.states import PaymentStatus


class RefundRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def request_key(payment: Payment) -> str:
    """The key a refund form carries: the same until a refund of this payment is made."""
    return str(payment.refund_seq)


def refund(payment: Payment, amount: int, reason: str, staff, request_key: str):
    """Refund up to what is left of a posted payment, once per refund intent.

    The provider's idempotency key is built from the payment, its count of refunds made so far
    and the amount, and stays the same until this refund is known to be made: a retry after a
    time-out (ProviderUnavailable, result unknown) gets the provider's same refund back, never a
    second one. The reversal is posted under the provider's refund id, the same reference the
    charge.refunded webhook uses, so it is posted once whichever arrives first. A form opened
    before the last refund was made is refused. Raises RefundRefused, ProviderUnavailable,
    ProviderRefused."""
    payment = lock_payment(payment.id)
    if request_key != str(payment.refund_seq):
        raise RefundRefused(_l("A refund of this payment was made after this page was opened. "
                               "Please check the payment before refunding again."))
    if payment.status != PaymentStatus.SUCCEEDED:
        raise RefundRefused(_l("Only a posted payment that is not fully refunded can be refunded."))
    if not 0 < amount <= payment.amount - payment.refunded_amount:
        raise RefundRefused(_l("The refund must be more than zero and at most what is left of "
                               "the payment."))
    refund_id = get_gateway().refund(intent_ref=payment.provider_ref, amount=amount,
                                     key=f"refund:{payment.id}:{payment.refund_seq}:{amount}")
    reversal = post_reversal(payment, amount, kind=ReversalKind.REFUND, external_ref=refund_id,
                             reason=reason, staff_id=staff.id)
    payment.refund_seq += 1
    if reversal is None:  # the provider's webhook posted this refund first
        record("payment.refund_confirmed", subject=payment, actor=("staff", staff.id),
               after={"refund_id": refund_id, "amount": amount, "refund_seq": payment.refund_seq})
    db.session.flush()
    return reversal
