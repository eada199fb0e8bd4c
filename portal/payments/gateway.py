"""The one door to the payment provider. Only this module imports `stripe`.

`get_gateway()` builds the configured provider: Stripe when PAYMENT_PROVIDER is "stripe" (keys and
API base from configuration, so tests can point it at a local peer), else the sandbox. Every call
that creates something passes an idempotency key.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import stripe
from flask import current_app


class ProviderUnavailable(Exception):
    """The provider timed out, could not be reached or answered 5xx: nothing is known to have
    happened, and the same call with the same key is safe to repeat."""


class ProviderRefused(Exception):
    """The provider refused a request (a decline or a bad request)."""

    def __init__(self, code: str | None, message: str | None, intent: Intent | None = None):
        super().__init__(message or code or "refused")
        self.code = code
        self.message = message
        self.intent = intent


class BadSignature(Exception):
    """A webhook whose signature does not verify."""


@dataclass(frozen=True)
class Intent:
    """What the provider says about a payment or setup intent, in Stripe's vocabulary."""

    ref: str
    status: str  # requires_payment_method | requires_confirmation | requires_action | processing
    #              | succeeded | canceled
    amount: int | None = None
    currency: str | None = None
    client_secret: str | None = None
    metadata: dict = field(default_factory=dict)
    failure_code: str | None = None
    failure_message: str | None = None
    payment_method: str | None = None
    card_last4: str | None = None
    succeeded_at: datetime | None = None  # when the provider reported success (event time)


def intent_from_object(obj) -> Intent:
    """An Intent from a Stripe-shaped dict (a webhook's data.object or an API answer)."""
    get = obj.get if isinstance(obj, dict) else (lambda k, d=None: getattr(obj, k, d))
    error = get("last_payment_error") or get("last_setup_error") or {}
    if not isinstance(error, dict):
        error = error.to_dict() if hasattr(error, "to_dict") else dict(error)
    metadata = get("metadata") or {}
    metadata = dict(metadata.to_dict() if hasattr(metadata, "to_dict") else metadata)
    pm = get("payment_method")
    if pm is not None and not isinstance(pm, str):
        pm = pm.get("id") if isinstance(pm, dict) else getattr(pm, "id", None)
    currency = get("currency")
    amount = get("amount")
    # An integer of minor units; the local peer echoes an updated amount back as text.
    amount = int(amount) if amount is not None else None
    return Intent(ref=get("id"), status=get("status"), amount=amount,
                  currency=currency.upper() if currency else None,
                  client_secret=get("client_secret"), metadata=metadata,
                  failure_code=error.get("decline_code") or error.get("code"),
                  failure_message=error.get("message"), payment_method=pm,
                  succeeded_at=_charged_at(get("status"), get("latest_charge")))


def _charged_at(status, charge) -> datetime | None:
    """When a succeeded intent's charge was made (`latest_charge.created`, when expanded): a
    success found later, by reconciliation or before its event, is dated that day."""
    if status != "succeeded" or charge is None or isinstance(charge, str):
        return None
    created = charge.get("created") if isinstance(charge, dict) else getattr(charge, "created",
                                                                            None)
    if isinstance(created, bool) or not isinstance(created, int) or created <= 0:
        return None
    return datetime.fromtimestamp(created, timezone.utc)


