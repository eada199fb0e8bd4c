"""Webhooks, reconciliation, refunds, chargebacks and autopay, with the sandbox provider."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.accounts.models import EntryKind, LedgerEntry
from portal.balances.services import today_for
from portal.extensions import db
from portal.payments import autopay, reconcile as reconcile_mod
from portal.payments.models import AutopayMandate, Payment, WebhookEvent
from tests.integration.payment_helpers import (form_tokens, intent_event, make_active_plan,
                                               only_payment, pay_with_card, payment_entries,
                                               signed_event, start_payment)
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)


def _succeed_at_provider(payment):
    from portal.payments.models import SandboxIntent

    row = db.session.get(SandboxIntent, payment.provider_ref)
    row.status = "succeeded"
    db.session.commit()


def test_unsigned_or_badly_signed_webhook_is_400_and_stores_nothing(client, started):
    payload, headers = signed_event(intent_event(started), secret="whsec_wrong")
    assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 400
    assert client.post("/webhooks/payments", data=payload).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_second_webhook_delivery_posts_nothing(client, started):
    _succeed_at_provider(started)
    payload, headers = signed_event(intent_event(started))
    first = client.post("/webhooks/payments", data=payload, headers=headers)
    second = client.post("/webhooks/payments", data=payload, headers=headers)
    assert first.get_json()["outcome"] == "processed"
    assert second.get_json()["outcome"] == "duplicate"
    other_id = signed_event(intent_event(started, event_id="evt_2"))
    assert client.post("/webhooks/payments", data=other_id[0], headers=other_id[1]).status_code == 200
    assert payment_entries(started.account_id) == -50_000


def test_events_in_any_order_end_succeeded_and_posted_once(client, started):
    events = [intent_event(started, event_id="e3"),
              intent_event(started, "payment_intent.processing", "e1", status="processing"),
              intent_event(started, "payment_intent.payment_failed", "e2",
                           status="requires_payment_method",
                           error={"code": "card_declined", "message": "declined"})]
    for event in events:
        payload, headers = signed_event(event)
        assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 200
    assert only_payment(started.account_id).status.value == "succeeded"
    assert payment_entries(started.account_id) == -50_000


def test_database_down_during_webhook_is_5xx_and_the_retry_posts_once(client, started, monkeypatch):
    payload, headers = signed_event(intent_event(started))
    from portal.payments import webhooks

    real = webhooks.handle_event

    def broken(event, provider=None):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(webhooks, "handle_event", broken)
    assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 503
    monkeypatch.setattr(webhooks, "handle_event", real)
    assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 200
    assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 200
    assert payment_entries(started.account_id) == -50_000


def test_return_page_never_claims_success_before_posting(client, started):
    page = client.get(f"/payments/{started.id}").get_data(as_text=True)
    assert "has been received" not in page
    assert "not been completed yet" in page


def test_crash_between_provider_success_and_commit_is_healed_by_reconciliation(
        client, started, app, monkeypatch):
    from portal.payments import services

    _succeed_at_provider(started)

    def crash(payment, *args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "post_success", crash)
    with pytest.raises(RuntimeError):
        client.get(f"/payments/{started.id}")
    db.session.rollback()
    assert payment_entries(started.account_id) == 0
    monkeypatch.undo()
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert reconcile_mod.reconcile(now=later)["posted"] == 1
    assert reconcile_mod.reconcile(now=later)["posted"] == 0
    assert payment_entries(started.account_id) == -50_000


def test_reconcile_finds_an_intent_whose_reference_was_never_saved(app, db, started):
    _succeed_at_provider(started)
    Payment.__table__.update().where(Payment.id == started.id)
    db.session.execute(Payment.__table__.update().where(Payment.__table__.c.id == started.id)
                       .values(provider_ref=None))
    db.session.commit()
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert reconcile_mod.reconcile(now=later)["posted"] == 1
    assert payment_entries(started.account_id) == -50_000


def test_reconcile_cancels_an_abandoned_payment(app, db, started):
    much_later = datetime.now(timezone.utc) + timedelta(days=2)
    assert reconcile_mod.reconcile(now=much_later)["canceled"] == 1
    assert only_payment(started.account_id).status.value == "canceled"


def _paid(client, account):
    start_payment(client, account, "overdue")
    payment = only_payment(account.id)
    pay_with_card(client, payment.id)
    return only_payment(account.id)


def test_collections_manager_refund_posts_reversals_referencing_the_originals(
        client, account, app, make_staff, login_as):
    payment = _paid(client, account)
    staff = app.test_client()
    login_as(staff, make_staff("collections_manager"))
    page = staff.get(f"/staff/payments/{payment.id}").get_data(as_text=True)
    tokens = form_tokens(page)
    data = {"csrf_token": tokens["csrf_token"], "request_key": tokens["request_key"],
            "amount": "300.00", "reason": "paid twice by mistake"}
    staff.post(f"/staff/payments/{payment.id}/refund", data=data)
    staff.post(f"/staff/payments/{payment.id}/refund", data=data)  # repeated request
    reversals = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.kind == EntryKind.REVERSAL)).all()
    assert sum(r.amount for r in reversals) == 30_000
    assert all(r.reversal_of_id for r in reversals)
    assert {r.component.value for r in reversals} == {"principal", "interest"}  # last paid first
    assert only_payment(account.id).refunded_amount == 30_000


def test_collector_cannot_refund(client, account, app, make_staff, login_as):
    payment = _paid(client, account)
    staff = app.test_client()
    login_as(staff, make_staff("collector"))
    page = staff.get(f"/staff/payments/{payment.id}")
    assert page.status_code == 200 and b"Refund</button>" not in page.data
    token = form_tokens(page.get_data(as_text=True))["csrf_token"]
    response = staff.post(f"/staff/payments/{payment.id}/refund",
                          data={"csrf_token": token, "amount": "1.00", "reason": "x",
                                "request_key": "k"})
    assert response.status_code == 403
    assert payment_entries(account.id) == -50_000


def _dispute_event(payment, kind, event_id, status="needs_response", amount=50_000):
    return {"id": event_id, "type": f"charge.dispute.{kind}", "data": {"object": {
        "id": "dp_1", "object": "dispute", "amount": amount, "status": status,
        "payment_intent": payment.provider_ref, "reason": "fraudulent"}}}


def _send(client, *events):
    for event in events:
        payload, headers = signed_event(event)
        assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 200


@pytest.fixture()
def paid_instalment(client, account):
    plan = make_active_plan(account, [50_000, 50_000], today_for(account))
    start_payment(client, account, "instalment")
    payment = only_payment(account.id)
    assert payment.amount == 50_000
    pay_with_card(client, payment.id)
    db.session.expire_all()
    assert plan.instalments[0].status.value == "paid"
    return plan, only_payment(account.id)


def test_a_chargeback_reverses_the_payment_once_when_the_funds_are_withdrawn(
        client, account, paid_instalment):
    plan, payment = paid_instalment
    _send(client, _dispute_event(payment, "created", "evt_d0"))
    db.session.expire_all()
    assert payment_entries(account.id) == -50_000  # contested: no money has moved yet
    assert only_payment(account.id).dispute_status == "needs_response"
    _send(client, _dispute_event(payment, "funds_withdrawn", "evt_d1"),
          _dispute_event(payment, "funds_withdrawn", "evt_d2"))
    db.session.expire_all()
    assert payment_entries(account.id) == 0
    assert only_payment(account.id).status.value == "refunded"
    assert plan.instalments[0].status.value != "paid"


def test_an_inquiry_marks_the_payment_contested_and_reverses_nothing(client, account,
                                                                     paid_instalment):
    # Issue 11, item 9: every dispute, inquiries included, was reversed when it was opened.
    _, payment = paid_instalment
    _send(client, _dispute_event(payment, "created", "evt_i1", status="warning_needs_response"),
          _dispute_event(payment, "closed", "evt_i2", status="warning_closed"))
    db.session.expire_all()
    assert payment_entries(account.id) == -50_000
    assert only_payment(account.id).status.value == "succeeded"
    assert only_payment(account.id).dispute_status == "warning_closed"


def test_a_chargeback_the_issuer_wins_is_posted_again_once(client, account, paid_instalment):
    # Issue 11, item 9: nothing re-posted the payment when the issuer won the dispute.
    plan, payment = paid_instalment
    _send(client, _dispute_event(payment, "created", "evt_w0"),
          _dispute_event(payment, "funds_withdrawn", "evt_w1"),
          _dispute_event(payment, "funds_reinstated", "evt_w2", status="won"),
          _dispute_event(payment, "closed", "evt_w3", status="won"))
    db.session.expire_all()
    assert payment_entries(account.id) == -50_000
    restored = only_payment(account.id)
    assert restored.status.value == "succeeded" and restored.refunded_amount == 0
    assert restored.dispute_status == "won"
    assert plan.instalments[0].status.value == "paid"


def test_a_won_dispute_reported_before_the_withdrawal_moves_no_money(client, account,
                                                                     paid_instalment):
    _, payment = paid_instalment
    _send(client, _dispute_event(payment, "closed", "evt_o1", status="won"),
          _dispute_event(payment, "funds_withdrawn", "evt_o2"))
    db.session.expire_all()
    assert payment_entries(account.id) == -50_000


def test_a_lost_dispute_keeps_the_reversal_even_without_the_withdrawal_event(client, account,
                                                                             paid_instalment):
    _, payment = paid_instalment
    _send(client, _dispute_event(payment, "closed", "evt_l1", status="lost"))
    db.session.expire_all()
    assert payment_entries(account.id) == 0


def test_a_reinstated_payment_can_still_be_refunded_in_full(client, account, paid_instalment):
    _, payment = paid_instalment
    _send(client, _dispute_event(payment, "funds_withdrawn", "evt_f1"),
          _dispute_event(payment, "funds_reinstated", "evt_f2", status="won"),
          {"id": "evt_f3", "type": "charge.refunded", "data": {"object": {
              "id": "ch_1", "object": "charge", "payment_intent": payment.provider_ref,
              "amount_refunded": 50_000, "refunds": {"object": "list", "has_more": False,
                                                     "data": [{"id": "re_all", "amount": 50_000,
                                                               "status": "succeeded"}]}}}})
    db.session.expire_all()
    assert payment_entries(account.id) == 0
    assert only_payment(account.id).status.value == "refunded"


def test_charge_refunded_at_the_provider_is_posted(client, account):
    payment = _paid(client, account)
    event = {"id": "evt_r1", "type": "charge.refunded", "data": {"object": {
        "id": "ch_1", "object": "charge", "payment_intent": payment.provider_ref,
        "amount_refunded": 10_000, "refunds": {"object": "list", "has_more": False, "data": [
            {"id": "re_dashboard", "amount": 10_000, "status": "succeeded"}]}}}}
    payload, headers = signed_event(event)
    client.post("/webhooks/payments", data=payload, headers=headers)
    assert payment_entries(account.id) == -40_000


def _save_card(client, account, number="4242424242424242"):
    page = client.get(f"/accounts/{account.id}/autopay").get_data(as_text=True)
    tokens = form_tokens(page)
    return client.post(f"/accounts/{account.id}/autopay", data={
        "csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"], "card_number": number,
        "expiry": "12/30", "cvc": "123", "consent": "y"})


def test_autopay_needs_consent_and_charges_the_due_instalment_once(client, account, outbox):
    make_active_plan(account, [30_000, 30_000], today_for(account))
    page = client.get(f"/accounts/{account.id}/autopay").get_data(as_text=True)
    tokens = form_tokens(page)
    refused = client.post(f"/accounts/{account.id}/autopay", data={
        "csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"],
        "card_number": "4242424242424242", "expiry": "12/30", "cvc": "123"})
    assert refused.status_code == 422
    _save_card(client, account)
    mandate = db.session.scalar(select(AutopayMandate))
    assert mandate.active and "charge the card" in mandate.consent_text
    assert autopay.run_autopay() == {"succeeded": 1}
    assert autopay.run_autopay() == {}  # the instalment is paid; nothing more to charge
    assert payment_entries(account.id) == -30_000


def test_autopay_decline_tells_the_cardholder_and_retries_on_schedule(client, account, outbox):
    make_active_plan(account, [30_000], today_for(account))
    _save_card(client, account, "4000000000000341")
    assert autopay.run_autopay() == {"failed": 1}
    assert autopay.run_autopay() == {"already": 1}
    assert any("did not go through" in m["body"] for m in outbox())
    due = today_for(account)
    retry_day = datetime.combine(due + timedelta(days=2), datetime.min.time(),
                                 tzinfo=timezone.utc) + timedelta(hours=4)
    assert autopay.run_autopay(now=retry_day) == {"failed": 1}
    assert payment_entries(account.id) == 0


def test_autopay_needing_authentication_sends_a_link(client, account, outbox):
    make_active_plan(account, [30_000], today_for(account))
    _save_card(client, account, "4000002760003184")
    assert autopay.run_autopay() == {"requires_action": 1}
    payment = only_payment(account.id)
    assert any(f"/payments/{payment.id}" in m["body"] for m in outbox())


def test_autopay_can_be_turned_off(client, account):
    make_active_plan(account, [30_000], today_for(account))
    _save_card(client, account)
    page = client.get(f"/accounts/{account.id}/autopay").get_data(as_text=True)
    client.post(f"/accounts/{account.id}/autopay/off",
                data={"csrf_token": form_tokens(page)["csrf_token"]})
    assert db.session.scalar(select(AutopayMandate)).active is False
    assert autopay.run_autopay() == {}
