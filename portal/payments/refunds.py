"""Refunds asked for by a collections manager: the provider first, then the reversal entries."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.payments.gateway import get_gateway
from portal.payments.models import Payment, ReversalKind
from portal.payments.posting import lock_payment, post_reversal
from portal.payments.states import PaymentStatus


class RefundRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def refund(payment: Payment, amount: int, reason: str, staff, request_key: str):
    """Refund up to what is left of a posted payment. The provider is asked with `request_key` as
    the idempotency key, so a repeated request refunds once; the reversal is posted with the
    provider's refund id. Raises RefundRefused, ProviderUnavailable, ProviderRefused."""
    payment = lock_payment(payment.id)
    if payment.status != PaymentStatus.SUCCEEDED:
        raise RefundRefused(_l("Only a posted payment that is not fully refunded can be refunded."))
    if not 0 < amount <= payment.amount - payment.refunded_amount:
        raise RefundRefused(_l("The refund must be more than zero and at most what is left of "
                               "the payment."))
    refund_id = get_gateway().refund(intent_ref=payment.provider_ref, amount=amount,
                                     key=f"refund:{payment.id}:{request_key}")
    return post_reversal(payment, amount, kind=ReversalKind.REFUND, external_ref=refund_id,
                         reason=reason, staff_id=staff.id)
