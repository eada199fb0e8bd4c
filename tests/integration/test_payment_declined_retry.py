"""A declined payment may still take money: the cardholder (an old tab, the bank's app after
3-D Secure) can confirm the same intent again with another card. So it counts as in flight
wherever one amount owed must be paid once, and a new payment, the cardholder's or autopay's,
first stops it at the provider."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.payments import autopay
from portal.payments.gateway import ProviderUnavailable
from portal.payments.models import Payment, PaymentChoice, SandboxIntent
from portal.payments.recheck import Outcome, recheck_before_confirm
from portal.payments.sandbox import SandboxGateway
from portal.payments.services import more_than_owed
from portal.payments.states import PaymentStatus as S
from tests.integration.payment_helpers import make_active_plan, pay_with_card, start_payment
from tests.integration.payment_helpers import account  # noqa: F401  (fixtures)
from tests.integration.test_autopay_jobs import autopay_on

GOOD, DECLINED = "4242424242424242", "4000000000000002"


def _payments(account) -> list[Payment]:
    db.session.expire_all()
    return db.session.scalars(select(Payment).where(Payment.account_id == account.id)
                              .order_by(Payment.id)).all()


def _declined(client, account, choice="full") -> Payment:
    _, response = start_payment(client, account, choice)
    assert response.status_code == 302, response.get_data(as_text=True)
    payment = _payments(account)[-1]
    pay_with_card(client, payment.id, DECLINED)
    assert _payments(account)[-1].status == S.FAILED
    return _payments(account)[-1]


def _taken(account) -> int:
    return sum(db.session.get(SandboxIntent, p.provider_ref).amount for p in _payments(account)
               if p.provider_ref and db.session.get(SandboxIntent, p.provider_ref).status
               == "succeeded")


def test_two_declined_payments_retried_in_their_own_tabs_take_the_balance_once(
        app, client, account):
    # Found by the money machine (80 examples of 60 steps) on 83bd1a9: the full balance was
    # declined in one tab and again in another; each tab then tried another card on its own
    # intent, the portal hearing of neither success (tab closed, webhook late): CN¥4,300.00
    # was taken twice, as the page's last check did not count a declined payment.
    first = _declined(client, account)
    second = _declined(client, account)
    for payment in (first, second):  # each old tab: the page's last check, then confirm
        with app.test_request_context():
            check = recheck_before_confirm(payment)
            db.session.commit()
        if check.outcome in (Outcome.UNCHANGED, Outcome.CHANGED):
            SandboxGateway().confirm_with_card(payment.provider_ref, GOOD)
            db.session.commit()
    assert _taken(account) <= 430_000
    assert [p.status for p in _payments(account)] == [S.CANCELED, S.FAILED]
    assert db.session.get(SandboxIntent, first.provider_ref).status == "canceled"
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "payment.superseded")) == "payment.superseded"


def test_a_declined_payment_found_to_have_succeeded_is_posted_before_the_new_one_is_priced(
        client, account):
    first = _declined(client, account)
    SandboxGateway().confirm_with_card(first.provider_ref, GOOD)  # the old tab, unheard of
    db.session.commit()
    _, response = start_payment(client, account, "full")
    assert response.status_code == 422  # nothing is owed any more: nothing to pay
    assert [p.status for p in _payments(account)] == [S.SUCCEEDED]
    assert _taken(account) == 430_000


def test_a_provider_that_does_not_answer_opens_nothing_and_says_so(client, account,
                                                                   monkeypatch):
    first = _declined(client, account)

    def unavailable(self, ref):
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(SandboxGateway, "cancel_payment_intent", unavailable)
    _, response = start_payment(client, account, "full")
    assert response.status_code == 503
    assert "The payment service is not answering right now" in response.get_data(as_text=True)
    assert [(p.id, p.status) for p in _payments(account)] == [(first.id, S.FAILED)]


def test_the_last_check_before_a_card_counts_a_declined_payment_beside_it(app, client, account):
    # A payment opened beside another that was declined afterwards: it may only pay what the
    # declined one, confirmed again with another card, would leave owed.
    first = _declined(client, account)  # the full balance
    second = Payment(account_id=account.id, choice=PaymentChoice.OTHER, amount=50_000,
                     currency=account.currency, provider="sandbox", idempotency_key="tab-2")
    db.session.add(second)
    db.session.commit()
    with app.test_request_context():
        assert more_than_owed(db.session.get(Payment, second.id)) == 0
        assert more_than_owed(db.session.get(Payment, first.id)) == 430_000 - 50_000


def test_autopay_stops_a_declined_manual_payment_before_it_charges(make_account, make_cardholder):
    account = make_account(make_cardholder(timezone="Asia/Shanghai"))
    make_active_plan(account, [30_000, 30_000], datetime(2026, 12, 10).date())
    autopay_on(account)
    manual = Payment(account_id=account.id, choice=PaymentChoice.INSTALMENT, amount=30_000,
                     currency=account.currency, provider="sandbox", idempotency_key="tab-1")
    db.session.add(manual)
    db.session.flush()
    intent = SandboxGateway().create_payment_intent(
        amount=30_000, currency=account.currency, key="tab-1", metadata={})
    manual.provider_ref = intent.ref
    SandboxGateway().confirm_with_card(intent.ref, DECLINED)
    manual.status = S.FAILED
    db.session.commit()
    assert autopay.run_autopay(now=datetime(2026, 12, 9, 17, tzinfo=timezone.utc)) == {
        "succeeded": 1}
    assert db.session.get(SandboxIntent, manual.provider_ref).status == "canceled"
    assert [p.status for p in _payments(account)] == [S.CANCELED, S.SUCCEEDED]
    # The old tab tries another card on the manual payment: the provider refuses it now.
    SandboxGateway().confirm_with_card(manual.provider_ref, GOOD)
    assert _taken(account) == 30_000
