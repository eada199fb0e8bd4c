"""Dashboard and timeline: what a cardholder reads, in English and Chinese, and who may read it."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event

from portal.consequences.pauses import Pause
from portal.extensions import db as _db
from tests.integration.account_pages_helpers import (
    STAFF_ROLES, freeze_today, use_timeline,
)

ACCOUNT_PAGES = ("/accounts/{id}", "/accounts/{id}/history", "/accounts/{id}/timeline",
                 "/accounts/{id}/notices")


@pytest.fixture()
def overdue_account(make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch)
    return make_account(principal=480_000, interest=15_000, fees=5_000, minimum_due=50_000,
                        oldest_unpaid_due_date=date(2026, 10, 1), card_last4="4242")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def visible_words(page: str) -> set[str]:
    """The words a reader sees in the page's main content (tags and attributes removed)."""
    main = page[page.index("<main"):page.index("</main>")]
    return set(re.sub(r"<[^>]+>", " ", main).replace(".", " ").split())


# --- access ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ("/home",) + ACCOUNT_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, overdue_account, path):
    response = client.get(path.format(id=overdue_account.id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ("/home",) + ACCOUNT_PAGES)
def test_owner_can_open_their_account_pages(client, login_as, overdue_account, path):
    login_as(client, overdue_account.cardholder)
    assert client.get(path.format(id=overdue_account.id)).status_code == 200


@pytest.mark.parametrize("path", ACCOUNT_PAGES)
def test_another_cardholders_account_is_not_found(client, login_as, make_cardholder,
                                                  overdue_account, path):
    login_as(client, make_cardholder())
    response = client.get(path.format(id=overdue_account.id))
    assert response.status_code == 404
    assert "4242" not in text_of(response)


@pytest.mark.parametrize("path", ACCOUNT_PAGES)
def test_unknown_account_id_is_not_found(client, login_as, overdue_account, path):
    login_as(client, overdue_account.cardholder)
    assert client.get(path.format(id=overdue_account.id + 999)).status_code == 404


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("path", ("/home",) + ACCOUNT_PAGES)
def test_staff_cannot_use_cardholder_pages(client, login_as, make_staff, overdue_account,
                                           role, path):
    login_as(client, make_staff(role))
    assert client.get(path.format(id=overdue_account.id)).status_code == 403


# --- dashboard ------------------------------------------------------------------------------

def test_dashboard_states_what_is_owed_and_overdue_in_english(client, login_as, overdue_account):
    login_as(client, overdue_account.cardholder)
    page = text_of(client.get("/home"))
    assert "Card ending in 4242" in page
    assert "You owe" in page and "CN¥5,000.00" in page  # 4,800 + 150 + 50
    assert "Overdue now" in page and "CN¥500.00" in page
    assert "Your account is 58 days late." in page
    assert "CN¥4,800.00" in page and "CN¥150.00" in page and "CN¥50.00" in page


def test_dashboard_names_the_next_step_its_date_and_how_to_prevent_it(client, login_as,
                                                                       overdue_account):
    login_as(client, overdue_account.cardholder)
    page = text_of(client.get("/home"))
    assert ("On December 12, 2026 your account will be reported to the credit bureau as "
            "60 days late.") in page
    assert ("You can prevent this by paying the overdue amount of CN¥500.00 by "
            "December 11, 2026, or by agreeing a repayment plan with us.") in page
    for link in ("history", "timeline", "notices"):
        assert f"/accounts/{overdue_account.id}/{link}" in page


def test_dashboard_uses_no_internal_codes(client, login_as, overdue_account):
    login_as(client, overdue_account.cardholder)
    words = visible_words(text_of(client.get("/home")))
    for code in ("DPD", "M1", "M2", "M3", "credit_report", "late_fee", "stage"):
        assert code not in words


def test_dashboard_in_chinese_formats_money_and_dates_for_the_reader(client, login_as,
                                                                     make_cardholder,
                                                                     make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch)
    holder = make_cardholder(locale="zh_Hans")
    make_account(holder, principal=500_000, minimum_due=50_000,
                 oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, holder)
    page = text_of(client.get("/home"))
    assert 'lang="zh-Hans"' in page
    assert "¥5,000.00" in page and "CN¥" not in page
    assert "2026年12月12日" in page


def test_dashboard_lists_every_account_with_one_balance_query(client, login_as, make_cardholder,
                                                              make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch)
    holder = make_cardholder()

    def count_ledger_queries():
        seen = []
        def listener(conn, cursor, statement, params, context, executemany):
            if "ledger_entry" in statement:
                seen.append(statement)
        event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            response = client.get("/home")
        finally:
            event.remove(_db.engine, "before_cursor_execute", listener)
        return response, len(seen)

    login_as(client, holder)
    make_account(holder, card_last4="1111")
    _, one = count_ledger_queries()
    make_account(holder, card_last4="2222", currency="USD", profile="us")
    make_account(holder, card_last4="3333")
    response, three = count_ledger_queries()
    page = text_of(response)
    assert "Card ending in 1111" in page and "Card ending in 2222" in page
    assert "$5,000.00" in page and "CN¥5,000.00" in page
    assert one == three == 1


def test_dashboard_says_escalation_is_paused_while_a_plan_is_kept(client, login_as,
                                                                  overdue_account, monkeypatch):
    use_timeline(monkeypatch, pause=Pause("plan", since=date(2026, 11, 20)))
    login_as(client, overdue_account.cardholder)
    page = text_of(client.get("/home"))
    assert "Escalation is paused while your plan is kept." in page
    assert "You can prevent this" not in page


def test_account_with_nothing_overdue_says_so(client, login_as, make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch, build=lambda account: None)
    account = make_account(minimum_due=0)
    login_as(client, account.cardholder)
    page = text_of(client.get("/home"))
    assert "Nothing is overdue on this account." in page
    assert "What happens next" not in page


# --- timeline -------------------------------------------------------------------------------

def test_timeline_lists_past_and_upcoming_steps_with_dates(client, login_as, overdue_account):
    login_as(client, overdue_account.cardholder)
    page = text_of(client.get(f"/accounts/{overdue_account.id}/timeline"))
    assert "On October 2, 2026 a late fee of CN¥50.00 was added to your balance." in page
    assert ("On October 31, 2026 your account was reported to the credit bureau as 30 days late."
            in page)
    assert ("On December 27, 2026 your card will be blocked, so it can no longer be used for "
            "purchases.") in page
    assert ("You can prevent this by paying the overdue amount before December 27, 2026, or by "
            "agreeing a repayment plan with us.") in page
    assert "Overdue records stay on the credit report for five years after repayment." in page


def test_timeline_explanation_is_in_the_readers_language_with_english_fallback(
        client, login_as, make_cardholder, make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch)
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder, oldest_unpaid_due_date=date(2026, 10, 1))
    login_as(client, holder)
    page = text_of(client.get(f"/accounts/{account.id}/timeline"))
    assert "逾期记录在还清后保留五年。" in page  # the past item has a Chinese text
    assert "Overdue records stay on the credit report" in page  # the upcoming one only English


def test_timeline_says_escalation_is_paused_during_a_dispute(client, login_as, overdue_account,
                                                             monkeypatch):
    use_timeline(monkeypatch, pause=Pause("dispute", amount=20_000))
    login_as(client, overdue_account.cardholder)
    page = text_of(client.get(f"/accounts/{overdue_account.id}/timeline"))
    assert "Escalation is paused while we review your dispute." in page
    assert "The amount on hold is CN¥200.00." in page
    assert "You can prevent this" not in page


# --- with the real timeline service ---------------------------------------------------------

def test_dashboard_and_timeline_work_with_the_real_timeline_service(client, login_as,
                                                                     make_account, monkeypatch, clock):
    freeze_today(clock)
    account = make_account(principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 10, 1))  # 58 days late
    login_as(client, account.cardholder)
    home = text_of(client.get("/home"))
    assert "Your account is 58 days late." in home
    assert "You can prevent this by paying the overdue amount of CN¥500.00 by" in home
    page = client.get(f"/accounts/{account.id}/timeline")
    assert page.status_code == 200
    text = text_of(page)
    assert "will be blocked" in text
    assert not {"M1", "M2", "m2", "DPD"} & visible_words(home + text)
