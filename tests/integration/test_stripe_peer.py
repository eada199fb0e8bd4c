"""Through the real `stripe` library against a local peer (localstripe): intents, 3-D Secure,
declines, saved cards charged off-session, refunds, and signed webhooks delivered by the peer to
the portal's endpoint."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import date

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.accounts.models import EntryKind, LedgerEntry
from portal.extensions import db
from portal.payments import services
from portal.payments.gateway import get_gateway
from portal.payments.models import Payment

pytestmark = pytest.mark.stripe_peer
WEBHOOK_SECRET = "whsec_portal_peer_test"
OVERDUE_SINCE = date(2026, 10, 1)  # something is overdue, so there is something to pay
# localstripe always pickles its store to /tmp; the wrapper turns that off (and starts empty).
RUN_PEER = ("import sys; from localstripe import resources; "
            "resources.Store.dump_to_disk = lambda self: None; "
            "from localstripe import server; sys.argv = ['localstripe', '--port', sys.argv[1], "
            "'--from-scratch']; server.start()")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stripe_peer():
    port = _free_port()
    try:
        proc = subprocess.Popen([sys.executable, "-c", RUN_PEER, str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as exc:
        pytest.skip(f"localstripe cannot start: {exc}")
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/v1/balance", auth=("sk_test_peer", ""), timeout=0.5)
            break
        except requests.RequestException:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.skip("localstripe did not answer")
    if proc.poll() is not None:
        pytest.skip("localstripe exited at start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def stripe_app(app, db, stripe_peer, monkeypatch):
    for key, value in {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_peer",
                       "STRIPE_PUBLISHABLE_KEY": "pk_test_peer",
                       "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": stripe_peer,
                       "PAYMENT_PROVIDER_RETRIES": 0}.items():
        monkeypatch.setitem(app.config, key, value)
    return app


def _card(peer, number):
    response = requests.post(peer + "/v1/payment_methods", auth=("sk_test_peer", ""), data={
        "type": "card", "card[number]": number, "card[exp_month]": 12, "card[exp_year]": 2030,
        "card[cvc]": "123"}, timeout=5)
    response.raise_for_status()
    return response.json()["id"]


def _payment(account, choice="overdue") -> Payment:
    payment = services.open_payment(account, choice=choice, other_amount=None,
                                    currency=account.currency,
                                    nonce=services.issue_nonce(account))
    db.session.commit()
    return payment


def _payments_posted(account_id) -> int:
    return sum(e.amount for e in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == account_id, LedgerEntry.kind == EntryKind.PAYMENT)))


def test_intent_created_with_a_card_and_confirmed_server_side_is_posted(stripe_app, make_account):
    account = make_account(oldest_unpaid_due_date=OVERDUE_SINCE)
    payment = _payment(account)
    gateway = get_gateway()
    intent = gateway.create_payment_intent(
        amount=payment.amount, currency=payment.currency, key=payment.idempotency_key,
        metadata=services.metadata_for(payment), payment_method=_card(stripe_app.config["STRIPE_API_BASE"], "4242424242424242"))
    confirmed = gateway.client.v1.payment_intents.confirm(intent.ref)
    assert confirmed.status == "succeeded"
    retrieved = gateway.retrieve_payment_intent(intent.ref)
    # The charge's own time comes with it (expanded latest_charge): a success found later is
    # dated the day the money was taken.
    assert retrieved.succeeded_at is not None
    services.apply_intent(payment, retrieved)
    db.session.commit()
    assert _payments_posted(account.id) == -payment.amount


def test_three_d_secure_needs_the_step_then_succeeds(stripe_app, make_account):
    peer = stripe_app.config["STRIPE_API_BASE"]
    account = make_account(oldest_unpaid_due_date=OVERDUE_SINCE)
    payment = _payment(account)
    gateway = get_gateway()
    intent = gateway.create_payment_intent(
        amount=payment.amount, currency=payment.currency, key=payment.idempotency_key,
        metadata=services.metadata_for(payment), payment_method=_card(peer, "4000002760003184"))
    gateway.client.v1.payment_intents.confirm(intent.ref)
    services.apply_intent(payment, gateway.retrieve_payment_intent(intent.ref))
    db.session.commit()
    assert payment.status.value == "requires_action" and _payments_posted(account.id) == 0
    requests.post(f"{peer}/v1/payment_intents/{intent.ref}/_authenticate",
                  data={"client_secret": intent.client_secret, "success": "true",
                        "key": "pk_test_peer"}, timeout=5).raise_for_status()
    services.refresh(payment)
    db.session.commit()
    assert payment.status.value == "succeeded" and _payments_posted(account.id) == -payment.amount


def test_card_declined_at_charge_time_fails_and_posts_nothing(stripe_app, make_account):
    peer = stripe_app.config["STRIPE_API_BASE"]
    account = make_account(oldest_unpaid_due_date=OVERDUE_SINCE)
    payment = _payment(account)
    gateway = get_gateway()
    intent = gateway.create_payment_intent(
        amount=payment.amount, currency=payment.currency, key=payment.idempotency_key,
        metadata=services.metadata_for(payment), payment_method=_card(peer, "4000000000000341"))
    with pytest.raises(Exception):
        gateway.client.v1.payment_intents.confirm(intent.ref)
    services.refresh(payment) if payment.provider_ref else services.apply_intent(
        payment, gateway.retrieve_payment_intent(intent.ref))
    db.session.commit()
    assert payment.status.value == "failed" and payment.failure_code == "card_declined"
    assert _payments_posted(account.id) == 0


def test_saved_card_is_charged_off_session_and_refunded(stripe_app, make_account):
    peer = stripe_app.config["STRIPE_API_BASE"]
    account = make_account(oldest_unpaid_due_date=OVERDUE_SINCE)
    gateway = get_gateway()
    customer = gateway.create_customer(key="customer:test", metadata={})
    setup = gateway.create_setup_intent(customer=customer, key="setup:test", metadata={})
    gateway.client.v1.setup_intents.confirm(setup.ref, params={
        "payment_method": _card(peer, "4242424242424242")})
    saved = gateway.retrieve_setup_intent(setup.ref)
    assert saved.status == "succeeded" and saved.payment_method
    payment = _payment(account)
    intent = gateway.create_payment_intent(
        amount=payment.amount, currency=payment.currency, key=payment.idempotency_key,
        metadata=services.metadata_for(payment), customer=customer,
        payment_method=saved.payment_method, off_session=True)
    services.apply_intent(payment, intent)
    db.session.commit()
    assert payment.status.value == "succeeded"
    refund_id = gateway.refund(intent_ref=intent.ref, amount=1000, key="refund:test")
    assert refund_id.startswith("re_")
    refunds = gateway.client.v1.refunds.list(params={"payment_intent": intent.ref})
    assert sum(r.amount for r in refunds.data) == 1000
    assert [r["id"] for r in gateway.list_refunds(intent.ref)] == [refund_id]


@pytest.fixture()
def live_portal(stripe_app):
    server = make_server("127.0.0.1", 0, stripe_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_signed_webhook_from_the_peer_posts_the_payment_once(stripe_app, live_portal, make_account):
    peer = stripe_app.config["STRIPE_API_BASE"]
    requests.post(f"{peer}/_config/webhooks/portal", auth=("sk_test_peer", ""), timeout=5, data={
        "url": live_portal + "/webhooks/payments", "secret": WEBHOOK_SECRET}).raise_for_status()
    account = make_account(oldest_unpaid_due_date=OVERDUE_SINCE)
    payment = _payment(account)
    gateway = get_gateway()
    intent = gateway.create_payment_intent(
        amount=payment.amount, currency=payment.currency, key=payment.idempotency_key,
        metadata=services.metadata_for(payment), payment_method=_card(peer, "4242424242424242"))
    payment.provider_ref = intent.ref
    db.session.commit()
    gateway.client.v1.payment_intents.confirm(intent.ref)
    deadline = time.time() + 15
    while time.time() < deadline:
        db.session.expire_all()
        if db.session.get(Payment, payment.id).status.value == "succeeded":
            break
        time.sleep(0.2)
    assert db.session.get(Payment, payment.id).status.value == "succeeded"
    assert _payments_posted(account.id) == -payment.amount


def _intent_count(gateway) -> int:
    return len(gateway.client.v1.payment_intents.list(params={"limit": 100}).data)


def test_reconcile_makes_no_intent_for_a_payment_without_one(stripe_app, make_account):
    from datetime import datetime, timedelta, timezone

    from portal.payments import reconcile

    account = make_account(oldest_unpaid_due_date=OVERDUE_SINCE)
    payment = _payment(account)
    gateway = get_gateway()
    before = _intent_count(gateway)
    reconcile.reconcile(now=datetime.now(timezone.utc) + timedelta(hours=1))
    assert _intent_count(gateway) == before
    assert reconcile.reconcile(now=datetime.now(timezone.utc) + timedelta(days=2))["canceled"] == 1
    assert _intent_count(gateway) == before
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status.value == "canceled"


def test_reconcile_cancels_an_abandoned_intent_at_the_provider(stripe_app, make_account):
    from datetime import datetime, timedelta, timezone

    from portal.payments import reconcile

    account = make_account(oldest_unpaid_due_date=OVERDUE_SINCE)
    payment = _payment(account)
    intent = services.ensure_intent(payment)
    db.session.commit()
    assert reconcile.reconcile(now=datetime.now(timezone.utc) + timedelta(days=2))["canceled"] == 1
    assert get_gateway().retrieve_payment_intent(intent.ref).status == "canceled"
