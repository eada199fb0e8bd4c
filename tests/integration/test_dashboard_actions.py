"""Dashboard and overview lead to the real features (pay, plan, dispute), show a kept plan's
next payment, say why escalation is paused, and cost the same queries for 1 or 3 accounts."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event

from portal.disputes import services as dispute_services
from portal.extensions import db as _db
from tests.integration.account_pages_helpers import freeze_today
from tests.integration.plan_helpers import agree

DUE = date(2026, 10, 1)


@pytest.fixture()
def late_account(make_account, clock):
    freeze_today(clock)
    return make_account(principal=480_000, interest=15_000, fees=5_000, minimum_due=50_000,
                        oldest_unpaid_due_date=DUE)


def page_of(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", ("/home", "/accounts/{id}"))
def test_overdue_account_links_to_payment_plan_offers_and_dispute_form(client, login_as,
                                                                       late_account, path):
    login_as(client, late_account.cardholder)
    page = page_of(client, path.format(id=late_account.id))
    assert "You can prevent this by paying the overdue amount" in page
    assert f'href="/accounts/{late_account.id}/pay">Pay the overdue amount</a>' in page
    assert f'href="/accounts/{late_account.id}/plans/offers">Agree a repayment plan</a>' in page
    assert (f'href="/accounts/{late_account.id}/disputes/new">Something wrong? Raise a dispute'
            in page)


def test_the_linked_pages_open_for_the_owner(client, login_as, late_account):
    login_as(client, late_account.cardholder)
    for path in ("pay", "plans/offers", "disputes/new"):
        assert client.get(f"/accounts/{late_account.id}/{path}").status_code == 200


def test_kept_plan_shows_next_payment_and_links_to_the_plan(client, login_as, late_account):
    plan = agree(late_account)
    _db.session.commit()
    first = plan.instalments[0]
    login_as(client, late_account.cardholder)
    page = page_of(client, "/home")
    assert "Escalation is paused while your plan is kept." in page
    amount = f"CN¥{first.amount / 100:,.2f}"
    assert f"Your plan: next payment {amount} on December 5, 2026." in page
    assert f'href="/accounts/{late_account.id}/plans/{plan.id}">See your plan</a>' in page
    assert "Agree a repayment plan" not in page
    assert "You can prevent this" not in page


def test_dispute_hold_says_why_and_links_to_the_dispute(client, login_as, late_account):
    dispute = dispute_services.raise_dispute(
        late_account.cardholder, late_account, category="already_paid", amount=50_000,
        entry_ids=[], description="Paid on 30 Oct.",
        now=datetime(2026, 11, 20, 2, tzinfo=timezone.utc))
    _db.session.commit()
    login_as(client, late_account.cardholder)
    page = page_of(client, "/home")
    assert "Escalation is paused while we review your dispute." in page
    assert f'href="/disputes/{dispute.id}">See your dispute</a>' in page


def _queries_for_dashboard(client) -> int:
    seen = []

    def listener(conn, cursor, statement, params, context, executemany):
        seen.append(statement)
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/home").status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_dashboard_query_count_does_not_grow_with_accounts(client, login_as, make_account,
                                                           late_account):
    holder = late_account.cardholder
    agree(late_account)
    _db.session.commit()
    login_as(client, holder)
    one = _queries_for_dashboard(client)
    second = make_account(holder, principal=300_000, minimum_due=30_000,
                          oldest_unpaid_due_date=DUE, card_last4="2222")
    agree(second)
    make_account(holder, currency="USD", profile="us", principal=90_000, minimum_due=9_000,
                 oldest_unpaid_due_date=DUE, card_last4="3333")
    _db.session.commit()
    three = _queries_for_dashboard(client)
    page = page_of(client, "/home")
    assert page.count("Your plan: next payment") == 2
    assert "Card ending in 3333" in page
    assert three == one
