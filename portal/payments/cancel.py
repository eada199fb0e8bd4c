"""Cancelling a payment that has not taken money: the cardholder's choice, or reconciliation
giving up on one left unfinished."""
from __future__ import annotations

from portal.audit.services import record
from portal.extensions import db
from portal.payments.gateway import ProviderRefused, get_gateway
from portal.payments.models import Payment
from portal.payments.posting import lock_payment
from portal.payments.services import apply_intent
from portal.payments.states import OPEN_STATES, PAYMENT_MACHINE, PaymentStatus as S


def cancel_open_payment(payment: Payment, *, actor: tuple[str, str] | None = None,
                        event: str | None = None) -> bool:
    """Cancel a payment that has not taken money: at the provider first, so that no old tab
    can complete it later, then here. If the provider says it succeeded meanwhile it is posted
    instead. Returns whether it is now cancelled. Raises ProviderUnavailable (nothing changed).
    `event` names the audit event (default: the cardholder cancelled, or, with an `actor`,
    the system abandoned it)."""
    payment = lock_payment(payment.id)
    if payment.status not in (*OPEN_STATES, S.FAILED):
        return payment.status == S.CANCELED
    before = payment.status.value
    gateway, intent = get_gateway(), None
    if payment.provider_ref:
        try:
            intent = gateway.cancel_payment_intent(payment.provider_ref)
        except ProviderRefused:  # succeeded, processing or already cancelled: ask what it is
            try:
                intent = gateway.retrieve_payment_intent(payment.provider_ref)
            except ProviderRefused:  # the provider does not know it
                intent = None
    if intent is not None:
        apply_intent(payment, intent)
    elif payment.status in (*OPEN_STATES, S.FAILED):
        payment.status = PAYMENT_MACHINE.check(payment.status, S.CANCELED)
    if payment.status != S.CANCELED:
        return False
    record(event or ("payment.abandoned" if actor else "payment.cancelled"), subject=payment,
           before={"status": before},
           after={"status": "canceled", "canceled_at_provider": intent is not None},
           **({"actor": actor} if actor else {}))
    db.session.flush()
    return True
