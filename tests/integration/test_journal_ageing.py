"""Operators see the portal movements the issuer has not acknowledged after N days."""
from __future__ import annotations

from datetime import date

import pytest

from portal.journal.rules import movement_id
from tests.integration.journal_helpers import Clock, account, feed, movement_ids, pay, utc


@pytest.fixture()
def clock(clock):
    return Clock(clock, utc(2026, 11, 27, 4))


@pytest.fixture()
def acct(db, clock):
    feed(date(2026, 11, 26), 430_000)
    return account()


def test_ageing_lists_movements_no_feed_acknowledged_after_n_days(runner, acct, clock):
    pay(acct, 50_000, "unacknowledged", clock.now)
    [entry] = movement_ids(acct, "payment:")
    clock.now = utc(2026, 11, 29, 4)
    assert runner.invoke(args=["journal", "ageing", "--days", "3"]).exit_code == 0
    clock.now = utc(2026, 12, 1, 4)
    result = runner.invoke(args=["journal", "ageing", "--days", "3"])
    assert result.exit_code == 1
    assert f"{movement_id(entry)} account {acct.account_number} payment -500.00 CNY" \
        in result.output
    feed(date(2026, 12, 1), 380_000, applied=[entry])
    assert runner.invoke(args=["journal", "ageing", "--days", "3"]).exit_code == 0


def test_ageing_uses_the_configured_number_of_days(app, runner, acct, clock):
    pay(acct, 50_000, "configured", clock.now)
    clock.now = utc(2026, 11, 29, 5)
    app.config["JOURNAL_ACK_DAYS"] = 1
    try:
        assert runner.invoke(args=["journal", "ageing"]).exit_code == 1
    finally:
        app.config["JOURNAL_ACK_DAYS"] = 3
