"""The sandbox provider: behaves like Stripe's test cards, needs no network, emits Stripe-shaped
signed events that go through the same webhook and posting code.

Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined; 4000 0000 0000 9995 is
declined for insufficient funds; 4000 0000 0000 0341 is declined when charged; 4000 0027 6000 3184
asks for an authentication step that can be passed or failed. Other valid numbers succeed.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
import time

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.payments.gateway import BadSignature, Intent, ProviderRefused
from portal.payments.models import SandboxIntent
from portal.payments import signing
from portal.timeutil import as_aware, utcnow

SUCCEEDS = "4242424242424242"
DECLINES = {"4000000000000002": ("card_declined", "Your card was declined."),
            "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
            "4000000000000341": ("card_declined", "Your card was declined.")}
CHARGE_TIME_DECLINES = {"4000000000000341"}  # saves fine, declines when charged
AUTHENTICATES = {"4000002760003184", "4000002500003155"}
AUTH_FAILED = ("payment_intent_authentication_failure",
               "The provided payment method has failed authentication.")


def webhook_secret() -> str:
    configured = current_app.config.get("PAYMENT_SANDBOX_WEBHOOK_SECRET")
    if configured:
        return configured
    return _derived_secret(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=8)
def _derived_secret(secret_key: str) -> str:
    """The sandbox's webhook secret made from the app's key (once a key: every delivery
    checks its signature with it)."""
    return "whsec_sb_" + hmac.new(secret_key.encode(), b"sandbox-webhook",
                                  hashlib.sha256).hexdigest()[:32]


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _intent(row: SandboxIntent) -> Intent:
    return Intent(ref=row.id, status=row.status, amount=row.amount, currency=row.currency,
                  client_secret=row.client_secret, metadata=dict(row.metadata_json or {}),
                  failure_code=row.failure_code, failure_message=row.failure_message,
                  payment_method=row.payment_method,
                  card_last4=row.card_number[-4:] if row.card_number else None,
                  succeeded_at=as_aware(row.succeeded_at))


def event_for(row: SandboxIntent, kind: str) -> dict:
    """A Stripe-shaped event about a sandbox intent."""
    obj = {"id": row.id, "object": "payment_intent", "amount": row.amount,
           "currency": (row.currency or "").lower(), "status": row.status,
           "metadata": dict(row.metadata_json or {}), "payment_method": row.payment_method,
           "last_payment_error": ({"code": row.failure_code, "message": row.failure_message}
                                  if row.failure_code else None)}
    return {"id": "evt_sb_" + secrets.token_hex(12), "object": "event", "type": kind,
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}


def signed(event: dict) -> tuple[bytes, str]:
    payload = json.dumps(event, sort_keys=True).encode()
    return payload, signing.sign(payload, webhook_secret())


class SandboxGateway:
    """Same interface as StripeGateway; state lives in the sandbox_intent table."""

    name = "sandbox"
    publishable_key = None

    def _get(self, ref) -> SandboxIntent:
        row = db.session.get(SandboxIntent, ref)
        if row is None:
            raise ProviderRefused("resource_missing", f"No such intent: {ref}")
        return row

    def _by_key(self, key) -> SandboxIntent | None:
        return db.session.scalar(select(SandboxIntent).where(SandboxIntent.idempotency_key == key))

    def create_payment_intent(self, *, amount, currency, key, metadata, customer=None,
                              payment_method=None, off_session=False, wallets=()) -> Intent:
        existing = self._by_key(key)
        if existing is not None:  # like Stripe: the same key answers with the same intent
            return _intent(existing)
        row = SandboxIntent(id="pi_sb_" + secrets.token_hex(10), kind="payment",
                            idempotency_key=key, amount=amount, currency=currency,
                            status="requires_payment_method",
                            client_secret="sb_secret_" + secrets.token_hex(12),
                            metadata_json=dict(metadata), payment_method=payment_method)
        db.session.add(row)
        db.session.flush()
        if off_session:
            setup = db.session.scalar(select(SandboxIntent).where(
                SandboxIntent.kind == "setup", SandboxIntent.payment_method == payment_method))
            if setup is None:
                raise ProviderRefused("resource_missing", "No such payment method")
            self._charge(row, setup.card_number, off_session=True)
        return _intent(row)

    def find_payment_intent(self, *, key, **kwargs) -> Intent | None:
        row = self._by_key(key)
        return _intent(row) if row else None

    def retrieve_payment_intent(self, ref) -> Intent:
        return _intent(self._get(ref))

    def _unfinished(self, ref, what: str) -> SandboxIntent:
        row = self._get(ref)
        if row.status not in ("requires_payment_method", "requires_confirmation",
                              "requires_action"):
            raise ProviderRefused("payment_intent_unexpected_state",
                                  f"This intent cannot be {what}: it is {row.status}.")
        return row

    def cancel_payment_intent(self, ref) -> Intent:
        row = self._unfinished(ref, "canceled")
        row.status = "canceled"
        db.session.flush()
        return _intent(row)

    def change_payment_intent_amount(self, ref, amount) -> Intent:
        row = self._unfinished(ref, "updated")
        row.amount = amount
        db.session.flush()
        return _intent(row)

    def _charge(self, row, number, off_session=False):
        row.card_number = number
        row.payment_method = row.payment_method or "pm_sb_card_" + number[-4:]
        row.failure_code = row.failure_message = None
        if number in DECLINES:
            row.status = "requires_payment_method"
            row.failure_code, row.failure_message = DECLINES[number]
        elif number in AUTHENTICATES:
            row.status = "requires_action"
            if off_session:
                row.failure_code = "authentication_required"
                row.failure_message = "This payment needs you to confirm it with your bank."
        else:
            row.status, row.succeeded_at = "succeeded", utcnow()

    def confirm_with_card(self, ref, number) -> tuple[Intent, list[dict]]:
        """The test-mode card form: charge `number` (already checked for shape) on intent `ref`.
        Returns the intent and the events it emits."""
        row = self._get(ref)
        if row.status not in ("requires_payment_method", "requires_confirmation"):
            return _intent(row), []
        self._charge(row, number)
        db.session.flush()
        return _intent(row), [event_for(row, _EVENT_FOR_STATUS[self._event_status(row)])]

    def authenticate(self, ref, success: bool) -> tuple[Intent, list[dict]]:
        """The test-mode authentication step: pass or fail it."""
        row = self._get(ref)
        if row.status != "requires_action":
            return _intent(row), []
        if success:
            row.status, row.failure_code, row.failure_message = "succeeded", None, None
            row.succeeded_at = utcnow()
        else:
            row.status = "requires_payment_method"
            row.failure_code, row.failure_message = AUTH_FAILED
        db.session.flush()
        return _intent(row), [event_for(row, _EVENT_FOR_STATUS[self._event_status(row)])]

    @staticmethod
    def _event_status(row):
        if row.status == "requires_payment_method" and row.failure_code:
            return "failed"
        return row.status

    def create_customer(self, *, key, metadata) -> str:
        return "cus_sb_" + hashlib.sha256(key.encode()).hexdigest()[:16]

    def create_setup_intent(self, *, customer, key, metadata) -> Intent:
        existing = self._by_key(key)
        if existing is not None:
            return _intent(existing)
        row = SandboxIntent(id="seti_sb_" + secrets.token_hex(10), kind="setup",
                            idempotency_key=key, status="requires_payment_method",
                            client_secret="sb_secret_" + secrets.token_hex(12),
                            metadata_json=dict(metadata))
        db.session.add(row)
        db.session.flush()
        return _intent(row)

    def confirm_setup_with_card(self, ref, number) -> Intent:
        row = self._get(ref)
        if row.status == "requires_payment_method":
            row.card_number = number
            if number in DECLINES and number not in CHARGE_TIME_DECLINES:
                row.failure_code, row.failure_message = DECLINES[number]
            else:
                row.status, row.failure_code = "succeeded", None
                row.payment_method = "pm_sb_" + row.id.removeprefix("seti_sb_")
            db.session.flush()
        return _intent(row)

    def retrieve_setup_intent(self, ref) -> Intent:
        return _intent(self._get(ref))

    def refund(self, *, intent_ref, amount, key) -> str:
        existing = self._by_key(key)
        if existing is not None:
            return existing.id
        row = self._get(intent_ref)
        if row.status != "succeeded" or row.refunded + amount > row.amount:
            raise ProviderRefused("charge_already_refunded", "The refund exceeds the charge.")
        row.refunded += amount
        refund = SandboxIntent(id="re_sb_" + secrets.token_hex(10), kind="refund",
                               idempotency_key=key, amount=amount, currency=row.currency,
                               status="succeeded", client_secret="-",
                               metadata_json={"payment_intent": row.id})
        db.session.add(refund)
        db.session.flush()
        return refund.id

    def list_refunds(self, intent_ref) -> list[dict]:
        rows = db.session.scalars(select(SandboxIntent).where(SandboxIntent.kind == "refund")
                                  .order_by(SandboxIntent.created_at))
        return [{"id": r.id, "amount": r.amount, "status": r.status} for r in rows
                if (r.metadata_json or {}).get("payment_intent") == intent_ref]

    def construct_event(self, payload: bytes, signature: str | None) -> dict:
        if not signing.verify(payload, signature, webhook_secret()):
            raise BadSignature("signature does not verify")
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise BadSignature("payload is not JSON") from exc


_EVENT_FOR_STATUS = {"succeeded": "payment_intent.succeeded",
                     "failed": "payment_intent.payment_failed",
                     "requires_action": "payment_intent.requires_action",
                     "processing": "payment_intent.processing",
                     "canceled": "payment_intent.canceled"}
