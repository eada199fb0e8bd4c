"""The collector's worklist is ordered by the documented priority (docs/features.md): days-late
band, then promises broken in the last 90 days, then the overdue amount, then the longest
without contact."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

import pytest

from portal.collections import services, worklists
from portal.collections.models import ContactChannel, ContactDirection, ContactOutcome
from portal.extensions import db
from tests.clock import TODAY
from tests.integration.plan_helpers import agree


def _log(account, staff, when, promise=None):
    services.log_contact(
        account, staff, channel=ContactChannel.PHONE, direction=ContactDirection.OUTBOUND,
        outcome=ContactOutcome.PROMISED if promise else ContactOutcome.REACHED, note="",
        occurred_at=when, promise=promise)
    db.session.commit()


def _ago(days):
    return datetime.combine(TODAY - timedelta(days=days), time(3), tzinfo=timezone.utc)


@pytest.fixture()
def worklist(make_account, make_staff):
    manager = make_staff("collections_manager")
    collector = make_staff("collector", name="Wang Wei")

    def account(number, days_late, overdue):
        return make_account(account_number=number, minimum_due=overdue,
                            oldest_unpaid_due_date=TODAY - timedelta(days=days_late))

    accounts = {
        "oldest": account("6200000000000001", 95, 50_000),      # the 90-179 band
        "broke": account("6200000000000002", 40, 10_000),       # a promise broken 10 days ago
        "never": account("6200000000000003", 35, 90_000),       # never contacted
        "recent": account("6200000000000004", 45, 90_000),      # called yesterday
        "small": account("6200000000000005", 50, 20_000),       # called a month ago
        "stale": account("6200000000000006", 38, 5_000),        # a promise broken 120 days ago
    }
    services.assign([a.id for a in accounts.values()], collector.id, manager)
    db.session.commit()
    _log(accounts["broke"], collector, _ago(20), services.Promise(5_000, TODAY - timedelta(days=10)))
    _log(accounts["recent"], collector, _ago(1))
    _log(accounts["small"], collector, _ago(30))
    _log(accounts["stale"], collector, _ago(130), services.Promise(5_000, TODAY - timedelta(days=120)))
    return accounts, collector, manager


EXPECTED = ["oldest", "broke", "never", "recent", "small", "stale"]


def test_worklist_puts_the_band_then_broken_promises_then_amount_then_last_contact_first(worklist):
    accounts, collector, _ = worklist
    rows = worklists.assigned_accounts(collector.id, TODAY).rows
    names = {a.id: key for key, a in accounts.items()}
    assert [names[r.account.id] for r in rows] == EXPECTED
    broken = {names[r.account.id]: r.broken_promises for r in rows}
    assert broken["broke"] == 1 and broken["stale"] == 0  # older than 90 days: not counted


def test_my_accounts_page_lists_the_accounts_in_priority_order(client, login_as, worklist):
    accounts, collector, manager = worklist
    for who in (collector, manager):
        login_as(client, who)
        page = client.get("/staff/collections/my-accounts").get_data(as_text=True)
        shown = re.findall(r">(62000000000000\d\d)</a>", page)
        assert shown == [accounts[key].account_number for key in EXPECTED]
        assert "in priority order" in page and "Broken promises" in page
        assert re.search(r"November 27, 2026, 3:00\s?AM Coordinated Universal Time", page)  # last contact, with its zone


def test_my_accounts_page_says_the_next_instalment_in_each_language(
        app, client, login_as, make_account, make_staff):
    """The "amount by day" sentence is translated once per page and filled in per row."""
    collector, manager = make_staff("collector"), make_staff("collections_manager")
    account = make_account()
    with app.test_request_context():
        plan = agree(account)
        db.session.commit()
    services.assign([account.id], collector.id, manager)
    db.session.commit()
    due = plan.instalments[0]
    login_as(client, collector)
    page = client.get("/staff/collections/my-accounts").get_data(as_text=True)
    assert re.search(rf"{re.escape(f'{due.amount / 100:,.2f}')} by December 5, 2026", page)
    chinese = client.get("/staff/collections/my-accounts",
                         headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert re.search(r"2026年12月5日 前还款 \S+" + re.escape(f"{due.amount / 100:,.2f}"), chinese)
