"""The collections pages in Simplified Chinese: a collector signs in, switches the language to
Chinese, opens the accounts assigned to them, logs a contact with a promise to pay (first with
a promise dated before the contact, refused on the page), and reads it back. Every page
passes axe-core and does not scroll sideways at 360 px."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.timeutil import utcnow
from tests.e2e.helpers import check_page, expect_path, submit
from tests.e2e.test_disputes import _staff_sign_in
from tests.integration.collections_helpers import hold


@pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)
def test_collector_logs_a_contact_and_a_promise_in_chinese(page, make_account,
                                                          make_cardholder, make_staff):
    now = utcnow()
    holder = make_cardholder(full_name="Wang Fang", locale="zh_Hans", timezone="Asia/Shanghai")
    account = make_account(holder, oldest_unpaid_due_date=now.date() - timedelta(days=45),
                           account_number="6200000000088001")
    collector = make_staff("collector", name="Chen Collector")
    hold(account, collector, now - timedelta(days=3))

    _staff_sign_in(page, collector)
    check_page(page)
    page.select_option("#lang-select", "zh_Hans")
    with page.expect_navigation():
        page.get_by_role("button", name="Change language").click()
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.get_by_role("button", name="切换语言").is_visible()
    check_page(page)

    page.goto("/staff/collections/my-accounts")
    assert page.get_by_role("heading", level=1).inner_text() == "我的账户"
    assert page.get_by_role("region", name="已分配的账户").is_visible()
    check_page(page)

    page.get_by_role("link", name=account.account_number).click()
    expect_path(page, f"/staff/collections/accounts/{account.id}")
    assert page.get_by_role("heading", name="联系记录与还款承诺").is_visible()
    check_page(page)

    # "When" starts at now (staff pages: UTC); the promise is dated two days before the
    # contact's day in Shanghai (UTC+8).
    shanghai_now = now + timedelta(hours=8)
    page.select_option("#outcome", "promised_to_pay")
    page.fill("#occurred_at", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#note", "客户承诺周五还款。")
    page.fill("#promise_amount", "300")
    page.fill("#promise_date", (shanghai_now.date() - timedelta(days=2)).isoformat())
    submit(page, "note")
    assert "承诺还款日期不能早于联系当天。" in page.content()
    check_page(page)

    page.fill("#promise_date", (shanghai_now.date() + timedelta(days=5)).isoformat())
    submit(page, "note")
    expect_path(page, f"/staff/collections/accounts/{account.id}")
    assert page.locator(".flash-success").inner_text().strip() == "联系记录已保存。"
    history = page.get_by_role("region", name="联系记录（最新的在前）")
    assert history.get_by_text("客户承诺周五还款。").is_visible()
    assert history.get_by_text("尚未到期").is_visible()
    assert history.get_by_text("承诺还款").first.is_visible()
    check_page(page)

    page.goto("/staff/collections/my-accounts")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    check_page(page)
