"""Transaction history folds the nightly run's daily penalty interest into one line per run
of days, with its dates and total, instead of paging one line a day (issue 13, item 11)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.accounts.ledger_lines import ledger_lines
from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.extensions import db as _db
from tests.dispute_helpers import join, raise_dispute
from tests.integration.account_pages_helpers import freeze_today, use_timeline
from tests.integration.test_history import history, rows


def _interest(account, day: date, amount: int) -> LedgerEntry:
    return LedgerEntry(account_id=account.id, kind=EntryKind.INTEREST,
                       component=Component.INTEREST, amount=amount, currency=account.currency,
                       effective_date=day, source_ref=f"nightly:{day}:interest")


@pytest.fixture()
def account(make_account, monkeypatch, clock):
    freeze_today(clock)
    use_timeline(monkeypatch, build=lambda account: None)
    account = make_account(principal=500_000, effective=date(2026, 9, 1))
    day = date(2026, 10, 20)
    while day <= date(2026, 11, 27):  # 39 days of penalty interest, 247 fen a day
        _db.session.add(_interest(account, day, 247))
        if day == date(2026, 11, 15):
            _db.session.flush()  # the payment is posted after that night's interest
            _db.session.add(LedgerEntry(
                account_id=account.id, kind=EntryKind.PAYMENT, component=Component.PRINCIPAL,
                amount=-10_000, currency=account.currency, effective_date=day,
                source_ref="payment:1"))
        day += timedelta(days=1)
    _db.session.commit()
    return account


def test_daily_interest_is_one_line_per_run_with_dates_and_total(client, login_as, account):
    login_as(client, account.cardholder)
    lines = rows(history(client, account))
    assert lines == [
        "Nov 16 – 27, 2026 Interest charged daily, 12 days CN¥29.64",
        "Nov 15, 2026 Payment received -CN¥100.00",
        "Nov 1 – 15, 2026 Interest charged daily, 15 days CN¥37.05",
        "Oct 20 – 31, 2026 Interest charged daily, 12 days CN¥29.64",
        "Sep 1, 2026 Balance from your statement CN¥5,000.00",
    ]


def test_in_chinese_the_range_and_days_read_naturally(client, login_as, account):
    account.cardholder.locale = "zh_Hans"
    _db.session.commit()
    login_as(client, account.cardholder)
    client.set_cookie("portal_locale", "zh_Hans")
    lines = rows(history(client, account))
    assert lines[0] == "2026年11月16日至27日 按日计收的利息，共 12 天 ¥29.64"


def test_the_interest_filter_still_groups_and_a_correction_stays_apart(client, login_as,
                                                                       account):
    _db.session.add(LedgerEntry(
        account_id=account.id, kind=EntryKind.INTEREST, component=Component.INTEREST,
        amount=-247, currency=account.currency, effective_date=date(2026, 11, 20),
        source_ref="correction:1:interest"))
    _db.session.commit()
    login_as(client, account.cardholder)
    lines = rows(history(client, account, kind="interest"))
    assert [line.split(" CN¥")[0].split(" -CN¥")[0] for line in lines] == [
        "Nov 21 – 27, 2026 Interest charged daily, 7 days",
        "Nov 20, 2026 Interest taken back: your payment had arrived",
        "Nov 1 – 20, 2026 Interest charged daily, 20 days",  # no payment line between
        "Oct 20 – 31, 2026 Interest charged daily, 12 days",
    ]


def test_runs_never_cross_a_month_or_a_gap(account):
    entries = [_interest(account, date(2026, 11, 3), 1), _interest(account, date(2026, 11, 2), 1),
               _interest(account, date(2026, 10, 31), 1), _interest(account, date(2026, 10, 30), 1),
               _interest(account, date(2026, 10, 28), 1)]
    lines = ledger_lines(entries)
    assert [(line.first_date.day, line.last_date.day, line.amount) for line in lines] == [
        (2, 3, 2), (30, 31, 2), (28, 28, 1)]


def test_the_staff_ledger_panel_folds_daily_interest_the_same_way(client, login_as, account,
                                                                  make_staff):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    dispute = raise_dispute(account)
    login_as(client, agent)
    page = client.get(f"/staff/disputes/{dispute.id}").get_data(as_text=True)
    panel = page.split("Ledger entries, newest first", 1)[1].split("</table>", 1)[0]
    assert rows(panel) == [
        "November 16, 2026 – November 27, 2026 Interest charged daily, 12 days Interest CN¥29.64",
        "November 15, 2026 Payment received Principal -CN¥100.00",
        "November 1, 2026 – November 15, 2026 Interest charged daily, 15 days Interest CN¥37.05",
        "October 20, 2026 – October 31, 2026 Interest charged daily, 12 days Interest CN¥29.64",
        "September 1, 2026 Balance from your statement Principal CN¥5,000.00",
    ]
