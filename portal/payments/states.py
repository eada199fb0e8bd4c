"""Payment states and the transitions between them (the provider's word decides)."""
from __future__ import annotations

import enum

from portal.domain.statemachine import StateMachine


class PaymentStatus(enum.StrEnum):
    CREATED = "created"  # our row exists; the provider may not know it yet
    REQUIRES_ACTION = "requires_action"  # the cardholder must authenticate
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"  # the provider said so AND the ledger entries are posted
    FAILED = "failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"  # wholly reversed (refund or chargeback)


S = PaymentStatus
OPEN_STATES = (S.CREATED, S.REQUIRES_ACTION, S.PROCESSING)
# What may still take the cardholder's money: the open payments, and the declined ones, since the
# cardholder (another tab, the bank's app after 3-D Secure) may confirm the same intent again
# with another card. Counted as in flight wherever one amount owed must be paid once.
MAY_TAKE_MONEY = (*OPEN_STATES, S.FAILED)

# A failed intent can still be retried by the cardholder on the same intent (Stripe keeps it in
# requires_payment_method), so FAILED is not terminal while the provider may still succeed.
PAYMENT_MACHINE = StateMachine("payment", {
    S.CREATED: {S.REQUIRES_ACTION, S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CANCELED},
    S.REQUIRES_ACTION: {S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CANCELED},
    S.PROCESSING: {S.SUCCEEDED, S.FAILED, S.CANCELED},
    S.FAILED: {S.REQUIRES_ACTION, S.PROCESSING, S.SUCCEEDED, S.CANCELED},
    S.SUCCEEDED: {S.REFUNDED},
    # A chargeback the issuer won: the money is back and the payment stands again.
    S.REFUNDED: {S.SUCCEEDED},
    # Money the provider took after we gave up on the payment must still be posted.
    S.CANCELED: {S.SUCCEEDED},
})
