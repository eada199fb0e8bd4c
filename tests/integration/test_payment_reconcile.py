"""Reconciliation gives up on an abandoned payment only after the provider cancelled its
intent, and money the provider reports after we gave up is still posted."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.balances.services import today_for
from portal.extensions import db
from portal.payments import reconcile as reconcile_mod
from portal.payments.models import Payment, SandboxIntent
from portal.payments.sandbox import SandboxGateway
from portal.payments.states import PaymentStatus
from tests.clock import BASE
from tests.integration.payment_helpers import (intent_event, only_payment, pay_with_card,
                                               payment_entries, signed_event, start_payment)
from tests.integration.payment_helpers import account, started  # noqa: F401  (fixtures)

MUCH_LATER = BASE + timedelta(days=2)


def _provider_status(payment) -> str:
    db.session.expire_all()
    return db.session.get(SandboxIntent, payment.provider_ref).status


def test_abandoned_payment_is_cancelled_at_the_provider_so_no_money_can_come_later(client, started):
    assert reconcile_mod.reconcile(now=MUCH_LATER)["canceled"] == 1
    assert _provider_status(started) == "canceled"
    pay_with_card(client, started.id)  # the cardholder's old tab
    assert _provider_status(started) == "canceled"
    assert only_payment(started.account_id).status == PaymentStatus.CANCELED
    assert payment_entries(started.account_id) == 0


class SucceedsWhileCancelling(SandboxGateway):
    """The cardholder pays in the moment between our look-up and our cancel."""

    def cancel_payment_intent(self, ref):
        db.session.get(SandboxIntent, ref).status = "succeeded"
        return super().cancel_payment_intent(ref)


def test_payment_that_succeeds_as_we_give_up_is_posted_not_cancelled(app, started):
    app.extensions["payment_gateway"] = SucceedsWhileCancelling()
    try:
        assert reconcile_mod.reconcile(now=MUCH_LATER)["posted"] == 1
    finally:
        app.extensions.pop("payment_gateway", None)
    assert only_payment(started.account_id).status == PaymentStatus.SUCCEEDED
    assert payment_entries(started.account_id) == -50_000


def test_success_reported_after_a_payment_was_cancelled_here_is_posted_and_audited(client, started):
    started = db.session.get(Payment, started.id)
    started.status = PaymentStatus.CANCELED  # as the old reconciliation left such payments
    db.session.commit()
    db.session.get(SandboxIntent, started.provider_ref).status = "succeeded"
    db.session.commit()
    payload, headers = signed_event(intent_event(started, event_id="evt_late"))
    assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 200
    assert payment_entries(started.account_id) == -50_000
    assert only_payment(started.account_id).status == PaymentStatus.SUCCEEDED
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payment.succeeded_after_cancel")) == 1


def test_payment_the_provider_never_heard_of_is_cancelled_here_without_making_an_intent(
        client, account):
    start_payment(client, account, "overdue")  # no checkout: no intent at the provider
    payment = only_payment(account.id)
    assert payment.provider_ref is None
    assert reconcile_mod.reconcile(now=MUCH_LATER)["canceled"] == 1
    assert only_payment(account.id).status == PaymentStatus.CANCELED
    assert db.session.scalar(select(func.count()).select_from(SandboxIntent)) == 0


def test_a_declined_payment_that_later_succeeds_on_the_same_intent_is_posted(client, started):
    # Issue 11, item 7: the card is declined, the cardholder tries again on the same intent and
    # it succeeds, but that webhook is lost. Reconciliation looked only at open payments.
    db.session.get(SandboxIntent, started.provider_ref).status = "requires_payment_method"
    db.session.commit()
    payload, headers = signed_event(intent_event(
        started, kind="payment_intent.payment_failed", event_id="evt_declined",
        status="requires_payment_method", error={"code": "card_declined"}))
    assert client.post("/webhooks/payments", data=payload, headers=headers).status_code == 200
    assert only_payment(started.account_id).status == PaymentStatus.FAILED
    db.session.get(SandboxIntent, started.provider_ref).status = "succeeded"
    db.session.commit()
    assert reconcile_mod.reconcile(now=BASE + timedelta(hours=1))["posted"] == 1
    assert only_payment(started.account_id).status == PaymentStatus.SUCCEEDED
    assert payment_entries(started.account_id) == -50_000


def test_a_declined_payment_is_given_up_on_and_its_intent_cancelled_after_the_abandon_time(
        started):
    db.session.get(Payment, started.id).status = PaymentStatus.FAILED
    db.session.get(SandboxIntent, started.provider_ref).status = "requires_payment_method"
    db.session.commit()
    assert reconcile_mod.reconcile(now=BASE + timedelta(hours=1))["unchanged"] == 1
    assert reconcile_mod.reconcile(now=MUCH_LATER)["canceled"] == 1
    assert _provider_status(started) == "canceled"
    assert only_payment(started.account_id).status == PaymentStatus.CANCELED




def test_a_success_whose_webhook_was_lost_is_dated_the_day_the_provider_took_the_money(
        started, clock):
    # Found by the money machine's oracle: reconciliation posted a success it found days later
    # with that later day's date (the sandbox kept no success time), so the late fee and
    # penalty interest charged in between stood, though the cardholder had paid.
    paid_day = today_for(started.account)
    SandboxGateway().confirm_with_card(started.provider_ref, "4242424242424242")
    db.session.commit()  # the success event it emits is never delivered
    clock.shift(timedelta(days=3))
    assert reconcile_mod.reconcile(older_than_minutes=0)["posted"] == 1
    payment = only_payment(started.account_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.paid_on == paid_day
