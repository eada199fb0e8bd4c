"""The dashboard and the timeline send a fixed number of SQL statements (issue 15): pinned
here, and the same for an account fed in yesterday as for one with weeks of nightly history,
a plan, a contesting dispute, payments, letters and a legal referral."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.disputes import services as dispute_services
from portal.extensions import db as _db
from portal.jobs.nightly import run_nightly
from tests.helpers import statements_for
from tests.integration.account_pages_helpers import freeze_today
from tests.integration.legal_helpers import refer
from tests.integration.plan_helpers import agree

# The signed-in cardholder with their accounts (one statement, auth.session._load_cardholder);
# the closing snapshots and the entries since (portal.balances, two); the policy in force;
# recorded consequences, letters and stage moves (one statement); legal steps; corrections;
# the dispute hold and the promise pause (one each); the plans (the plan pause and the latest
# plan with the next instalment, one statement) and the care records (the care pause and what
# the cardholder is told, one statement), each read once for the page (portal.core.reads);
# the changes agreed to a plan (a new date, a delay, a skip: portal.plans.timeline, one);
# first of all the accounts' page tokens (portal.account_pages.figures, one).
DASHBOARD_STATEMENTS = 13
TIMELINE_STATEMENTS = 13
# While nothing an account's figures are derived from has changed, its summary section (the
# dashboard) or the timeline's content is kept, rendered (portal.account_pages.figures): the
# signed-in cardholder with their accounts, then the tokens.
KEPT_STATEMENTS = 2


@pytest.fixture()
def account(make_account, clock):
    freeze_today(clock)
    return make_account(principal=480_000, interest=15_000, fees=5_000, minimum_due=50_000,
                        oldest_unpaid_due_date=date(2026, 10, 1), effective=date(2026, 10, 20))


def _long_history(account) -> None:
    run_nightly(date(2026, 11, 27))  # five weeks of interest, fees, consequences and letters
    agree(account)
    for n in range(1, 6):
        _db.session.add(LedgerEntry(
            account_id=account.id, kind=EntryKind.PAYMENT, component=Component.PRINCIPAL,
            amount=-1_000 * n, currency=account.currency,
            effective_date=date(2026, 11, 1) + timedelta(days=n), source_ref=f"test-pay:{n}"))
    dispute_services.raise_dispute(
        account.cardholder, account, category="already_paid", amount=10_000, entry_ids=[],
        description="Paid in October.", now=datetime(2026, 11, 21, 2, tzinfo=timezone.utc))
    _db.session.commit()
    refer(account, on=date(2026, 11, 20), days_late=50)


def _entries(account) -> int:
    return _db.session.scalar(select(func.count()).select_from(LedgerEntry)
                              .where(LedgerEntry.account_id == account.id))


def test_dashboard_statements_are_pinned_and_do_not_grow_with_history(client, login_as,
                                                                       account):
    login_as(client, account.cardholder)
    fresh = statements_for(client, "/home")
    assert statements_for(client, "/home") == KEPT_STATEMENTS
    _long_history(account)
    grown = statements_for(client, "/home")
    assert statements_for(client, "/home") == KEPT_STATEMENTS
    page = client.get("/home").get_data(as_text=True)
    assert "Escalation is paused while we review your dispute." in page
    assert fresh == grown == DASHBOARD_STATEMENTS


def test_timeline_statements_are_pinned_and_do_not_grow_with_history(client, login_as,
                                                                      account):
    login_as(client, account.cardholder)
    path = f"/accounts/{account.id}/timeline"
    fresh = statements_for(client, path)
    assert statements_for(client, path) == KEPT_STATEMENTS
    _long_history(account)
    grown = statements_for(client, path)
    assert statements_for(client, path) == KEPT_STATEMENTS
    page = client.get(path).get_data(as_text=True)
    assert page.count('<li class="past">') >= 2  # the steps recorded since are on the page
    assert _entries(account) > 30  # and the ledger has five weeks of daily interest
    assert fresh == grown == TIMELINE_STATEMENTS
