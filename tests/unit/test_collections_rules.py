"""Pure collections rules: promise outcomes, plan outcomes, kept rates, days-late buckets and
the plans report grouping."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from portal.collections.reports import group_plans, overall, team_total, CollectorKpi
from portal.collections.rules import bucket_dates, kept_rate, percent, plan_outcome, promise_status

DUE = date(2026, 11, 10)


@pytest.mark.parametrize("paid, today, expected", [
    (5_000, date(2026, 11, 1), "kept"),      # covered early
    (4_999, DUE, "pending"),                  # the day itself is still in time
    (4_999, date(2026, 11, 11), "broken"),
    (6_000, date(2026, 12, 1), "kept"),       # more than promised still keeps it
    (0, date(2026, 11, 11), "broken"),
])
def test_promise_status(paid, today, expected):
    assert promise_status(5_000, paid, DUE, today) == expected


@pytest.mark.parametrize("status, missed, expected", [
    ("completed", True, "kept"), ("active", False, "kept"), ("active", True, "behind"),
    ("broken", True, "broken"), ("cancelled", False, "cancelled"), ("in_review", False, "open"),
    ("rejected", False, "open"),
])
def test_plan_outcome(status, missed, expected):
    assert plan_outcome(status, missed) == expected


def test_kept_rate_leaves_cancelled_plans_out_and_is_none_without_plans():
    assert kept_rate(2, 1, 1) == Fraction(1, 2)
    assert kept_rate(0, 0, 0) is None
    assert percent(Fraction(2, 3)) == 67 and percent(Fraction(1, 200)) == 1 and percent(None) is None


def test_bucket_dates_bound_the_oldest_unpaid_due_date():
    as_of = date(2026, 11, 28)
    assert bucket_dates("1-29", as_of) == (date(2026, 10, 30), date(2026, 11, 27))
    assert bucket_dates("180+", as_of) == (None, date(2026, 6, 1))
    with pytest.raises(KeyError):
        bucket_dates("7-8", as_of)


def test_group_plans_by_status_kind_and_profile():
    groups = group_plans([
        ("active", "instalment", "cn", "CNY", False, 2, 200),
        ("active", "instalment", "cn", "CNY", True, 1, 50),
        ("broken", "settlement", "us", "USD", True, 1, 70),
        ("rejected", "instalment", "us", "USD", False, 3, 30),
    ])
    status = {g.key: (g.count, g.amounts, g.kept_rate) for g in groups["status"]}
    assert status["active"] == (3, {"CNY": 250}, Fraction(2, 3))
    assert status["rejected"] == (3, {"USD": 30}, None)
    profile = {g.key: (g.count, g.kept_rate) for g in groups["profile"]}
    assert profile == {"cn": (3, Fraction(2, 3)), "us": (4, Fraction(0))}
    total = overall(groups["kind"])
    assert (total.count, total.amounts, total.kept_rate) == (7, {"CNY": 250, "USD": 100},
                                                            Fraction(1, 2))


def test_team_total_adds_counts_and_money_per_currency():
    a = CollectorKpi(1, "A", contacts=2, plans_kept=1, collected={"CNY": 100})
    b = CollectorKpi(2, "B", contacts=3, plans_broken=1, collected={"CNY": 5, "USD": 7})
    team = team_total([a, b], accounts_held=4)
    assert (team.contacts, team.accounts_held, team.collected) == (5, 4, {"CNY": 105, "USD": 7})
    assert team.plans_kept_rate == Fraction(1, 2)


def test_worklist_priority_orders_band_then_broken_promises_then_amount_then_contact():
    from datetime import datetime, timezone

    from portal.collections.rules import PriorityFacts, bucket_rank, priority_key

    long_ago = datetime(2026, 10, 1, tzinfo=timezone.utc)
    lately = datetime(2026, 11, 27, tzinfo=timezone.utc)
    rows = {
        "band": PriorityFacts(60, 1_000, 0, lately, 9),        # 60-89 beats 30-59 whatever else
        "broken": PriorityFacts(31, 1_000, 2, lately, 8),
        "big": PriorityFacts(59, 90_000, 0, lately, 7),
        "never": PriorityFacts(30, 5_000, 0, None, 6),
        "old": PriorityFacts(45, 5_000, 0, long_ago, 5),
        "late": PriorityFacts(40, 5_000, 0, lately, 4),
        "tie": PriorityFacts(40, 5_000, 0, lately, 10),        # same facts: lower id first
    }
    order = sorted(rows, key=lambda k: priority_key(rows[k]))
    assert order == ["band", "broken", "big", "never", "old", "late", "tie"]
    assert [bucket_rank(d) for d in (0, 1, 29, 30, 90, 179, 180, 900)] == [0, 1, 1, 2, 4, 4, 5, 5]


def test_priority_order_is_priority_key_of_the_same_facts():
    from datetime import datetime, timedelta, timezone

    from portal.collections.rules import PriorityFacts, priority_key, priority_order

    moment = datetime(2026, 11, 27, 9, tzinfo=timezone.utc)
    for days in (0, 1, 29, 30, 59, 60, 90, 180, 400):
        for overdue, broken, contact, account_id in ((0, 0, None, 1), (5_000, 2, moment, 7),
                                                     (90_000, 0, moment - timedelta(days=40), 3)):
            facts = PriorityFacts(days, overdue, broken, contact, account_id)
            assert priority_order(days, overdue, broken, contact, account_id) == priority_key(facts)
