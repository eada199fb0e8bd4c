"""Provider events: verified, recorded once (unique event id), applied idempotently in any order.

`receive` never parses an unverified payload. The caller commits; if anything fails (the database
included) the transaction rolls back, the event id is not kept, and the provider's retry is
processed as new.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.core.inputs import parse_id
from portal.payments.gateway import BadSignature, get_gateway, intent_from_object
from portal.payments.models import Payment, ReversalKind, WebhookEvent
from portal.payments.posting import lock_payment, post_reversal
from portal.payments.services import apply_intent

INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed",
                 "payment_intent.processing", "payment_intent.canceled",
                 "payment_intent.requires_action"}


class MalformedEvent(BadSignature):
    """A verified body that is not an event we can record (no id, not an object): refused
    like a bad signature, with a 400, rather than failing on the way to the database."""


def _is_text(value, most: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= most and "\x00" not in value


def check_shape(event) -> dict:
    """`event` if it has what `handle_event` records (MalformedEvent otherwise)."""
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(event, dict) or not _is_text(event.get("id"), 128) \
            or not isinstance(data or {}, dict) or not isinstance(obj or {}, dict) \
            or (obj and obj.get("id") is not None and not _is_text(obj.get("id"), 128)):
        raise MalformedEvent("not an event")
    return event


def receive(payload: bytes, signature: str | None) -> str:
    """Verify (raises BadSignature, or MalformedEvent for a body that is not an event), record
    and handle one event; returns what happened."""
    event = check_shape(get_gateway().construct_event(payload, signature))
    return handle_event(event)


def handle_event(event: dict, provider: str | None = None) -> str:
    """Record a verified event under its unique id and apply it. Returns "duplicate" for an
    event seen before, "ignored" for one about nothing we know, else "processed"."""
    obj = (event.get("data") or {}).get("object") or {}
    row = WebhookEvent(provider=provider or get_gateway().name, event_id=str(event["id"]),
                       type=str(event.get("type"))[:64], object_ref=obj.get("id"))
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return "duplicate"
    handler = _HANDLERS.get(event.get("type"))
    if handler is None:
        return "ignored"
    return "processed" if handler(obj, _event_time(event)) else "ignored"


def _event_time(event: dict) -> datetime | None:
    """When the provider says the event happened (Stripe's `created`, Unix seconds)."""
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, (int, float)) or created <= 0:
        return None
    return datetime.fromtimestamp(int(created), timezone.utc)


def _payment_for(intent_ref: str | None, metadata: dict | None = None) -> Payment | None:
    payment_id = parse_id((metadata or {}).get("payment_id"))
    if payment_id:
        payment = db.session.get(Payment, payment_id)
        if payment is not None and payment.provider_ref in (None, intent_ref):
            return payment
    if intent_ref:
        return db.session.scalar(select(Payment).where(Payment.provider_ref == intent_ref))
    return None


def _on_intent(obj: dict, created: datetime | None = None) -> bool:
    intent = replace(intent_from_object(obj), succeeded_at=created)
    payment = _payment_for(intent.ref, intent.metadata)
    if payment is None:
        return False
    apply_intent(payment, intent)
    return True


def _refunds_of(obj: dict, payment: Payment) -> list[tuple[str, int]]:
    """(refund id, amount) of every refund on the charge: from the event's refunds list, or
    from the provider when the event does not carry the whole list."""
    listed = obj.get("refunds")
    data = listed.get("data") if isinstance(listed, dict) else None
    if data is None or listed.get("has_more"):
        data = get_gateway().list_refunds(payment.provider_ref)
    return [(str(r["id"]), int(r["amount"])) for r in data
            if r.get("id") and r.get("amount") and r.get("status") not in ("failed", "canceled")]


def _on_charge_refunded(obj: dict, created: datetime | None = None) -> bool:
    """Post each of the charge's refunds not yet posted, under its own refund id (the same
    reference a staff refund is posted under), so no refund is ever posted twice."""
    payment = _payment_for(obj.get("payment_intent"), obj.get("metadata"))
    if payment is None:
        return False
    payment = lock_payment(payment.id)
    for refund_id, amount in _refunds_of(obj, payment):
        post_reversal(payment, amount, kind=ReversalKind.REFUND, external_ref=refund_id,
                      reason="refunded at the provider")
    return True


def _on_dispute(obj: dict, created: datetime | None = None) -> bool:
    payment = _payment_for(obj.get("payment_intent"), obj.get("metadata"))
    if payment is None:
        return False
    payment = lock_payment(payment.id)
    post_reversal(payment, int(obj.get("amount") or payment.amount), kind=ReversalKind.CHARGEBACK,
                  external_ref=f"dispute:{obj.get('id')}",
                  reason=f"chargeback: {obj.get('reason') or 'unspecified'}")
    return True


_HANDLERS = {**{name: _on_intent for name in INTENT_EVENTS},
             "charge.refunded": _on_charge_refunded,
             "charge.dispute.created": _on_dispute}
