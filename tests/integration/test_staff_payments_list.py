"""/staff/payments: collectors and managers list and filter payments; the page is read-only
and costs the same number of queries for 3 or 30 payments."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portal.extensions import db as _db
from portal.payments.models import Payment, PaymentChoice
from portal.payments.states import PaymentStatus
from tests.helpers import statements_for

STARTED = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)


def _payment(account, n, status=PaymentStatus.SUCCEEDED, created=STARTED, amount=10_000):
    payment = Payment(account_id=account.id, choice=PaymentChoice.OTHER, amount=amount,
                      currency=account.currency, provider="sandbox", idempotency_key=f"k{n}",
                      status=status, created_at=created,
                      receipt_number=f"R-{n}" if status == PaymentStatus.SUCCEEDED else None)
    _db.session.add(payment)
    return payment


@pytest.fixture()
def payments(make_account):
    first = make_account(account_number="6200000000101")
    second = make_account(account_number="6200000000202")
    _payment(first, 1, amount=12_345)
    _payment(first, 2, PaymentStatus.FAILED, datetime(2026, 11, 10, 3, tzinfo=timezone.utc))
    _payment(second, 3, PaymentStatus.PROCESSING, datetime(2026, 11, 25, 3, tzinfo=timezone.utc))
    _db.session.commit()
    return first, second


def _page(client, query=""):
    response = client.get(f"/staff/payments{query}")
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("role", ("collector", "collections_manager"))
def test_collectors_and_managers_see_the_list(client, login_as, make_staff, payments, role):
    login_as(client, make_staff(role))
    status, page = _page(client)
    assert status == 200
    assert "6200000000101" in page and "6200000000202" in page
    assert "CN¥123.45" in page and "<td>Posted</td>" in page and "<td>Failed</td>" in page
    assert "/refund" not in page  # read-only: refunds live on the detail page


@pytest.mark.parametrize("role", ("customer_service", "risk", "legal", "admin"))
def test_other_staff_roles_are_refused(client, login_as, make_staff, role):
    login_as(client, make_staff(role))
    assert client.get("/staff/payments").status_code == 403


def test_anonymous_is_sent_to_staff_sign_in_and_cardholders_are_refused(client, login_as,
                                                                         make_cardholder):
    response = client.get("/staff/payments")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    login_as(client, make_cardholder())
    assert client.get("/staff/payments").status_code == 403


def test_collector_can_open_a_payment_but_not_refund_it(client, login_as, make_staff, payments):
    login_as(client, make_staff("collector"))
    payment = _db.session.scalars(_db.select(Payment).where(Payment.receipt_number == "R-1")).one()
    page = client.get(f"/staff/payments/{payment.id}").get_data(as_text=True)
    assert "Refund" not in page
    assert "<dd>Posted</dd>" in page and "succeeded" not in page  # the status in words
    assert client.post(f"/staff/payments/{payment.id}/refund").status_code in (400, 403)


def test_filters_by_status_dates_and_account_number(client, login_as, make_staff, payments):
    login_as(client, make_staff("collections_manager"))
    _, page = _page(client, "?status=failed")
    assert "<td>Failed</td>" in page and "R-1" not in page and "6200000000202" not in page
    _, page = _page(client, "?date_from=2026-11-15&date_to=2026-11-21")
    assert "R-1" in page and "<td>Failed</td>" not in page and "6200000000202" not in page
    _, page = _page(client, "?account=6200%200000%2000202")
    assert "6200000000202" in page and "6200000000101" not in page
    _, page = _page(client, "?account=6299999999999")
    assert "No payments match." in page


def test_bad_filters_are_explained_and_nothing_is_listed(client, login_as, make_staff, payments):
    login_as(client, make_staff("collector"))
    status, page = _page(client, "?date_from=2026-11-21&date_to=2026-11-01&account=abc")
    assert status == 422
    assert "The end date must not be before the start date." in page
    assert "Enter the account number in digits." in page
    assert "6200000000101" not in page


def test_pages_of_50_newest_first(client, login_as, make_staff, make_account):
    account = make_account()
    for n in range(55):
        _payment(account, 100 + n, created=datetime(2026, 11, 1, 3, n, tzinfo=timezone.utc))
    _db.session.commit()
    login_as(client, make_staff("collector"))
    _, first = _page(client)
    assert first.count("R-1") == 50 and "R-154" in first and "R-104" not in first
    assert "Older payments" in first and "Newer payments" not in first
    _, second = _page(client, "?page=2")
    assert "R-104" in second and "R-100" in second and "R-154" not in second
    assert "Newer payments" in second and "Older payments" not in second


def test_query_count_does_not_grow_with_payments_or_accounts(client, login_as, make_staff,
                                                             make_account):
    login_as(client, make_staff("collector"))
    for n in range(3):
        _payment(make_account(), 200 + n)
    _db.session.commit()
    few = statements_for(client, "/staff/payments")
    for n in range(27):
        _payment(make_account(), 300 + n)
    _db.session.commit()
    assert statements_for(client, "/staff/payments") == few


@pytest.mark.parametrize("role, home", (("collector", "/staff/collections"),
                                        ("collections_manager", "/staff/manager")))
def test_role_homes_link_to_the_list(client, login_as, make_staff, role, home):
    login_as(client, make_staff(role))
    assert 'href="/staff/payments"' in client.get(home).get_data(as_text=True)
