"""One amount owed is paid once: while a payment is open, another that would pay the same money
again is refused and names it; the cardholder can cancel the old one and start afresh."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from portal.extensions import db
from portal.payments.models import Payment, SandboxIntent
from portal.payments.states import PaymentStatus
from tests.integration.journal_helpers import pay
from tests.integration.payment_helpers import form_tokens, start_payment
from tests.integration.payment_helpers import account  # noqa: F401  (fixtures)


def _payments(account) -> list[Payment]:
    db.session.expire_all()
    return db.session.scalars(select(Payment).where(Payment.account_id == account.id)
                              .order_by(Payment.id)).all()


def _open_in_first_tab(client, account, choice="full", other=""):
    _, response = start_payment(client, account, choice, other)
    assert response.status_code == 302
    payment = _payments(account)[-1]
    client.get(f"/payments/{payment.id}/checkout")  # the intent exists: the card form is shown
    return payment


def test_a_second_tab_cannot_pay_the_full_balance_while_the_first_payment_is_open(client,
                                                                                    account):
    # Issue 11, item 5: two tabs each opened "The full balance" and both were charged in full.
    first = _open_in_first_tab(client, account)
    _, second = start_payment(client, account, "full")
    assert second.status_code == 422
    page = second.get_data(as_text=True)
    assert "has not finished yet" in page and "4,300.00" in page  # names the one in flight
    assert [p.id for p in _payments(account)] == [first.id]


def test_an_overdue_amount_already_covered_by_an_open_payment_is_refused(client, account):
    _open_in_first_tab(client, account, "other", "500.00")  # as much as is overdue
    _, response = start_payment(client, account, "overdue")
    assert response.status_code == 422 and "has not finished yet" in response.get_data(as_text=True)
    assert len(_payments(account)) == 1


def test_a_further_amount_within_what_is_still_owed_may_be_paid_beside_one_in_flight(client,
                                                                                     account):
    _open_in_first_tab(client, account, "overdue")
    _, response = start_payment(client, account, "other", "100.00")
    assert response.status_code == 302
    assert [p.amount for p in _payments(account)] == [50_000, 10_000]


def test_cancelling_the_open_payment_stops_it_at_the_provider_and_frees_a_new_one(client,
                                                                                  account):
    first = _open_in_first_tab(client, account)
    token = form_tokens(client.get(f"/payments/{first.id}").get_data(as_text=True))["csrf_token"]
    response = client.post(f"/payments/{first.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 302
    assert _payments(account)[0].status == PaymentStatus.CANCELED
    assert db.session.get(SandboxIntent, first.provider_ref).status == "canceled"  # old tab: no
    _, again = start_payment(client, account, "full")
    assert again.status_code == 302 and len(_payments(account)) == 2


def test_a_payment_that_took_money_cannot_be_cancelled(client, account):
    first = _open_in_first_tab(client, account)
    db.session.get(SandboxIntent, first.provider_ref).status = "succeeded"
    db.session.commit()
    token = form_tokens(client.get(f"/payments/{first.id}").get_data(as_text=True))["csrf_token"]
    client.post(f"/payments/{first.id}/cancel", data={"csrf_token": token})
    assert _payments(account)[0].status == PaymentStatus.SUCCEEDED


def test_cancelling_without_the_form_token_changes_nothing(client, account):
    first = _open_in_first_tab(client, account)
    assert client.post(f"/payments/{first.id}/cancel").status_code == 400
    assert _payments(account)[0].status == PaymentStatus.CREATED
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_payment_that_would_now_pay_more_than_is_owed_is_not_charged(client, account):
    # Issue 11, item 5: at card submission the amount is capped at what is still owed, and the
    # cardholder confirms the new amount before anything is charged.
    first = _open_in_first_tab(client, account)  # the full balance, 4,300.00
    page = client.get(f"/payments/{first.id}/checkout").get_data(as_text=True)
    token = form_tokens(page)["csrf_token"]
    pay(account, 50_000, "paid-by-phone", datetime(2026, 11, 28, 1, tzinfo=timezone.utc))
    response = client.post(f"/payments/{first.id}/sandbox/card", data={
        "csrf_token": token, "card_number": "4242424242424242", "expiry": "12/30", "cvc": "123"})
    assert response.status_code == 302 and response.location.endswith(f"/accounts/{account.id}/pay")
    assert db.session.get(SandboxIntent, first.provider_ref).status == "canceled"
    assert _payments(account)[0].status == PaymentStatus.CANCELED
    shown = client.get(response.location).get_data(as_text=True)
    assert "Your balance has changed since you started this payment" in shown
    assert "3,800.00 is owed now" in shown


def test_the_checkout_page_of_a_payment_for_more_than_is_owed_sends_the_cardholder_back(
        client, account):
    _, response = start_payment(client, account, "full")
    first = _payments(account)[0]
    pay(account, 50_000, "paid-by-phone", datetime(2026, 11, 28, 1, tzinfo=timezone.utc))
    response = client.get(f"/payments/{first.id}/checkout")
    assert response.status_code == 302 and _payments(account)[0].status == PaymentStatus.CANCELED
