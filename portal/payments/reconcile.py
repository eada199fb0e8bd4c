"""Reconciliation: ask the provider about payments left unfinished (a lost webhook, a crash
between the provider's success and our commit) and post or fail them, once."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.payments.gateway import ProviderRefused, ProviderUnavailable, get_gateway
from portal.payments.models import Payment
from portal.payments.posting import lock_payment
from portal.payments.cancel import cancel_open_payment
from portal.payments.services import apply_intent, metadata_for
from portal.payments.states import MAY_TAKE_MONEY as RETRYABLE_STATES, PaymentStatus
from portal.timeutil import as_aware, utcnow


def _stale_ids(cutoff) -> list[int]:
    """Payments that can still succeed at the provider and have not changed since `cutoff`:
    the open ones, and the declined ones too, since the cardholder may try again on the same
    intent (a success whose webhook is lost must still be posted). Both are given up on, and
    their intents cancelled, after PAYMENT_ABANDON_HOURS."""
    return list(db.session.scalars(select(Payment.id).where(
        Payment.status.in_(RETRYABLE_STATES), Payment.updated_at < cutoff).order_by(Payment.id)))


def reconcile(now=None, older_than_minutes: int | None = None) -> dict:
    """Settle every payment open for longer than the cut-off; commits one payment at a time.
    Returns counts by outcome. Running it twice (or on two workers) posts nothing twice: each
    payment is locked and posting is idempotent."""
    now = now or utcnow()
    minutes = (older_than_minutes if older_than_minutes is not None
               else current_app.config.get("PAYMENT_RECONCILE_MINUTES", 15))
    abandon = timedelta(hours=current_app.config.get("PAYMENT_ABANDON_HOURS", 24))
    counts = {"posted": 0, "failed": 0, "canceled": 0, "unchanged": 0, "unavailable": 0}
    gateway = get_gateway()
    for payment_id in _stale_ids(now - timedelta(minutes=minutes)):
        payment = lock_payment(payment_id)
        if payment.status not in RETRYABLE_STATES:
            db.session.commit()
            continue
        status_before = payment.status
        try:
            if payment.provider_ref:
                intent = gateway.retrieve_payment_intent(payment.provider_ref)
            else:
                intent = gateway.find_payment_intent(
                    amount=payment.amount, currency=payment.currency, key=payment.idempotency_key,
                    metadata=metadata_for(payment))
        except ProviderUnavailable:
            db.session.rollback()
            counts["unavailable"] += 1
            continue
        except ProviderRefused:
            intent = None
        if intent is not None:
            apply_intent(payment, intent)
        if payment.status in RETRYABLE_STATES and now - as_aware(payment.created_at) > abandon:
            try:
                cancel_open_payment(payment, actor=("system", "reconcile"))
            except ProviderUnavailable:
                db.session.rollback()
                counts["unavailable"] += 1
                continue
        outcome = "unchanged" if payment.status == status_before else {
            PaymentStatus.SUCCEEDED: "posted", PaymentStatus.FAILED: "failed",
            PaymentStatus.CANCELED: "canceled"}.get(payment.status, "unchanged")
        counts[outcome] += 1
        db.session.commit()
    return counts
