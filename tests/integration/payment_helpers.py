"""Helpers shared by the payment tests: page tokens, signed events, ledger sums, and the
fixtures `account` (a signed-in cardholder with something overdue) and `started` (a payment
whose sandbox intent exists, unpaid); a test module imports the fixtures it uses."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.extensions import db
from portal.payments import signing
from portal.payments.models import Payment, PaymentChoice, PaymentStatus
from portal.payments.sandbox import webhook_secret


def processing_payment(account, amount: int, ref: str, *, other: bool = True) -> Payment:
    """A payment of `account` the provider is processing (added, not committed): its
    idempotency key is `ref`, its provider reference `pi_<ref>`."""
    payment = Payment(account_id=account.id, account=account, amount=amount,
                      choice=PaymentChoice.OTHER if other else PaymentChoice.OVERDUE,
                      currency=account.currency, provider="sandbox", idempotency_key=ref,
                      provider_ref=f"pi_{ref}", status=PaymentStatus.PROCESSING)
    db.session.add(payment)
    return payment


def form_tokens(html: str) -> dict:
    found = dict(re.findall(r'name="(csrf_token|nonce|currency|request_key)"[^>]*value="([^"]*)"', html))
    found.update(dict(re.findall(r'value="([^"]*)"[^>]*name="(csrf_token|nonce)"', html)[::-1]))
    return found


def start_payment(client, account, choice="overdue", other=""):
    page = client.get(f"/accounts/{account.id}/pay").get_data(as_text=True)
    tokens = form_tokens(page)
    data = {"csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"],
            "currency": tokens["currency"], "choice": choice, "other_amount": other}
    return data, client.post(f"/accounts/{account.id}/pay", data=data)


def pay_with_card(client, payment_id, number="4242424242424242"):
    page = client.get(f"/payments/{payment_id}/checkout", follow_redirects=True).get_data(as_text=True)
    token = form_tokens(page)["csrf_token"]
    return client.post(f"/payments/{payment_id}/sandbox/card", data={
        "csrf_token": token, "card_number": number, "expiry": "12/30", "cvc": "123"})


def payment_entries(account_id) -> int:
    """Sum of payment entries (negative) net of reversals for an account."""
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account_id,
        LedgerEntry.kind.in_([EntryKind.PAYMENT, EntryKind.REVERSAL]))))


def only_payment(account_id) -> Payment:
    db.session.expire_all()
    return db.session.scalars(select(Payment).where(Payment.account_id == account_id)).one()


def signed_event(event: dict, secret: str | None = None) -> tuple[bytes, dict]:
    payload = json.dumps(event).encode()
    return payload, {"Stripe-Signature": signing.sign(payload, secret or webhook_secret()),
                     "Content-Type": "application/json"}


def intent_event(payment, kind="payment_intent.succeeded", event_id="evt_1", status="succeeded",
                 amount=None, error=None):
    return {"id": event_id, "type": kind, "data": {"object": {
        "id": payment.provider_ref or "pi_unknown", "object": "payment_intent",
        "amount": amount or payment.amount, "currency": payment.currency.lower(),
        "status": status, "metadata": {"payment_id": str(payment.id)},
        "last_payment_error": error}}}


def kept_tasks(app, monkeypatch, poll_seconds: float) -> list:
    """A broker configured (with the outbox poller every `poll_seconds`, 0: none); the tasks
    sent to it are kept in the list returned instead."""
    sent = []
    monkeypatch.setitem(app.config, "JOBS_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", poll_seconds)
    monkeypatch.setattr(app.extensions["celery"], "send_task",
                        lambda name, args: sent.append((name, args)))
    return sent


def deliver_event(client, event) -> str:
    """Post one signed event to the webhook endpoint (200 expected); its outcome."""
    payload, headers = signed_event(event)
    response = client.post("/webhooks/payments", data=payload, headers=headers)
    assert response.status_code == 200
    return response.get_json()["outcome"]


def deliver_twice_and_late(client, started) -> None:
    """The success of `started` (its intent succeeded) delivered under two event ids, one of
    them twice, and a late `processing` event twice: it posts once."""
    succeeded = intent_event(started, event_id="evt_s1")
    late = intent_event(started, "payment_intent.processing", "evt_p1", status="processing")
    outcomes = [deliver_event(client, event) for event in (
        succeeded, late, succeeded, intent_event(started, event_id="evt_s2"), late)]
    assert outcomes == ["processed", "processed", "duplicate", "processed", "duplicate"]
    assert payment_entries(started.account_id) == -50_000  # posted once
    assert only_payment(started.account_id).status.value == "succeeded"


def make_active_plan(account, amounts, first_due):
    """An active instalment plan built directly (the plans feature's own flow is tested there)."""
    from datetime import timedelta

    from portal.plans.models import Plan, PlanInstalment, PlanStatus

    plan = Plan(account_id=account.id, status=PlanStatus.ACTIVE, source="offer", kind="instalment",
                currency=account.currency, instalment_count=len(amounts), frequency="monthly",
                first_date=first_due, balance_at_start=sum(amounts), total=sum(amounts),
                policy_profile=account.policy_profile, policy_version=0, stage="early",
                grace_days=5, started_on=first_due)
    plan.instalments = [PlanInstalment(seq=n + 1, due_date=first_due + timedelta(days=30 * n),
                                       amount=a, paid_amount=0) for n, a in enumerate(amounts)]
    db.session.add(plan)
    db.session.commit()
    return plan


@pytest.fixture()
def account(make_account, login_as, client):
    """A cardholder signed in on `client` whose account has CN¥500.00 overdue since October."""
    account = make_account(principal=400_000, interest=20_000, fees=10_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, account.cardholder)
    return account


@pytest.fixture()
def started(client, account):
    """A payment whose sandbox intent exists but that nobody has paid yet."""
    start_payment(client, account, "overdue")
    payment = only_payment(account.id)
    client.get(f"/payments/{payment.id}/checkout")
    return only_payment(account.id)
