"""Dashboard, history, timeline and notices in a real browser, in English and Chinese, at phone
and desktop size: each page passes axe-core and does not scroll sideways at 360 px."""
from __future__ import annotations

from datetime import date

import pytest

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.consequences.models import ConsequenceEvent
from portal.extensions import db as _db
from tests.conftest import CARDHOLDER_PASSWORD
from tests.e2e.helpers import check_page, expect_path, submit
from tests.integration.account_pages_helpers import freeze_today, make_notice


def _sign_in(page, phone):
    page.goto("/login")
    page.fill("#identity", phone)
    page.fill("#password", CARDHOLDER_PASSWORD)
    submit(page, "identity")
    expect_path(page, "/home")


@pytest.fixture()
def late_account(make_cardholder, make_account, monkeypatch, clock):
    """A cardholder 58 days late with a late fee and a credit report behind them and a notice."""
    freeze_today(clock)

    def build(locale):
        holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale,
                                 full_name="林美" if locale == "zh_Hans" else "Mei Lin")
        account = make_account(holder, principal=1_234_567_89, interest=15_000, fees=5_000,
                               minimum_due=50_000, oldest_unpaid_due_date=date(2026, 10, 1),
                               card_last4="4242")
        for kind, on, days, amount in (("late_fee", date(2026, 10, 2), 1, 5_000),
                                       ("credit_report", date(2026, 10, 31), 30, None)):
            _db.session.add(ConsequenceEvent(
                account_id=account.id, kind=kind, cycle=date(2026, 10, 1), occurred_on=on,
                days_late=days, amount=amount, currency="CNY", policy_profile="cn",
                policy_version=1))
        _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.PAYMENT,
                                    component=Component.PRINCIPAL, amount=-10_000,
                                    currency="CNY", effective_date=date(2026, 11, 3),
                                    source_ref="e2e-pay"))
        _db.session.commit()
        notice = make_notice(account, reference="FN-2026-000777")
        return holder.phone, account.id, notice.id
    return build


@pytest.mark.parametrize("locale,lang,owe", [("en", "en", "You owe"), ("zh_Hans", "zh-Hans", "")])
def test_account_pages_are_accessible_and_fit_a_small_phone(page, late_account, locale, lang,
                                                            owe):
    phone, account_id, notice_id = late_account(locale)
    _sign_in(page, phone)
    assert page.get_attribute("html", "lang") == lang
    if owe:
        assert page.get_by_text(owe).first.is_visible()
        assert page.get_by_text("Your account is 58 days late.").is_visible()
    check_page(page)

    for path in (f"/accounts/{account_id}", f"/accounts/{account_id}/history",
                 f"/accounts/{account_id}/history?date_from=not-a-date",
                 f"/accounts/{account_id}/timeline", f"/accounts/{account_id}/notices",
                 f"/accounts/{account_id}/notices/{notice_id}"):
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator("h1").count() == 1
        check_page(page)


def test_cardholder_finds_the_timeline_and_downloads_a_notice_from_the_dashboard(
        page, late_account):
    phone, account_id, notice_id = late_account("en")
    _sign_in(page, phone)

    page.get_by_role("link", name="What has happened and what happens next").first.click()
    expect_path(page, f"/accounts/{account_id}/timeline")
    assert page.get_by_text("your account was reported to the credit bureau as 30 days late",
                            exact=False).is_visible()
    assert page.get_by_text("your card will be blocked", exact=False).first.is_visible()

    page.get_by_role("link", name="Letters and notices").first.click()
    expect_path(page, f"/accounts/{account_id}/notices")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download notice FN-2026-000777 (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "notice-FN-2026-000777.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"


def test_history_filter_works_without_javascript_errors(page, late_account):
    phone, account_id, _ = late_account("en")
    _sign_in(page, phone)
    page.goto(f"/accounts/{account_id}/history")
    page.select_option("#kind", "payment")
    submit(page, "kind")
    assert page.get_by_text("Showing only the entries that match your filter.").is_visible()
    rows = page.locator("table.history tbody tr")
    assert rows.count() == 1 and "Payment received" in rows.first.inner_text()
    check_page(page)


@pytest.mark.parametrize("locale,lang", [("en", "en"), ("zh_Hans", "zh-Hans")])
def test_current_account_shows_its_next_minimum_payment_accessibly(page, make_cardholder,
                                                                  make_account, monkeypatch,
                                                                  locale, lang, clock):
    """A minimum payment due next week: nothing overdue, the payment and its date shown."""
    freeze_today(clock)
    holder = make_cardholder(password=CARDHOLDER_PASSWORD, locale=locale)
    account = make_account(holder, principal=820_000, minimum_due=82_000,
                           oldest_unpaid_due_date=date(2026, 12, 5), card_last4="1001")
    _sign_in(page, holder.phone)
    assert page.get_attribute("html", "lang") == lang
    if locale == "en":
        assert page.get_by_text("Nothing is overdue on this account.").is_visible()
        assert page.get_by_text("Next minimum payment").is_visible()
        assert page.get_by_text("Pay by December 5, 2026").is_visible()
        assert page.get_by_role("link", name="Pay the overdue amount").count() == 0
    check_page(page)
    page.goto(f"/accounts/{account.id}/timeline")
    check_page(page)
