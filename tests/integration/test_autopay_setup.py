"""Autopay is turned on only with the setup intent the portal made for this account."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db
from portal.payments import autopay
from portal.payments.models import AutopayMandate
from portal.payments.sandbox import SandboxGateway
from tests.integration.payment_helpers import form_tokens, make_active_plan


@pytest.fixture()
def two_holders(app, make_account, login_as):
    clients = []
    for _ in range(2):
        account = make_account(principal=400_000, minimum_due=50_000)
        make_active_plan(account, [30_000, 30_000], today_for(account))
        client = app.test_client()
        login_as(client, account.cardholder)
        clients.append((client, account))
    return clients


def _save_card(client, account):
    tokens = form_tokens(client.get(f"/accounts/{account.id}/autopay").get_data(as_text=True))
    client.post(f"/accounts/{account.id}/autopay", data={
        "csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"],
        "card_number": "4242424242424242", "expiry": "12/30", "cvc": "123", "consent": "y"})
    return db.session.scalar(select(AutopayMandate).where(AutopayMandate.account_id == account.id))


def test_another_cardholders_setup_intent_does_not_turn_autopay_on(two_holders):
    (a_client, a_account), (b_client, b_account) = two_holders
    autopay.start_setup(a_account, "a-nonce")  # A began saving a card and went to the provider
    db.session.commit()
    b_mandate = _save_card(b_client, b_account)
    assert b_mandate.active
    a_client.get(f"/accounts/{a_account.id}/autopay/return?setup_intent={b_mandate.setup_ref}")
    db.session.expire_all()
    a_mandate = db.session.scalar(select(AutopayMandate).where(
        AutopayMandate.account_id == a_account.id))
    assert not a_mandate.active and a_mandate.payment_method_ref is None


def test_only_the_setup_intent_started_last_is_accepted(two_holders):
    (client, account), _other = two_holders
    gateway = SandboxGateway()
    first = autopay.start_setup(account, "first")
    gateway.confirm_setup_with_card(first.ref, "4242424242424242")
    second = autopay.start_setup(account, "second")
    db.session.commit()
    assert autopay.complete_setup(account, first.ref, "consent") is None
    gateway.confirm_setup_with_card(second.ref, "4242424242424242")
    assert autopay.complete_setup(account, second.ref, "consent").active