class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key, publishable_key, webhook_secret, api_base=None, timeout=20,
                 retries=1):
        http = stripe.RequestsClient(timeout=timeout)
        bases = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(secret_key, base_addresses=bases, http_client=http,
                                          max_network_retries=retries)
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret

    def _call(self, method, params, key=None):
        options = {"idempotency_key": key} if key else None
        try:
            return method(params=params, options=options) if options else method(params=params)
        except stripe.CardError as exc:
            error = exc.error
            pi = getattr(error, "payment_intent", None) if error else None
            intent = intent_from_object(pi) if pi else None
            code = (getattr(error, "decline_code", None) or exc.code) if error else exc.code
            raise ProviderRefused(code, exc.user_message, intent) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise ProviderUnavailable(str(exc)) from exc
        except stripe.StripeError as exc:
            if (exc.http_status or 500) >= 500:
                raise ProviderUnavailable(str(exc)) from exc
            raise ProviderRefused(exc.code, exc.user_message or str(exc)) from exc

    def create_payment_intent(self, *, amount, currency, key, metadata, customer=None,
                              payment_method=None, off_session=False, wallets=()) -> Intent:
        params = {"amount": amount, "currency": currency.lower(), "metadata": metadata,
                  "payment_method_types": ["card", *wallets]}
        if "wechat_pay" in params["payment_method_types"]:
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
        if customer:
            params["customer"] = customer
        if payment_method:
            params["payment_method"] = payment_method
        if off_session:
            params.update(payment_method_types=["card"], confirm=True, off_session=True)
            params.pop("payment_method_options", None)
        return intent_from_object(self._call(self.client.v1.payment_intents.create, params, key))

    def retrieve_payment_intent(self, ref) -> Intent:
        return intent_from_object(self._call(
            lambda params: self.client.v1.payment_intents.retrieve(ref, params=params),
            {"expand": ["latest_charge"]}))

    def find_payment_intent(self, *, key, metadata, **kwargs) -> Intent | None:
        """The intent made for this payment, looked up by the payment id in its metadata
        (Stripe's search, a read: it never creates an intent); None if there is none yet.
        Raises ProviderRefused where search is not offered."""
        payment_id = str(metadata.get("payment_id", ""))
        if not payment_id.isdigit():
            return None
        found = self._call(self.client.v1.payment_intents.search,
                           {"query": f"metadata['payment_id']:'{payment_id}'", "limit": 1})
        return intent_from_object(found.data[0]) if found.data else None

    def cancel_payment_intent(self, ref) -> Intent:
        """Cancel an intent so that it can no longer take money. Raises ProviderRefused when
        the provider will not (it succeeded, is processing or is already canceled)."""
        return intent_from_object(self._call(
            lambda params: self.client.v1.payment_intents.cancel(ref), {}))

    def change_payment_intent_amount(self, ref, amount) -> Intent:
        """Change what an intent not yet confirmed will charge. Raises ProviderRefused when it
        can no longer change (it succeeded, is processing or was canceled)."""
        return intent_from_object(self._call(
            lambda params: self.client.v1.payment_intents.update(ref, params=params),
            {"amount": amount}))

    def create_customer(self, *, key, metadata) -> str:
        return self._call(self.client.v1.customers.create, {"metadata": metadata}, key).id

    def create_setup_intent(self, *, customer, key, metadata) -> Intent:
        params = {"customer": customer, "usage": "off_session", "payment_method_types": ["card"],
                  "metadata": metadata}
        return intent_from_object(self._call(self.client.v1.setup_intents.create, params, key))

    def retrieve_setup_intent(self, ref) -> Intent:
        return intent_from_object(self._call(
            lambda params: self.client.v1.setup_intents.retrieve(ref), {}))

    def refund(self, *, intent_ref, amount, key) -> str:
        params = {"payment_intent": intent_ref, "amount": amount}
        return self._call(self.client.v1.refunds.create, params, key).id

    def list_refunds(self, intent_ref) -> list[dict]:
        """Every refund of the intent's charge: dicts with id, amount and status."""
        page = self._call(self.client.v1.refunds.list,
                          {"payment_intent": intent_ref, "limit": 100})
        return [{"id": r.id, "amount": r.amount, "status": r.status}
                for r in page.auto_paging_iter()]

    def construct_event(self, payload: bytes, signature: str | None) -> dict:
        """The verified event as the JSON the provider signed. Stripe's signature check
        (with its timestamp tolerance, as `stripe.Webhook.construct_event`), then the body
        parsed as is: no StripeObject built and turned back into a dict (a tenth of the
        cost; and a `*_decimal` field stays the string it was, where `to_dict` gave a
        Decimal that the inbox's JSON column could not store)."""
        try:
            stripe.WebhookSignature.verify_header(payload, signature, self.webhook_secret,
                                                  stripe.Webhook.DEFAULT_TOLERANCE)
            return json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise BadSignature(str(exc)) from exc


def get_gateway():
    """The configured provider for the current app (tests may set app.extensions override)."""
    app = current_app
    override = app.extensions.get("payment_gateway")
    if override is not None:
        return override
    if app.config.get("PAYMENT_PROVIDER") == "stripe":
        return StripeGateway(app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_PUBLISHABLE_KEY"],
                             app.config["STRIPE_WEBHOOK_SECRET"], app.config.get("STRIPE_API_BASE"),
                             timeout=app.config.get("PAYMENT_PROVIDER_TIMEOUT", 20),
                             retries=app.config.get("PAYMENT_PROVIDER_RETRIES", 1))
    # Lazy: the sandbox imports this module (Intent, the errors), and only a test or demo
    # configuration ever needs it.
    from portal.payments.sandbox import SandboxGateway

    return SandboxGateway()
