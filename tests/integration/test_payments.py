"""Paying with the sandbox provider: choices, idempotency, posting, return page, receipts."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.balances.services import balance_of
from portal.extensions import db
from portal.payments.models import Payment
from tests.integration.payment_helpers import (form_tokens, only_payment, pay_with_card,
                                               payment_entries, start_payment)
from tests.pdf_reading import not_embedded, pdf_text


@pytest.fixture()
def holder_account(make_account, login_as, client):
    account = make_account(principal=400_000, interest=20_000, fees=10_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, account.cardholder)
    return account


def test_paying_the_overdue_amount_posts_fees_then_interest_then_principal(client, holder_account):
    data, response = start_payment(client, holder_account, "overdue")
    assert response.status_code == 302
    payment = only_payment(holder_account.id)
    assert payment.amount == 50_000 and payment.status.value == "created"
    response = pay_with_card(client, payment.id)
    assert response.status_code == 302
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "has been received and applied" in page
    payment = only_payment(holder_account.id)
    assert payment.allocation == {"fee": 10_000, "interest": 20_000, "principal": 20_000,
                                  "unapplied": 0}
    assert payment_entries(holder_account.id) == -50_000
    assert balance_of(holder_account).overdue == 0
    assert payment.receipt_number


def test_double_submit_of_one_page_creates_one_payment_and_one_charge(client, holder_account):
    data, first = start_payment(client, holder_account, "full")
    second = client.post(f"/accounts/{holder_account.id}/pay", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    payment = only_payment(holder_account.id)
    pay_with_card(client, payment.id)
    # paying again on the same intent (back button, resubmit) charges nothing more
    pay_with_card(client, payment.id)
    assert payment_entries(holder_account.id) == -430_000
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_declined_card_posts_nothing_and_says_why(client, holder_account):
    start_payment(client, holder_account, "overdue")
    payment = only_payment(holder_account.id)
    pay_with_card(client, payment.id, "4000000000009995")
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "not enough money available" in page
    assert "has been received" not in page
    assert payment_entries(holder_account.id) == 0


def test_authentication_step_passed_posts_and_failed_posts_nothing(client, holder_account):
    start_payment(client, holder_account, "other", "100.00")
    payment = only_payment(holder_account.id)
    response = pay_with_card(client, payment.id, "4000002760003184")
    assert response.headers["Location"].endswith("/sandbox/authenticate")
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "needs you to confirm" in page and payment_entries(holder_account.id) == 0
    auth = client.get(f"/payments/{payment.id}/sandbox/authenticate").get_data(as_text=True)
    client.post(f"/payments/{payment.id}/sandbox/authenticate",
                data={"csrf_token": form_tokens(auth)["csrf_token"], "decline": "1"})
    assert only_payment(holder_account.id).status.value == "failed"
    assert payment_entries(holder_account.id) == 0


def test_other_amount_outside_the_bounds_is_refused_and_nothing_is_created(client, holder_account):
    _, response = start_payment(client, holder_account, "other", "9999999.00")
    assert response.status_code == 422
    assert "within the limits" in response.get_data(as_text=True)
    _, response = start_payment(client, holder_account, "other", "1.00")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_tampered_nonce_or_currency_is_refused(client, holder_account):
    data, _ = start_payment(client, holder_account, "overdue")
    db.session.execute(Payment.__table__.delete())
    db.session.commit()
    # A character of the signature changed (not the last: its low bits are base64 padding,
    # and "xx" in place of the last two was the same signature about once in a thousand runs).
    nonce = data["nonce"]
    bad = dict(data, nonce=nonce[:-2] + ("A" if nonce[-2] != "A" else "B") + nonce[-1])
    assert client.post(f"/accounts/{holder_account.id}/pay", data=bad).status_code == 422
    page = client.get(f"/accounts/{holder_account.id}/pay").get_data(as_text=True)
    wrong = dict(data, nonce=form_tokens(page)["nonce"], currency="USD")
    assert client.post(f"/accounts/{holder_account.id}/pay", data=wrong).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_receipt_in_html_and_pdf(client, holder_account):
    start_payment(client, holder_account, "overdue")
    payment = only_payment(holder_account.id)
    pay_with_card(client, payment.id)
    html = client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True)
    assert payment.receipt_number in html and "Applied to fees" in html
    pdf = client.get(f"/payments/{payment.id}/receipt.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_receipt_pdf_in_chinese(client, holder_account, embedded_fonts):
    client.set_cookie("portal_locale", "zh_Hans")
    start_payment(client, holder_account, "overdue")
    payment = only_payment(holder_account.id)
    pay_with_card(client, payment.id)
    pdf = client.get(f"/payments/{payment.id}/receipt.pdf")
    assert pdf.status_code == 200 and not_embedded(pdf.data) == []
    assert "还款收据" in pdf_text(pdf.data)


def test_confirmation_goes_to_the_outbox(client, holder_account, outbox):
    start_payment(client, holder_account, "overdue")
    payment = only_payment(holder_account.id)
    pay_with_card(client, payment.id)
    messages = [m for m in outbox() if payment.receipt_number in m["body"]]
    assert len(messages) == 1


def test_another_cardholders_payment_and_account_are_404(client, holder_account, make_account,
                                                         login_as, app):
    start_payment(client, holder_account, "overdue")
    payment = only_payment(holder_account.id)
    other = make_account()
    intruder = app.test_client()
    login_as(intruder, other.cardholder)
    for path in (f"/accounts/{holder_account.id}/pay", f"/payments/{payment.id}",
                 f"/payments/{payment.id}/checkout", f"/payments/{payment.id}/receipt",
                 f"/accounts/{holder_account.id}/autopay"):
        assert intruder.get(path).status_code == 404, path


def test_anonymous_and_staff_cannot_use_cardholder_payment_pages(app, db, holder_account,
                                                                 make_staff, login_as):
    anonymous = app.test_client()
    assert anonymous.get(f"/accounts/{holder_account.id}/pay").status_code == 302
    staff = app.test_client()
    login_as(staff, make_staff("collections_manager"))
    assert staff.get(f"/accounts/{holder_account.id}/pay").status_code == 403


def test_provider_time_out_leaves_nothing_posted_and_retry_uses_the_same_key(
        client, holder_account, app, monkeypatch):
    from portal.payments.gateway import ProviderUnavailable
    from portal.payments.sandbox import SandboxGateway

    keys = []
    real = SandboxGateway.create_payment_intent

    def flaky(self, **kwargs):
        keys.append(kwargs["key"])
        if len(keys) == 1:
            raise ProviderUnavailable("timed out")
        return real(self, **kwargs)

    monkeypatch.setattr(SandboxGateway, "create_payment_intent", flaky)
    start_payment(client, holder_account, "overdue")
    payment = only_payment(holder_account.id)
    response = client.get(f"/payments/{payment.id}/checkout")
    assert response.status_code == 503
    assert "Nothing has been charged" in response.get_data(as_text=True)
    assert client.get(f"/payments/{payment.id}/checkout").status_code == 200
    assert keys[0] == keys[1] == payment.idempotency_key
    assert payment_entries(holder_account.id) == 0
