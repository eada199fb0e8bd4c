"""Browser tests of the collections pages at desktop size: a manager assigns accounts with the
checkboxes, a collector logs a contact with a promise, the manager reads the report; every
page checked with axe."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.timeutil import utcnow
from tests.e2e.helpers import axe_check, expect_path, submit
from tests.e2e.helpers import sign_in_staff as _staff_sign_in  # others import it from here
from tests.integration.collections_helpers import hold

desktop = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)




@desktop
def test_manager_assigns_accounts_and_reads_the_report(page, browser, live_server, make_account,
                                                       make_staff):
    late = utcnow().date() - timedelta(days=35)
    first = make_account(oldest_unpaid_due_date=late, account_number="6200000000000101")
    make_account(oldest_unpaid_due_date=late, account_number="6200000000000102")
    make_account(oldest_unpaid_due_date=late - timedelta(days=100),
                 account_number="6200000000000103")
    manager = make_staff("collections_manager", name="Meg Manager")
    collector = make_staff("collector", name="Chen Collector")

    _staff_sign_in(page, manager)
    page.goto("/staff/collections/assign")
    axe_check(page)
    page.select_option("#bucket", "30-59")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert "6200000000000103" not in page.content()
    page.get_by_label("Select account 6200000000000101").check()
    page.get_by_label("Select account 6200000000000102").check()
    page.select_option("#to", str(collector.id))
    with page.expect_navigation():
        page.get_by_role("button", name="Assign", exact=True).click()
    assert "Assignments changed: 2." in page.content()
    assert page.content().count("Chen Collector") >= 3  # two rows and the filter's option
    axe_check(page)

    staff_context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    desk = staff_context.new_page()
    _staff_sign_in(desk, collector)
    desk.goto("/staff/collections/my-accounts")
    axe_check(desk)
    desk.get_by_role("link", name=first.account_number).click()
    expect_path(desk, f"/staff/collections/accounts/{first.id}")
    axe_check(desk)
    desk.select_option("#outcome", "promised_to_pay")
    # "When" starts at now, in the staff pages' zone
    started = datetime.strptime(desk.input_value("#occurred_at"), "%Y-%m-%dT%H:%M")
    assert abs(started.replace(tzinfo=timezone.utc) - utcnow()) < timedelta(minutes=2)
    desk.fill("#note", "Will pay on Friday.")
    desk.fill("#promise_amount", "300")
    desk.fill("#promise_date", (utcnow().date() + timedelta(days=5)).isoformat())
    submit(desk, "note")
    assert "The contact is logged." in desk.content() and "Not yet due" in desk.content()
    axe_check(desk)
    staff_context.close()

    page.goto("/staff/collections/reports")
    axe_check(page)
    content = page.content()
    assert "Collectors are never evaluated on the amounts recovered alone." in content
    table = page.get_by_role("region", name="Contacts, promises and decisions")
    row = table.get_by_role("row", name="Chen Collector")
    assert row.locator("td").nth(0).inner_text() == "2"  # accounts held
    assert row.locator("td").nth(1).inner_text() == "1"  # contacts logged


@desktop
def test_collector_reads_the_call_panel_and_logs_a_call_at_now(page, make_account,
                                                              make_cardholder, make_staff):
    """Issue 13, item 12: the call panel names the cardholder and how to reach them, their
    local time and whether contact is allowed now; the contact is logged without typing a
    time."""
    holder = make_cardholder(full_name="Wang Fang", phone="+8613800138002",
                             email="wang.fang@example.com", timezone="Asia/Shanghai")
    account = make_account(holder, oldest_unpaid_due_date=utcnow().date() - timedelta(days=45),
                           account_number="6200000000099001")
    collector = make_staff("collector", name="Chen Collector")
    hold(account, collector, utcnow() - timedelta(days=3))
    _staff_sign_in(page, collector)
    page.goto(f"/staff/collections/accounts/{account.id}")
    call = page.get_by_role("region", name="Call")
    assert call.get_by_role("link", name="+8613800138002").get_attribute("href") == "tel:+8613800138002"
    assert call.get_by_role("link", name="wang.fang@example.com").is_visible()
    assert "Asia/Shanghai" in call.inner_text()
    assert call.get_by_role("status").inner_text().strip().startswith(
        ("Contact allowed now", "Outside the allowed hours"))
    assert page.get_by_role("region", name="Plan").is_visible()
    assert page.get_by_role("region", name="Promises to pay").is_visible()
    axe_check(page)
    page.fill("#note", "Spoke about the overdue amount.")
    submit(page, "note")
    assert "The contact is logged." in page.content()
    assert "Spoke about the overdue amount." in page.content()
    axe_check(page)
