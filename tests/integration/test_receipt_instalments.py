"""Receipts name the instalment a payment went to by its place in the plan, in both languages
(issue 13, item 8: "用于计划分期 41" was the database id of instalment 1)."""
from __future__ import annotations

from datetime import date

from portal.balances.services import today_for
from tests.integration.payment_helpers import (make_active_plan, only_payment, pay_with_card,
                                               start_payment)


def test_receipt_says_instalment_1_of_3_not_the_database_id(client, make_account, login_as):
    earlier = make_account()
    make_active_plan(earlier, [10_000] * 5, today_for(earlier))  # instalment ids 1-5 taken
    account = make_account(principal=400_000, minimum_due=30_000,
                           oldest_unpaid_due_date=date(2026, 10, 1))
    plan = make_active_plan(account, [30_000, 30_000, 30_000], today_for(account))
    first_id = plan.instalments[0].id
    assert first_id != 1
    login_as(client, account.cardholder)
    start_payment(client, account, "other", "300.00")
    payment = only_payment(account.id)
    pay_with_card(client, payment.id)
    assert only_payment(account.id).plan_application == [[first_id, 30_000]]

    html = client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True)
    assert "Applied to instalment 1 of 3" in html
    assert f"instalment {first_id}" not in html

    client.set_cookie("portal_locale", "zh_Hans")
    html = client.get(f"/payments/{payment.id}/receipt").get_data(as_text=True)
    assert "用于第 1 期（共 3 期）" in html
    assert f"分期 {first_id}" not in html
