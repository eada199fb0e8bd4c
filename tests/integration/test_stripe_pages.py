"""Stripe.js and the Stripe additions to the Content-Security-Policy appear on the two Stripe
pages (card payment, saving a card) and only there, and only when Stripe is configured."""
from __future__ import annotations

import re
from datetime import date

import pytest

from portal.balances.services import today_for
from portal.payments.gateway import Intent, StripeGateway
from tests.integration import test_stripe_peer as peer
from tests.integration.payment_helpers import (form_tokens, make_active_plan, only_payment,
                                               start_payment)

# The peer fixtures (localstripe on loopback, the app configured for it), used here too.
stripe_peer, stripe_app = peer.stripe_peer, peer.stripe_app
STRIPE_JS = '<script src="https://js.stripe.com/v3/"></script>'


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    return {parts[0]: parts[1:] for parts in (d.split() for d in header.split(";")) if parts}


def assert_plain_csp(response) -> None:
    policy = csp(response)
    assert "stripe" not in response.headers["Content-Security-Policy"]
    assert policy["script-src"] == ["'self'"] and policy["connect-src"] == ["'self'"]
    assert policy["frame-src"] == ["'none'"]


def assert_stripe_csp(response) -> None:
    policy = csp(response)
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert policy["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    # Only those three widen: the page still may not be framed, nor post forms elsewhere.
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]


@pytest.fixture()
def stripe_configured(app, monkeypatch):
    """The app configured for Stripe, the provider's answers canned (no network)."""
    for key, value in {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_pages",
                       "STRIPE_PUBLISHABLE_KEY": "pk_test_pages",
                       "STRIPE_WEBHOOK_SECRET": "whsec_pages"}.items():
        monkeypatch.setitem(app.config, key, value)
    made = []

    def create_payment_intent(self, **kwargs):
        made.append(kwargs)
        return Intent(ref="pi_pages_1", status="requires_payment_method",
                      amount=kwargs["amount"], currency=kwargs["currency"],
                      client_secret="pi_pages_1_secret_abc", metadata=kwargs["metadata"])

    def retrieve_payment_intent(self, ref):
        return Intent(ref=ref, status="requires_payment_method", client_secret=f"{ref}_secret_abc")

    def change_payment_intent_amount(self, ref, amount):
        made.append({"changed": ref, "amount": amount})
        return Intent(ref=ref, status="requires_payment_method", amount=amount,
                      client_secret=f"{ref}_secret_abc")

    monkeypatch.setattr(StripeGateway, "create_payment_intent", create_payment_intent)
    monkeypatch.setattr(StripeGateway, "change_payment_intent_amount",
                        change_payment_intent_amount)
    monkeypatch.setattr(StripeGateway, "retrieve_payment_intent", retrieve_payment_intent)
    monkeypatch.setattr(StripeGateway, "create_customer", lambda self, **kw: "cus_pages_1")
    monkeypatch.setattr(StripeGateway, "create_setup_intent", lambda self, **kw: Intent(
        ref="seti_pages_1", status="requires_payment_method",
        client_secret="seti_pages_1_secret_abc", metadata=kw["metadata"]))
    return made


def _checkout(client, account):
    """Choose the overdue amount and open the checkout page: (payment, response, its text)."""
    start_payment(client, account, "overdue")
    payment = only_payment(account.id)
    response = client.get(f"/payments/{payment.id}/checkout")
    return only_payment(account.id), response, response.get_data(as_text=True)


@pytest.fixture()
def holder(make_account, login_as, client):
    account = make_account(principal=400_000, fees=10_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))  # something is overdue
    login_as(client, account.cardholder)
    return account


def test_stripe_checkout_loads_stripe_js_with_the_key_and_a_csp_that_allows_stripe(
        client, holder, stripe_configured):
    payment, response, page = _checkout(client, holder)
    assert response.status_code == 200
    assert page.count(STRIPE_JS) == 1
    assert 'data-key="pk_test_pages"' in page and 'data-secret="pi_pages_1_secret_abc"' in page
    assert re.search(rf'data-return="http://[^"]+/payments/{payment.id}"', page)
    assert 'name="card_number"' not in page  # card data goes to Stripe's iframe, never here
    assert_stripe_csp(response)
    # The CNY account is offered the profile's wallets beside the card.
    assert stripe_configured[0]["wallets"] == ["alipay", "wechat_pay"]


def test_stripe_checkout_asks_the_portal_again_before_confirming(client, holder,
                                                                 stripe_configured):
    payment, response, page = _checkout(client, holder)
    form = re.search(r'<form id="payment-form"[^>]*>(.*?)</form>', page, re.S)
    assert f'data-recheck="/payments/{payment.id}/recheck"' in page
    assert 'name="csrf_token"' in form.group(1)  # the check is a CSRF-protected POST
    assert 'id="payment-amount"' in page and 'id="payment-notice"' in page
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page)  # no inline script (CSP)


def test_stripe_setup_page_loads_stripe_js_with_a_csp_that_allows_stripe(
        client, holder, stripe_configured):
    make_active_plan(holder, [30_000, 30_000], today_for(holder))
    page = client.get(f"/accounts/{holder.id}/autopay")
    assert_plain_csp(page)  # the consent page itself loads nothing from Stripe
    assert "js.stripe.com" not in page.get_data(as_text=True)
    tokens = form_tokens(page.get_data(as_text=True))
    response = client.post(f"/accounts/{holder.id}/autopay",
                           data={"csrf_token": tokens["csrf_token"], "consent": "y"})
    setup = response.get_data(as_text=True)
    assert response.status_code == 200
    assert setup.count(STRIPE_JS) == 1
    assert 'data-mode="setup"' in setup and 'data-secret="seti_pages_1_secret_abc"' in setup
    assert_stripe_csp(response)


def test_other_pages_keep_the_plain_csp_and_no_stripe_js_with_stripe_configured(
        client, holder, stripe_configured):
    payment, _response, _page = _checkout(client, holder)
    for path in ("/home", f"/accounts/{holder.id}", f"/accounts/{holder.id}/pay",
                 f"/payments/{payment.id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "js.stripe.com" not in response.get_data(as_text=True), path
        assert_plain_csp(response)


def test_sandbox_checkout_has_no_stripe_js_and_the_plain_csp(client, holder, app):
    assert app.config["PAYMENT_PROVIDER"] == "sandbox"
    payment, response, page = _checkout(client, holder)
    assert response.status_code == 200 and 'name="card_number"' in page
    assert "stripe" not in page.lower()
    assert_plain_csp(response)
    make_active_plan(holder, [30_000], today_for(holder))
    autopay = client.get(f"/accounts/{holder.id}/autopay")
    assert "js.stripe.com" not in autopay.get_data(as_text=True)
    assert_plain_csp(autopay)


@pytest.mark.stripe_peer
def test_checkout_against_the_peer_renders_the_peers_client_secret(
        stripe_app, client, holder):
    payment, response, page = _checkout(client, holder)
    assert response.status_code == 200 and payment.provider_ref.startswith("pi_")
    secret = re.search(r'data-secret="([^"]+)"', page).group(1)
    assert secret.startswith(payment.provider_ref + "_secret")
    assert page.count(STRIPE_JS) == 1 and 'data-key="pk_test_peer"' in page
    assert_stripe_csp(response)
