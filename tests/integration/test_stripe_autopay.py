"""The app's own autopay against a local Stripe peer (localstripe): saving a card through
`start_setup`/`complete_setup` and the daily `run_autopay` charging it off-session."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db
from portal.payments import autopay
from portal.payments.gateway import get_gateway
from portal.payments.models import AutopayMandate, Payment
from tests.integration import test_stripe_peer as peer
from tests.integration.payment_helpers import make_active_plan, only_payment, payment_entries

pytestmark = pytest.mark.stripe_peer
# The peer fixtures (localstripe on loopback, the app configured for it), used here too.
stripe_peer, stripe_app = peer.stripe_peer, peer.stripe_app
CONSENT = "I allow the card issuer to charge the card I save here for each instalment ..."


def _save_card(app, account, number, nonce="n1"):
    """What the Stripe setup page does: start_setup, the Payment Element confirming the setup
    intent with the card (here: the peer's API), and the return page's complete_setup."""
    intent = autopay.start_setup(account, nonce)
    db.session.commit()
    assert intent.ref.startswith("seti_") and intent.client_secret
    get_gateway().client.v1.setup_intents.confirm(intent.ref, params={
        "payment_method": peer._card(app.config["STRIPE_API_BASE"], number)})
    mandate = autopay.complete_setup(account, intent.ref, CONSENT)
    db.session.commit()
    return mandate


@pytest.fixture()
def due_today(stripe_app, make_account):
    account = make_account(principal=400_000, minimum_due=50_000)
    plan = make_active_plan(account, [30_000, 30_000], today_for(account))
    return account, plan


def test_a_card_saved_through_the_peer_is_charged_for_the_instalment_due_today_once(
        stripe_app, due_today):
    account, plan = due_today
    mandate = _save_card(stripe_app, account, "4242424242424242")
    assert mandate is not None and mandate.active
    assert mandate.provider == "stripe" and mandate.customer_ref.startswith("cus_")
    assert mandate.payment_method_ref.startswith("pm_") and mandate.consent_text == CONSENT

    assert autopay.run_autopay() == {"succeeded": 1}
    payment = only_payment(account.id)
    assert payment.off_session and payment.provider_ref.startswith("pi_")
    assert payment.amount == 30_000 and payment.status.value == "succeeded"
    assert payment_entries(account.id) == -30_000
    db.session.expire_all()
    assert plan.instalments[0].status.value == "paid"
    at_peer = get_gateway().retrieve_payment_intent(payment.provider_ref)
    assert at_peer.status == "succeeded" and at_peer.amount == 30_000
    assert at_peer.metadata["payment_id"] == str(payment.id)

    assert autopay.run_autopay() == {}
    assert payment_entries(account.id) == -30_000


def test_a_card_declined_at_charge_time_fails_posts_nothing_and_tells_the_cardholder(
        stripe_app, due_today, outbox):
    account, _plan = due_today
    assert _save_card(stripe_app, account, "4000000000000341").active  # saves fine
    assert autopay.run_autopay() == {"failed": 1}
    payment = only_payment(account.id)
    assert payment.status.value == "failed" and payment.failure_code == "card_declined"
    assert payment_entries(account.id) == 0
    assert any("did not go through" in m["body"] for m in outbox())
    assert autopay.run_autopay() == {"already": 1}  # not charged again the same day


def test_a_setup_intent_the_peer_did_not_confirm_does_not_turn_autopay_on(stripe_app, due_today):
    account, _plan = due_today
    intent = autopay.start_setup(account, "n1")
    db.session.commit()
    assert autopay.complete_setup(account, intent.ref, CONSENT) is None
    db.session.commit()
    mandate = db.session.scalar(select(AutopayMandate).where(
        AutopayMandate.account_id == account.id))
    assert not mandate.active and mandate.payment_method_ref is None
    assert autopay.run_autopay() == {}
    assert db.session.scalars(select(Payment)).all() == []


def test_another_accounts_setup_intent_is_refused(stripe_app, make_account):
    first, second = make_account(), make_account()
    mine = _save_card(stripe_app, first, "4242424242424242")
    autopay.start_setup(second, "n2")
    db.session.commit()
    assert autopay.complete_setup(second, mine.setup_ref, CONSENT) is None
