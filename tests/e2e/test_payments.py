"""Paying with the sandbox provider in a phone-size browser, in English and Chinese: an
instalment, a decline, the authentication step and the receipt; axe-core on each page. Paying
a plan ahead (the schedule it leaves, shown before paying) runs at desktop size too."""
from __future__ import annotations

from datetime import date

import pytest

from portal.balances.services import today_for
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page
from tests.integration.payment_helpers import make_active_plan

PHONE = pytest.mark.parametrize("viewport", ["phone"], indirect=True)


def _sign_in_with_account(page, make_account, make_cardholder, profile="cn", currency="CNY",
                          timezone="Asia/Shanghai"):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, timezone=timezone)
    account = make_account(holder, principal=400_000, fees=10_000, minimum_due=50_000,
                           profile=profile, currency=currency,
                           oldest_unpaid_due_date=date(2026, 10, 1))
    page.goto("/login")
    page.fill("#identity", holder.email)
    page.fill("#password", CARDHOLDER_PASSWORD)
    with page.expect_navigation():
        page.locator("form", has=page.locator("#password")).locator("button[type=submit]").click()
    return account


@pytest.fixture()
def signed_in(page, make_account, make_cardholder):
    return _sign_in_with_account(page, make_account, make_cardholder)


def _choose_language(page, locale):
    if locale == "zh_Hans":
        page.select_option("#lang-select", "zh_Hans")
        with page.expect_navigation():
            page.locator(".lang-picker button").click()


def _pay(page, account, choice, card):
    page.goto(f"/accounts/{account.id}/pay")
    check_page(page)
    page.check(f"input[name=choice][value={choice}]")
    with page.expect_navigation():
        page.locator("#submit").click()
    check_page(page)
    page.fill("#card_number", card)
    page.fill("#expiry", "12/30")
    page.fill("#cvc", "123")
    with page.expect_navigation():
        page.locator("#submit").click()


# Each profile once: an English reader paying dollars (us), a Chinese one paying yuan (cn).
@PHONE
@pytest.mark.parametrize("locale,profile,currency,timezone", [
    ("en", "us", "USD", "America/New_York"), ("zh_Hans", "cn", "CNY", "Asia/Shanghai")])
def test_paying_the_overdue_amount_shows_the_receipt(page, make_account, make_cardholder, locale,
                                                     profile, currency, timezone):
    account = _sign_in_with_account(page, make_account, make_cardholder, profile, currency,
                                    timezone)
    _choose_language(page, locale)
    _pay(page, account, "overdue", "4242 4242 4242 4242")
    assert page.locator("[data-payment-status=succeeded]").count() == 1
    check_page(page)
    with page.expect_navigation():
        page.locator("[data-payment-status] a.button").first.click()
    assert page.locator("dl.facts").count() == 1
    check_page(page)


@PHONE
@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_a_declined_card_says_so_and_takes_nothing(page, signed_in, locale):
    _choose_language(page, locale)
    _pay(page, signed_in, "overdue", "4000 0000 0000 0002")
    assert page.locator("[data-payment-status=failed]").count() == 1
    check_page(page)


@PHONE
@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_the_authentication_step_can_be_passed(page, signed_in, locale):
    _choose_language(page, locale)
    _pay(page, signed_in, "full", "4000 0027 6000 3184")
    check_page(page)
    with page.expect_navigation():
        page.locator("#approve").click()
    assert page.locator("[data-payment-status=succeeded]").count() == 1


def _schedule_rows(page) -> list[list[str]]:
    """The plan page's schedule: per instalment, [#, due date, amount, paid, status]."""
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in page.locator("table tbody tr").all()]


@PHONE
@pytest.mark.parametrize("locale,paid,due", [("en", "Paid", "Due"), ("zh_Hans", "已还", "待还")])
def test_paying_the_next_instalment_marks_it_paid(page, signed_in, locale, paid, due):
    account = signed_in
    plan = make_active_plan(account, [30_000, 30_000, 30_000], today_for(account))
    _choose_language(page, locale)
    page.goto(f"/accounts/{account.id}/plans/{plan.id}")
    check_page(page)
    assert [row[4] for row in _schedule_rows(page)] == [due, due, due]

    _pay(page, account, "instalment", "4242 4242 4242 4242")
    assert page.locator("[data-payment-status=succeeded]").count() == 1
    assert "300.00" in page.locator("[data-payment-status] .amount").inner_text()
    check_page(page)

    page.goto(f"/accounts/{account.id}/plans/{plan.id}")
    check_page(page)
    rows = _schedule_rows(page)
    assert [row[4] for row in rows] == [paid, due, due]
    assert rows[0][3] == rows[0][2] and "300.00" in rows[0][3]  # paid in full, nothing more
    assert "0.00" in rows[1][3]


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_paying_extra_shows_the_schedule_it_leaves_then_pays_the_last_instalment(
        page, signed_in, locale):
    """Issue 16: another amount above the instalment; the new schedule before paying."""
    account = signed_in
    plan = make_active_plan(account, [30_000, 30_000, 30_000], today_for(account))
    _choose_language(page, locale)
    page.goto(f"/accounts/{account.id}/pay")
    assert page.locator("input[name=choice][value=payoff]").count() == 1
    check_page(page)
    page.check("input[name=choice][value=other]")
    page.fill("#other_amount", "600.00")
    with page.expect_navigation():
        page.locator("#submit").click()
    assert page.locator("input[name=previewed]").get_attribute("value") == "60000"
    assert len(page.locator("section.card table tbody tr").all()) == 1  # instalment 2 left
    check_page(page)
    with page.expect_navigation():
        page.locator("#submit").click()
    page.fill("#card_number", "4242 4242 4242 4242")
    page.fill("#expiry", "12/30")
    page.fill("#cvc", "123")
    with page.expect_navigation():
        page.locator("#submit").click()
    assert page.locator("[data-payment-status=succeeded]").count() == 1
    page.goto(f"/accounts/{account.id}/plans/{plan.id}")
    rows = _schedule_rows(page)
    assert "0.00" in rows[1][3] and "300.00" in rows[2][3]  # the last one paid, not the second
    # The cardholder's plan page marks it paid early (the badge passes axe at both sizes).
    assert page.locator("table tbody tr").nth(2).locator(".badge-ok").count() == 1
    assert page.locator("table tbody tr").nth(1).locator(".badge-ok").count() == 0
    check_page(page)
