"""The Stripe gateway always sends an idempotency key, maps faults, and is built from config.
A unit-level fake stands in for Stripe's HTTP API (localstripe ignores keys)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import stripe

from portal.payments.gateway import (BadSignature, ProviderRefused, ProviderUnavailable,
                                     StripeGateway)


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers like Stripe: a repeated idempotency key replays the first response."""

    name = "fake"

    def __init__(self, fail_with=None):
        super().__init__()
        self.requests, self.by_key, self.fail_with, self.created = [], {}, fail_with, 0

    def request(self, method, url, headers, post_data=None):
        key = (headers or {}).get("Idempotency-Key")
        self.requests.append((method, url, key, post_data))
        if self.fail_with:
            status, body = self.fail_with
            return json.dumps(body), status, {}
        if key in self.by_key:
            return self.by_key[key], 200, {"Idempotent-Replayed": "true"}
        self.created += 1
        body = json.dumps({"id": f"pi_{self.created}", "object": "payment_intent",
                           "status": "requires_payment_method", "amount": 5000,
                           "currency": "cny", "client_secret": "cs", "metadata": {}})
        if key:
            self.by_key[key] = body
        return body, 200, {}

    def close(self):
        pass


def _gateway(http):
    gw = StripeGateway("sk_test_x", "pk_test_x", "whsec_x", "http://127.0.0.1:9", retries=0)
    gw.client = stripe.StripeClient("sk_test_x", http_client=http, max_network_retries=0)
    return gw


def test_every_create_carries_the_payment_key_and_a_retry_creates_nothing_new():
    http = FakeStripeHTTP()
    gw = _gateway(http)
    first = gw.create_payment_intent(amount=5000, currency="CNY", key="pay:1:abc", metadata={})
    again = gw.create_payment_intent(amount=5000, currency="CNY", key="pay:1:abc", metadata={})
    assert first.ref == again.ref == "pi_1" and http.created == 1
    assert all(key == "pay:1:abc" for _, _, key, _ in http.requests)


def test_wallets_are_requested_beside_cards():
    http = FakeStripeHTTP()
    _gateway(http).create_payment_intent(amount=5000, currency="CNY", key="k", metadata={},
                                         wallets=["alipay", "wechat_pay"])
    body = http.requests[0][3]
    assert "alipay" in body and "wechat_pay" in body and "card" in body


@pytest.mark.parametrize("status", [500, 502, 503])
def test_stripe_5xx_is_provider_unavailable(status):
    http = FakeStripeHTTP(fail_with=(status, {"error": {"type": "api_error", "message": "boom"}}))
    with pytest.raises(ProviderUnavailable):
        _gateway(http).create_payment_intent(amount=1, currency="CNY", key="k", metadata={})


def test_a_time_out_is_provider_unavailable():
    class Timeout(FakeStripeHTTP):
        def request(self, *args, **kwargs):
            raise stripe.APIConnectionError("timed out")

    with pytest.raises(ProviderUnavailable):
        _gateway(Timeout()).create_payment_intent(amount=1, currency="CNY", key="k", metadata={})


def test_a_decline_is_refused_with_its_code():
    body = {"error": {"type": "card_error", "code": "card_declined", "decline_code":
                      "insufficient_funds", "message": "Your card has insufficient funds."}}
    with pytest.raises(ProviderRefused) as info:
        _gateway(FakeStripeHTTP(fail_with=(402, body))).create_payment_intent(
            amount=1, currency="CNY", key="k", metadata={})
    assert info.value.code == "insufficient_funds"


def test_stripe_webhook_with_a_bad_signature_is_refused():
    gw = _gateway(FakeStripeHTTP())
    with pytest.raises(BadSignature):
        gw.construct_event(b'{"id": "evt_1"}', "t=1,v1=bad")


def _stripe_signed(payload: bytes, secret: str, timestamp: int) -> str:
    # Stripe's scheme, computed here as the provider does (not through the gateway)
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


EVENT = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "created": 1,
         "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 1250,
                             "metadata": {"payment_id": "7"},
                             "charges": {"data": [{"id": "ch_1", "refunds": {"data": []}}]},
                             "unit_amount_decimal": "12.5"}}}


def test_stripe_webhook_signed_now_is_the_json_the_provider_sent():
    gw = _gateway(FakeStripeHTTP())
    payload = json.dumps(EVENT, indent=2).encode()
    event = gw.construct_event(payload, _stripe_signed(payload, gw.webhook_secret,
                                                       int(time.time())))
    assert event == EVENT  # plain dicts and lists, a decimal string kept as sent
    assert json.loads(json.dumps(event)) == EVENT  # what the inbox's JSON column stores


def test_stripe_webhook_signed_too_long_ago_is_refused():
    gw = _gateway(FakeStripeHTTP())
    payload = json.dumps(EVENT).encode()
    stale = int(time.time()) - stripe.Webhook.DEFAULT_TOLERANCE - 60
    with pytest.raises(BadSignature):
        gw.construct_event(payload, _stripe_signed(payload, gw.webhook_secret, stale))


def test_stripe_webhook_signed_with_another_secret_or_altered_is_refused():
    gw = _gateway(FakeStripeHTTP())
    payload = json.dumps(EVENT).encode()
    now = int(time.time())
    for body, header in ((payload, _stripe_signed(payload, "whsec_other", now)),
                         (payload.replace(b"1250", b"9250"),
                          _stripe_signed(payload, gw.webhook_secret, now)),
                         (payload, None), (payload, "")):
        with pytest.raises(BadSignature):
            gw.construct_event(body, header)


def test_stripe_webhook_signed_but_not_json_is_refused():
    gw = _gateway(FakeStripeHTTP())
    for payload in (b"not json", b"\xff\xfe{}"):
        with pytest.raises(BadSignature):
            gw.construct_event(payload, _stripe_signed(payload, gw.webhook_secret,
                                                       int(time.time())))
