"""Webhooks that do not post: `payment_intent.canceled`, `.processing` and `.payment_failed`, each
followed by what the cardholder sees, and a later success posting exactly once."""
from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db
from portal.payments import autopay
from portal.payments.models import SandboxIntent
from tests.integration.payment_helpers import (form_tokens, intent_event, make_active_plan,
                                               only_payment, payment_entries, signed_event)
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)



def _deliver(client, event) -> str:
    payload, headers = signed_event(event)
    response = client.post("/webhooks/payments", data=payload, headers=headers)
    assert response.status_code == 200
    return response.get_json()["outcome"]


def _at_provider(payment, status, failure=(None, None)):
    """What the (sandbox) provider itself says about the intent, so the return page, which
    asks it again, agrees with the events."""
    row = db.session.get(SandboxIntent, payment.provider_ref)
    row.status = status
    row.failure_code, row.failure_message = failure
    db.session.commit()


def _confirmations(outbox) -> list[dict]:
    return [m for m in outbox() if "has been received and applied" in m["body"]]


def _succeeds_once(client, payment, outbox, *replayed):
    """The provider reports success (twice, and replays `replayed`): posted exactly once."""
    _at_provider(payment, "succeeded")
    assert _deliver(client, intent_event(payment, event_id="evt_s1")) == "processed"
    assert _deliver(client, intent_event(payment, event_id="evt_s2")) == "processed"
    for event in replayed:
        assert _deliver(client, event) == "duplicate"
    posted = only_payment(payment.account_id)
    assert posted.status.value == "succeeded" and posted.receipt_number
    assert payment_entries(payment.account_id) == -50_000
    assert len(_confirmations(outbox)) == 1


def test_canceled_event_marks_the_payment_canceled_and_posts_nothing(client, started, outbox):
    _at_provider(started, "canceled")
    event = intent_event(started, "payment_intent.canceled", "evt_c1", status="canceled")
    assert _deliver(client, event) == "processed"
    payment = only_payment(started.account_id)
    assert payment.status.value == "canceled"
    assert payment_entries(started.account_id) == 0 and payment.receipt_number is None
    page = client.get(f"/payments/{started.id}").get_data(as_text=True)
    assert 'data-payment-status="canceled"' in page
    assert "cancelled and no money was taken" in page
    assert "has been received" not in page and _confirmations(outbox) == []


def test_processing_then_succeeded_posts_once(client, started, outbox):
    _at_provider(started, "processing")
    processing = intent_event(started, "payment_intent.processing", "evt_p1", status="processing")
    assert _deliver(client, processing) == "processed"
    assert only_payment(started.account_id).status.value == "processing"
    assert payment_entries(started.account_id) == 0

    page = client.get(f"/payments/{started.id}").get_data(as_text=True)
    assert 'data-payment-status="processing"' in page
    assert "Your payment is being processed" in page and "you do not need to pay again" in page
    assert "has been received" not in page and "/receipt" not in page
    assert client.get(f"/payments/{started.id}/receipt").status_code == 404
    assert only_payment(started.account_id).status.value == "processing"  # asking changed nothing

    _succeeds_once(client, started, outbox, processing)
    page = client.get(f"/payments/{started.id}").get_data(as_text=True)
    assert 'data-payment-status="succeeded"' in page


def test_late_processing_event_after_success_changes_nothing(client, started):
    _at_provider(started, "succeeded")
    _deliver(client, intent_event(started, event_id="evt_s1"))
    _deliver(client, intent_event(started, "payment_intent.processing", "evt_p1",
                                  status="processing"))
    assert only_payment(started.account_id).status.value == "succeeded"
    assert payment_entries(started.account_id) == -50_000


def test_failed_before_success_says_why_then_the_retry_posts_once(client, started, outbox):
    failure = ("insufficient_funds", "Your card has insufficient funds.")
    _at_provider(started, "requires_payment_method", failure)
    failed = intent_event(started, "payment_intent.payment_failed", "evt_f1",
                          status="requires_payment_method",
                          error={"code": "card_declined", "decline_code": "insufficient_funds",
                                 "message": failure[1]})
    assert _deliver(client, failed) == "processed"
    payment = only_payment(started.account_id)
    assert payment.status.value == "failed" and payment.failure_code == "insufficient_funds"
    assert payment_entries(started.account_id) == 0
    # The cardholder is told on the return page, in plain words, and may try again.
    page = client.get(f"/payments/{started.id}").get_data(as_text=True)
    assert 'data-payment-status="failed"' in page
    assert "not enough money available on the card. No money was taken." in page
    assert f"/accounts/{started.account_id}/pay" in page
    assert _confirmations(outbox) == []

    _succeeds_once(client, started, outbox, failed)  # a second card on the same intent


def test_failed_event_for_an_autopay_charge_tells_the_cardholder_when_it_is_retried(
        client, account, outbox):
    make_active_plan(account, [30_000, 30_000], today_for(account))
    page = client.get(f"/accounts/{account.id}/autopay").get_data(as_text=True)
    tokens = form_tokens(page)
    client.post(f"/accounts/{account.id}/autopay", data={
        "csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"],
        "card_number": "4000002760003184", "expiry": "12/30", "cvc": "123", "consent": "y"})
    assert autopay.run_autopay() == {"requires_action": 1}
    payment = only_payment(account.id)
    failure = ("payment_intent_authentication_failure",
               "The provided payment method has failed authentication.")
    _at_provider(payment, "requires_payment_method", failure)
    event = intent_event(payment, "payment_intent.payment_failed", "evt_f1",
                         status="requires_payment_method",
                         error={"code": failure[0], "message": failure[1]})
    assert _deliver(client, event) == "processed"
    assert only_payment(account.id).status.value == "failed"
    assert payment_entries(account.id) == 0
    retry_on = format_date(today_for(account) + timedelta(days=2), "long", locale="en")
    declined = [m for m in outbox() if "did not go through" in (m["body"] or "")]
    assert len(declined) == 1 and f"We will try again on {retry_on}" in declined[0]["body"]
    # a one-tap link to pay the instalment now (issue 16), not the failed payment's page
    assert "/l/" in declined[0]["body"] and f"/payments/{payment.id}" not in declined[0]["body"]
    assert _deliver(client, event) == "duplicate"
    assert len([m for m in outbox() if "did not go through" in (m["body"] or "")]) == 1


def test_events_about_an_unknown_intent_are_recorded_and_ignored(client, account):
    event = {"id": "evt_x", "type": "payment_intent.canceled", "data": {"object": {
        "id": "pi_nobody", "object": "payment_intent", "status": "canceled", "metadata": {}}}}
    assert _deliver(client, event) == "ignored"
    assert _deliver(client, event) == "duplicate"
    assert db.session.scalars(select(SandboxIntent)).all() == []
