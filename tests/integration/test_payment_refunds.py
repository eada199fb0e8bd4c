"""Refunds are posted once, whoever reports them first (the staff page or the provider's
charge.refunded webhook), and a retry after a time-out never refunds the card twice."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.payments.gateway import ProviderUnavailable
from portal.payments.models import PaymentReversal, SandboxIntent, WebhookEvent
from portal.payments.sandbox import SandboxGateway
from portal.payments.states import PaymentStatus
from tests.integration.payment_helpers import (form_tokens, intent_event, only_payment,
                                               pay_with_card, payment_entries, signed_event,
                                               start_payment)
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)


@pytest.fixture()
def paid(client, account):
    start_payment(client, account, "overdue")
    pay_with_card(client, only_payment(account.id).id)
    return only_payment(account.id)


@pytest.fixture()
def manager(app, make_staff, login_as):
    staff = app.test_client()
    login_as(staff, make_staff("collections_manager"))
    return staff


def _refund_form(staff, payment, amount="100.00"):
    tokens = form_tokens(staff.get(f"/staff/payments/{payment.id}").get_data(as_text=True))
    return {"csrf_token": tokens["csrf_token"], "request_key": tokens["request_key"],
            "amount": amount, "reason": "paid twice"}


def _refunded_event(payment, refunds, event_id="evt_r1"):
    return {"id": event_id, "type": "charge.refunded", "data": {"object": {
        "id": "ch_1", "object": "charge", "payment_intent": payment.provider_ref,
        "amount_refunded": sum(a for _, a in refunds),
        "refunds": {"object": "list", "has_more": False,
                    "data": [{"id": r, "amount": a, "status": "succeeded"} for r, a in refunds]}}}}


def _deliver(client, event):
    payload, headers = signed_event(event)
    return client.post("/webhooks/payments", data=payload, headers=headers)


class TimesOutOnce(SandboxGateway):
    """The provider makes the refund but its answer is lost the first time."""

    calls: list

    def refund(self, *, intent_ref, amount, key):
        refund_id = super().refund(intent_ref=intent_ref, amount=amount, key=key)
        self.calls.append(key)
        if len(self.calls) == 1:
            db.session.commit()  # the provider's own records outlive our rollback
            raise ProviderUnavailable("read timed out")
        return refund_id


@pytest.fixture()
def flaky(app):
    gateway = TimesOutOnce()
    gateway.calls = []
    app.extensions["payment_gateway"] = gateway
    yield gateway
    app.extensions.pop("payment_gateway", None)


def _provider_refunded(payment) -> int:
    db.session.expire_all()
    return db.session.get(SandboxIntent, payment.provider_ref).refunded


def test_time_out_then_webhook_then_retry_posts_the_refund_once(client, paid, manager, flaky):
    data = _refund_form(manager, paid)
    page = manager.post(f"/staff/payments/{paid.id}/refund", data=data, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "do not know yet whether the refund was made" in text
    assert "Nothing was refunded" not in text
    assert payment_entries(paid.account_id) == -50_000
    refund_id = SandboxGateway().list_refunds(paid.provider_ref)[0]["id"]
    _deliver(client, _refunded_event(paid, [(refund_id, 10_000)]))
    assert payment_entries(paid.account_id) == -40_000
    manager.post(f"/staff/payments/{paid.id}/refund", data=data)  # the same form sent again
    assert payment_entries(paid.account_id) == -40_000
    assert _provider_refunded(paid) == 10_000
    assert flaky.calls[0] == flaky.calls[1]


def test_retry_from_a_reloaded_page_reuses_the_key_and_refunds_once(paid, manager, flaky):
    manager.post(f"/staff/payments/{paid.id}/refund", data=_refund_form(manager, paid))
    manager.post(f"/staff/payments/{paid.id}/refund", data=_refund_form(manager, paid))
    assert _provider_refunded(paid) == 10_000
    assert payment_entries(paid.account_id) == -40_000
    assert only_payment(paid.account_id).refunded_amount == 10_000


def test_webhook_after_the_staff_refund_posts_nothing_more(client, paid, manager):
    manager.post(f"/staff/payments/{paid.id}/refund", data=_refund_form(manager, paid))
    refund_id = db.session.scalar(select(PaymentReversal.external_ref))
    _deliver(client, _refunded_event(paid, [(refund_id, 10_000)]))
    assert payment_entries(paid.account_id) == -40_000


def test_two_refunds_are_each_posted_by_their_own_id(client, paid, manager):
    manager.post(f"/staff/payments/{paid.id}/refund", data=_refund_form(manager, paid))
    manager.post(f"/staff/payments/{paid.id}/refund", data=_refund_form(manager, paid, "50.00"))
    ids = [r["id"] for r in SandboxGateway().list_refunds(paid.provider_ref)]
    _deliver(client, _refunded_event(paid, [(ids[0], 10_000), (ids[1], 5_000),
                                            ("re_dashboard", 2_000)]))
    _deliver(client, _refunded_event(paid, [(ids[0], 10_000), (ids[1], 5_000),
                                            ("re_dashboard", 2_000)], event_id="evt_r2"))
    assert payment_entries(paid.account_id) == -33_000
    assert db.session.scalar(select(func.count()).select_from(PaymentReversal)) == 3


def test_form_opened_before_a_refund_was_made_refunds_nothing(paid, manager):
    stale = _refund_form(manager, paid)
    manager.post(f"/staff/payments/{paid.id}/refund", data=stale)
    again = manager.post(f"/staff/payments/{paid.id}/refund", data=stale, follow_redirects=True)
    assert "after this page was opened" in again.get_data(as_text=True)
    assert _provider_refunded(paid) == 10_000


def test_charge_refunded_without_the_list_asks_the_provider(client, paid):
    refund_id = SandboxGateway().refund(intent_ref=paid.provider_ref, amount=10_000, key="dash")
    db.session.commit()
    _deliver(client, {"id": "evt_r1", "type": "charge.refunded", "data": {"object": {
        "id": "ch_1", "object": "charge", "payment_intent": paid.provider_ref,
        "amount_refunded": 10_000}}})
    assert payment_entries(paid.account_id) == -40_000
    assert db.session.scalar(select(PaymentReversal.external_ref)) == refund_id


def test_a_refund_reported_before_the_payments_success_posts_both(client, started):
    # Issue 11, item 8: the provider's refund event overtook its success event; the refund was
    # marked processed and dropped, and the success posted later without it.
    db.session.get(SandboxIntent, started.provider_ref).status = "succeeded"
    db.session.commit()
    response = _deliver(client, _refunded_event(started, [("re_early", 10_000)]))
    assert response.status_code == 200
    payment = only_payment(started.account_id)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.refunded_amount == 10_000
    assert payment_entries(started.account_id) == -40_000
    payload, headers = signed_event(intent_event(started, event_id="evt_success_late"))
    assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 200
    assert payment_entries(started.account_id) == -40_000  # the success is not posted twice


def test_a_refund_whose_payment_the_provider_cannot_confirm_yet_is_retried_later(client, started):
    response = _deliver(client, _refunded_event(started, [("re_early", 10_000)], "evt_r9"))
    assert response.status_code == 503  # the provider retries; nothing kept, nothing posted
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert db.session.scalar(select(func.count()).select_from(PaymentReversal)) == 0
    db.session.get(SandboxIntent, started.provider_ref).status = "succeeded"
    db.session.commit()
    again = _deliver(client, _refunded_event(started, [("re_early", 10_000)], "evt_r9"))
    assert again.status_code == 200 and again.json["outcome"] == "processed", again.json
    assert payment_entries(started.account_id) == -40_000
