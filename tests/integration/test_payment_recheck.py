"""Just before Stripe's Payment Element confirms, the page asks the portal again (issue 11,
item 5): a balance that changed after the page loaded lowers the intent's amount at the provider
(or cancels the payment when nothing is owed), and the cardholder sees the new amount and
confirms again before anything is charged. The sandbox answers like Stripe; the peer tests run
the same through the `stripe` library against localstripe."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.payments.gateway import ProviderUnavailable, get_gateway
from portal.payments.models import Payment, SandboxIntent
from portal.payments.sandbox import SandboxGateway
from portal.payments.states import PaymentStatus
from tests.integration import test_stripe_peer as peer
from tests.integration.journal_helpers import pay
from tests.integration.payment_helpers import account  # noqa: F401  (fixtures)
from tests.integration.payment_helpers import form_tokens, only_payment, start_payment

stripe_peer, stripe_app = peer.stripe_peer, peer.stripe_app


def _open(client, account, choice="full"):
    """A payment whose checkout page is loaded (its intent exists); the page's form token."""
    start_payment(client, account, choice)
    payment = only_payment(account.id)
    page = client.get(f"/payments/{payment.id}/checkout").get_data(as_text=True)
    return only_payment(account.id), form_tokens(page)["csrf_token"]


def _recheck(client, payment, token):
    response = client.post(f"/payments/{payment.id}/recheck", data={"csrf_token": token},
                           headers={"Accept": "application/json"})
    return response.status_code, response.get_json()


def _fresh(payment) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment.id)


def _paid_elsewhere(account, amount, clock):
    pay(account, amount, f"phone-{amount}", clock.now())


def test_an_unchanged_balance_lets_the_page_confirm_as_it_stands(client, account):
    payment, token = _open(client, account)
    assert _recheck(client, payment, token) == (200, {"outcome": "unchanged", "amount": 430_000})
    assert _fresh(payment).amount == 430_000


def test_a_payment_posted_after_the_page_loaded_lowers_the_amount_to_confirm_again(
        client, account, clock):
    payment, token = _open(client, account)  # the full balance, 4,300.00
    _paid_elsewhere(account, 50_000, clock)
    status, answer = _recheck(client, payment, token)
    assert status == 200 and answer["outcome"] == "changed" and answer["amount"] == 380_000
    assert "3,800.00 is owed now" in answer["message"] and "Nothing has been charged" in answer[
        "message"]
    assert "3,800.00" in answer["amount_text"] and "3,800.00" in answer["button"]
    payment = db.session.get(Payment, payment.id)
    assert payment.amount == 380_000 and payment.status == PaymentStatus.CREATED
    assert db.session.get(SandboxIntent, payment.provider_ref).amount == 380_000
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "payment.amount_lowered")).all()
    assert event.before == {"amount": 430_000} and event.after["amount"] == 380_000
    # Pressing the button again: the amount now stands, the page confirms it.
    assert _recheck(client, payment, token) == (200, {"outcome": "unchanged", "amount": 380_000})


def test_when_nothing_is_owed_any_more_the_payment_is_cancelled_before_any_charge(
        client, account, clock):
    payment, token = _open(client, account, "overdue")
    _paid_elsewhere(account, 430_000, clock)
    status, answer = _recheck(client, payment, token)
    assert (status, answer["outcome"]) == (200, "cancelled")
    assert answer["redirect"].endswith(f"/accounts/{account.id}/pay")
    payment = _fresh(payment)
    assert payment.status == PaymentStatus.CANCELED
    assert db.session.get(SandboxIntent, payment.provider_ref).status == "canceled"
    shown = client.get(answer["redirect"]).get_data(as_text=True)
    assert "Your balance has changed since you started this payment" in shown


def test_a_payment_no_longer_waiting_to_be_confirmed_sends_the_page_to_its_status(
        client, account):
    payment, token = _open(client, account)
    db.session.get(SandboxIntent, payment.provider_ref).status = "processing"
    payment.status = PaymentStatus.PROCESSING
    db.session.commit()
    status, answer = _recheck(client, payment, token)
    assert (status, answer["outcome"]) == (200, "closed")
    assert answer["redirect"].endswith(f"/payments/{payment.id}")


def test_without_the_form_token_nothing_changes(client, account, clock):
    payment, _token = _open(client, account)
    _paid_elsewhere(account, 50_000, clock)
    assert client.post(f"/payments/{payment.id}/recheck").status_code == 400
    assert _fresh(payment).amount == 430_000
    assert db.session.get(SandboxIntent, payment.provider_ref).amount == 430_000


def test_a_provider_that_does_not_answer_changes_nothing_and_the_page_does_not_confirm(
        app, client, account, clock, monkeypatch):
    payment, token = _open(client, account)
    _paid_elsewhere(account, 50_000, clock)

    def unavailable(self, ref, amount):
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(SandboxGateway, "change_payment_intent_amount", unavailable)
    status, answer = _recheck(client, payment, token)
    assert status == 503 and answer["outcome"] == "unavailable"
    assert _fresh(payment).amount == 430_000


# -- against the peer (localstripe), through the `stripe` library ----------------------------

@pytest.mark.stripe_peer
def test_at_the_peer_the_intent_amount_is_lowered_and_the_new_amount_is_what_is_charged(
        stripe_app, client, account, clock):
    payment, token = _open(client, account)
    assert payment.provider_ref.startswith("pi_")
    _paid_elsewhere(account, 50_000, clock)
    status, answer = _recheck(client, payment, token)
    assert (status, answer["outcome"], answer["amount"]) == (200, "changed", 380_000)
    gateway = get_gateway()
    assert gateway.retrieve_payment_intent(payment.provider_ref).amount == 380_000
    assert _recheck(client, payment, token)[1]["outcome"] == "unchanged"
    # The cardholder confirms again: 3,800.00 is charged and posted, not 4,300.00.
    card = peer._card(stripe_app.config["STRIPE_API_BASE"], "4242424242424242")
    gateway.client.v1.payment_intents.update(payment.provider_ref,
                                             params={"payment_method": card})
    gateway.client.v1.payment_intents.confirm(payment.provider_ref)
    client.get(f"/payments/{payment.id}")  # the return page asks the provider
    payment = _fresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount == 380_000
    assert peer._payments_posted(account.id) == -430_000  # with the 500.00 paid by phone


@pytest.mark.stripe_peer
def test_at_the_peer_nothing_owed_cancels_the_intent(stripe_app, client, account, clock):
    payment, token = _open(client, account, "overdue")
    _paid_elsewhere(account, 430_000, clock)
    status, answer = _recheck(client, payment, token)
    assert (status, answer["outcome"]) == (200, "cancelled")
    assert get_gateway().retrieve_payment_intent(payment.provider_ref).status == "canceled"
    assert _fresh(payment).status == PaymentStatus.CANCELED
