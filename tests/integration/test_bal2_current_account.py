"""A minimum payment that is not due yet is not overdue: the dashboard, the overview, the
timeline and the payment page agree, and none of them asks to "pay the overdue amount"."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.integration.account_pages_helpers import NOW, TODAY, freeze_today

DUE = date(2026, 12, 5)  # a week after "today", 28 November 2026


@pytest.fixture()
def on_day(clock):
    """Pages and balances read "today" as noon in Shanghai on `day` (default 28 Nov 2026)."""
    def _freeze(day: date = TODAY):
        freeze_today(clock, NOW + timedelta(days=(day - TODAY).days))
    _freeze()
    return _freeze


@pytest.fixture()
def current_account(make_account, on_day):
    # The statement of 1 November asks for CN¥820.00 by 5 December; nothing is late.
    return make_account(principal=820_000, minimum_due=82_000, oldest_unpaid_due_date=DUE,
                        effective=date(2026, 11, 1), card_last4="1001")


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def figure(page_text: str, label: str) -> str | None:
    """The amount a page shows after the label `label` in a definition list."""
    found = re.search(re.escape(label) + r"</dt>\s*<dd[^>]*>([^<]+)</dd>", page_text)
    return found.group(1).strip() if found else None


def test_dashboard_shows_nothing_overdue_and_the_next_minimum_payment(client, login_as,
                                                                      current_account):
    login_as(client, current_account.cardholder)
    home = page(client, "/home")
    assert figure(home, "Overdue now") == "CN¥0.00"
    assert figure(home, "You owe") == "CN¥8,200.00"
    assert figure(home, "Next minimum payment") == "CN¥820.00"
    assert "Pay by December 5, 2026" in home
    assert "Nothing is overdue on this account." in home
    assert "Pay the overdue amount" not in home and "You can prevent this" not in home
    assert f'href="/accounts/{current_account.id}/pay">Make a payment</a>' in home


def test_dashboard_and_timeline_agree_for_a_current_account(client, login_as, current_account):
    login_as(client, current_account.cardholder)
    home = page(client, "/home")
    timeline = page(client, f"/accounts/{current_account.id}/timeline")
    for label in ("Overdue now", "You owe", "Next minimum payment"):
        assert figure(home, label) == figure(timeline, label)
    assert figure(timeline, "Due date") == "December 5, 2026"
    assert "Nothing is overdue on this account." in timeline
    assert "Your account is" not in timeline and "You can prevent this" not in timeline
    # what would follow if the minimum payment stayed unpaid, dated from its due date
    assert "No further steps are scheduled for this account." not in timeline
    assert "On December 6, 2026 a late fee of CN¥41.00 will be added to your balance." in timeline
    assert ("This happens only if the minimum payment of CN¥820.00 is not paid by December 5, "
            "2026.") in timeline
    assert "On January 4, 2027 your account will be reported to the credit bureau" in timeline


def test_overview_and_payment_page_offer_no_overdue_amount(client, login_as, current_account):
    login_as(client, current_account.cardholder)
    overview = page(client, f"/accounts/{current_account.id}")
    assert figure(overview, "Overdue now") == "CN¥0.00"
    assert "Ways to settle what is overdue" not in overview
    pay = page(client, f"/accounts/{current_account.id}/pay")
    assert "The overdue amount" not in pay
    assert "The full balance" in pay


def test_on_the_due_date_it_is_still_due_and_the_day_after_it_is_overdue(client, login_as,
                                                                         current_account,
                                                                         on_day):
    login_as(client, current_account.cardholder)
    on_day(DUE)
    home = page(client, "/home")
    assert figure(home, "Overdue now") == "CN¥0.00"
    assert figure(home, "Next minimum payment") == "CN¥820.00"
    assert "On December 6, 2026 a late fee of CN¥41.00 will be added" in home  # tomorrow
    on_day(DUE + timedelta(days=1))
    home = page(client, "/home")
    timeline = page(client, f"/accounts/{current_account.id}/timeline")
    assert figure(home, "Overdue now") == figure(timeline, "Overdue now") == "CN¥820.00"
    assert figure(home, "Next minimum payment") is None
    assert "Your account is 1 day late." in home and "Your account is 1 day late." in timeline
    assert "Pay the overdue amount" in home
    assert "You can prevent this by paying the overdue amount of CN¥820.00" in home


def test_without_a_due_date_the_minimum_payment_shows_without_a_date(client, login_as,
                                                                     make_account, on_day):
    account = make_account(principal=820_000, minimum_due=82_000, oldest_unpaid_due_date=None)
    login_as(client, account.cardholder)
    home = page(client, "/home")
    assert figure(home, "Overdue now") == "CN¥0.00"
    assert figure(home, "Next minimum payment") == "CN¥820.00"
    assert "Pay by" not in home and "Pay the overdue amount" not in home


def test_a_payment_before_the_due_date_lowers_the_next_minimum_payment(client, login_as,
                                                                       current_account):
    from portal.accounts.models import Component, EntryKind, LedgerEntry
    from portal.extensions import db as _db

    _db.session.add(LedgerEntry(account_id=current_account.id, kind=EntryKind.PAYMENT,
                                component=Component.PRINCIPAL, amount=-30_000, currency="CNY",
                                effective_date=date(2026, 11, 20), source_ref="pay:early"))
    _db.session.commit()
    login_as(client, current_account.cardholder)
    home = page(client, "/home")
    assert figure(home, "Next minimum payment") == "CN¥520.00"
    assert figure(home, "Overdue now") == "CN¥0.00"


# --- the demo cast, as the audit saw it -------------------------------------------------------

@pytest.fixture()
def demo(app, db, monkeypatch, on_day):
    from portal.demo.services import load_demo

    monkeypatch.setattr("portal.demo.services.HASH_METHOD", "pbkdf2:sha256:1000")
    load_demo(today=TODAY)
    db.session.commit()


def _holder(email):
    from sqlalchemy import select

    from portal.accounts.models import Cardholder
    from portal.extensions import db as _db

    return _db.session.scalar(select(Cardholder).where(Cardholder.email == email))


def _section(home: str, last4: str) -> str:
    """The dashboard's summary of the card ending in `last4`."""
    parts = home.split('<section class="card account-summary"')[1:]
    return next(p for p in parts if f"Card ending in {last4}" in p.split("</h2>", 1)[0])


def test_demo_current_accounts_show_nothing_overdue(client, login_as, demo):
    login_as(client, _holder("li.wei@example.com"))
    home = page(client, "/home")  # in Chinese: 当前逾期 = "Overdue now"
    assert figure(home, "当前逾期") == "¥0.00"
    assert "¥820.00" in home and "该账户没有逾期款项。" in home

    michael = _holder("michael.brown@example.com")
    login_as(client, michael)
    home = page(client, "/home")
    late, current = _section(home, "5005"), _section(home, "5015")
    assert figure(current, "Overdue now") == "$0.00"
    assert figure(current, "Next minimum payment") == "$25.00"
    assert "Pay the overdue amount" not in current
    assert figure(late, "Overdue now") != "$0.00" and "Pay the overdue amount" in late
    account = next(a for a in michael.accounts if a.card_last4 == "5015")
    timeline = page(client, f"/accounts/{account.id}/timeline")
    assert figure(timeline, "Overdue now") == "$0.00"
    assert "Nothing is overdue on this account." in timeline
