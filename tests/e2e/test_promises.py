"""Issue 16, promise to pay, in a real browser at phone (390 px, checked at 320 px too) and
desktop size, in English and Chinese: from the dashboard to the promise page, an amount out
of policy refused beside its field, a promise made and confirmed, the collector's and the
cardholder's promises listed together; every page passes axe-core, fits 320 px and breaks no
word."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.collections.models import (ContactChannel, ContactDirection, ContactOutcome,
                                       PromiseSource, PromiseToPay)
from portal.collections.services import Promise, log_contact
from portal.extensions import db as _db
from tests.clock import TODAY
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import (assert_no_horizontal_scroll, check_page, expect_path,
                               sign_in_cardholder, submit, word_break_problems)
from tests.e2e.test_collections import _staff_sign_in

WIDTHS = (320, 390, 1280)
TEXT = {
    "en": {"link": "Promise to pay", "small": "The smallest amount you can promise is",
           "thanks": "Thank you. You promised to pay", "open": "Open",
           "team": "With our collections team", "paused": "Escalation is paused while your "
           "promise to pay is open"},
    "zh_Hans": {"link": "还款承诺", "small": "您可承诺的最低金额为", "thanks": "谢谢。您承诺在",
                "open": "进行中", "team": "与我们的催收团队约定",
                "paused": "在您的还款承诺进行期间，催收升级已暂停"},
}


def _checked(page):
    check_page(page)
    assert_no_horizontal_scroll(page, 320)
    assert word_break_problems(page, WIDTHS) == []


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_a_cardholder_promises_to_pay_from_the_dashboard(page, make_cardholder, make_account,
                                                         make_staff, locale):
    words = TEXT[locale]
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=TODAY - timedelta(days=40))
    made = datetime.combine(TODAY - timedelta(days=30), datetime.min.time(), timezone.utc)
    log_contact(account, make_staff("collections_manager"), channel=ContactChannel.PHONE,
                direction=ContactDirection.OUTBOUND, outcome=ContactOutcome.PROMISED, note="",
                occurred_at=made + timedelta(hours=3),
                promise=Promise(amount=20_000, promised_on=made.date() + timedelta(days=2)),
                now=made + timedelta(hours=4))
    _db.session.commit()

    sign_in_cardholder(page, holder.phone)
    with page.expect_navigation():
        page.locator(".settle-actions").get_by_role("link", name=words["link"],
                                                    exact=True).click()
    expect_path(page, f"/accounts/{account.id}/promise")
    assert words["team"] in page.content()  # the collector's (broken) promise is listed
    _checked(page)

    page.fill("#amount", "50")
    page.fill("#promised_on", (TODAY + timedelta(days=5)).isoformat())
    submit(page, "amount")
    assert words["small"] in page.locator("#amount-error").inner_text()
    assert page.locator("#amount").get_attribute("aria-invalid") == "true"
    _checked(page)

    page.fill("#amount", "300.00")
    page.fill("#promised_on", (TODAY + timedelta(days=5)).isoformat())
    submit(page, "amount")
    expect_path(page, f"/accounts/{account.id}/promise")
    assert words["thanks"] in page.content()
    assert page.locator("#open-promise").count() == 1
    assert words["open"] in page.locator(".promise-list").inner_text()
    _checked(page)

    page.goto("/home")
    assert words["paused"] in page.locator('.standing[data-lead="promise"]').inner_text()
    _checked(page)


def test_a_refused_promise_page_says_why(page, make_cardholder, make_account):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    account = make_account(holder)  # nothing overdue
    sign_in_cardholder(page, holder.phone)
    page.goto(f"/accounts/{account.id}/promise")
    assert "Nothing on this account is overdue" in page.locator("#promise-refused").inner_text()
    _checked(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_collector_sees_the_cardholders_promise_on_the_account_page(page, make_cardholder,
                                                                       make_account,
                                                                       make_staff):
    holder = make_cardholder()
    account = make_account(holder, oldest_unpaid_due_date=TODAY - timedelta(days=20))
    _db.session.add(PromiseToPay(made_by=PromiseSource.CARDHOLDER, account_id=account.id,
                                 cardholder_id=holder.id, amount=30_000, currency="CNY",
                                 made_on=TODAY, promised_on=TODAY + timedelta(days=3),
                                 grace_days=3, last_day=TODAY + timedelta(days=6)))
    _db.session.commit()
    _staff_sign_in(page, make_staff("collections_manager"))
    page.goto(f"/staff/collections/accounts/{account.id}")
    section = page.locator("section[aria-labelledby=promises-h]")
    assert "Cardholder, online" in section.inner_text()
    assert "December 4, 2026" in section.inner_text()  # payments count until date + grace
    check_page(page)
