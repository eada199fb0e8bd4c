"""A hardship statement left without a plan goes with the next plan proposed on the account,
and the offers page says the plans are based on it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portal.extensions import db as _db
from portal.plans.models import HardshipStatement
from tests.integration.plan_helpers import agree


def _statement(account, income, created_at):
    statement = HardshipStatement(account_id=account.id, currency=account.currency,
                                  income=income, housing=300_000, created_at=created_at)
    _db.session.add(statement)
    _db.session.commit()
    return statement


@pytest.fixture()
def account(make_account):
    return make_account(principal=500_000, minimum_due=50_000)


def test_later_plan_carries_the_latest_unused_statement(account):
    _statement(account, 700_000, datetime(2026, 11, 1, tzinfo=timezone.utc))
    latest = _statement(account, 800_000, datetime(2026, 11, 20, tzinfo=timezone.utc))
    plan = agree(account)
    _db.session.commit()
    assert plan.statement is latest
    assert latest.plan_id == plan.id


def test_plan_without_any_statement_has_none(account):
    plan = agree(account)
    assert plan.statement is None


def test_offers_page_says_which_statement_the_plans_are_based_on(client, login_as, account):
    # 23:00 UTC on 19 November is 20 November in Shanghai, the cardholder's zone.
    _statement(account, 800_000, datetime(2026, 11, 19, 23, tzinfo=timezone.utc))
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    assert "Based on your statement of income and spending of November 20, 2026" in page


def test_offers_page_is_silent_about_a_statement_already_used(client, login_as, account):
    statement = _statement(account, 800_000, datetime(2026, 11, 20, tzinfo=timezone.utc))
    plan = agree(account)
    plan.status = plan.status.__class__("cancelled")
    plan.cancelled_on = plan.started_on
    _db.session.commit()
    assert statement.plan_id == plan.id
    login_as(client, account.cardholder)
    page = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    assert "Based on your statement" not in page
