"""The promise-to-pay policy: its section's checks, the limits of a promise made online and
why one may be refused (portal.collections.promise_rules)."""
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from portal.collections import promise_rules as rules

TODAY = date(2026, 11, 28)
PROFILES = Path(__file__).resolve().parents[2] / "portal" / "policy" / "profiles"
POLICY = rules.PromisePolicy.from_section(rules.DEFAULTS)


@pytest.mark.parametrize("profile", ["cn", "us"])
def test_each_shipped_profile_has_a_usable_promises_section_citing_the_issuers_choice(profile):
    section = json.loads((PROFILES / f"{profile}.json").read_text())["promises"]
    assert rules.unusable_keys(section) == []
    assert section["rule"].startswith("Issuer's choice")
    assert set(rules.DEFAULTS) <= set(section)


@pytest.mark.parametrize(("section", "bad"), [
    ([], [""]),
    ({"max_days_ahead": 0}, ["max_days_ahead"]),
    ({"max_days_ahead": 91}, ["max_days_ahead"]),
    ({"max_days_ahead": "14"}, ["max_days_ahead"]),
    ({"max_days_ahead": True}, ["max_days_ahead"]),
    ({"grace_days": -1}, ["grace_days"]),
    ({"grace_days": 31}, ["grace_days"]),
    ({"minimum_percent_of_overdue": 101}, ["minimum_percent_of_overdue"]),
    ({"broken_limit": 0}, ["broken_limit"]),
    ({"broken_window_days": 366}, ["broken_window_days"]),
    ({"minimum_amount": {}}, ["minimum_amount"]),
    ({"minimum_amount": {"CNY": 0}}, ["minimum_amount"]),
    ({"minimum_amount": {"CNY": 1.5}}, ["minimum_amount"]),
    ({"minimum_amount": [100]}, ["minimum_amount"]),
    ({"grace_days": 0, "max_days_ahead": 90, "minimum_percent_of_overdue": 0}, []),
])
def test_a_section_the_code_cannot_use_is_refused_key_by_key(section, bad):
    assert rules.unusable_keys(section) == bad


def test_what_a_section_lacks_or_cannot_use_comes_from_the_defaults():
    policy = rules.PromisePolicy.from_section({"grace_days": 99, "max_days_ahead": 7})
    assert (policy.grace_days, policy.max_days_ahead) == (3, 7)
    assert rules.PromisePolicy.from_section(None) == POLICY
    assert POLICY.minimum_for("CNY") == 10_000 and POLICY.minimum_for("EUR") == 1_000


def test_the_minimum_is_the_larger_of_the_amount_and_the_share_of_overdue():
    assert rules.limits(POLICY, "CNY", 50_000, 500_000, TODAY).least == 10_000
    assert rules.limits(POLICY, "CNY", 300_000, 500_000, TODAY).least == 30_000
    assert rules.limits(POLICY, "CNY", 300_001, 500_000, TODAY).least == 30_001  # rounded up


def test_the_minimum_never_exceeds_what_is_overdue_and_the_maximum_is_all_owed():
    bounds = rules.limits(POLICY, "CNY", 4_000, 9_000, TODAY)
    assert (bounds.least, bounds.most) == (4_000, 9_000)
    assert (bounds.earliest, bounds.latest) == (TODAY, TODAY + timedelta(days=14))


@given(overdue=st.integers(1, 10**9), extra=st.integers(0, 10**9),
       percent=st.integers(0, 100), minimum=st.integers(1, 10**8))
def test_a_promise_of_the_whole_overdue_amount_today_is_always_within_the_limits(
        overdue, extra, percent, minimum):
    policy = rules.PromisePolicy.from_section({"minimum_percent_of_overdue": percent,
                                               "minimum_amount": {"default": minimum}})
    bounds = rules.limits(policy, "XXX", overdue, overdue + extra, TODAY)
    assert rules.check_promise(bounds, overdue, TODAY) == []
    assert bounds.least <= overdue <= bounds.most


def test_each_problem_of_a_promise_is_named():
    bounds = rules.limits(POLICY, "CNY", 50_000, 500_000, TODAY)
    assert rules.check_promise(bounds, 9_999, TODAY - timedelta(days=1)) == [
        rules.AMOUNT_TOO_SMALL, rules.DATE_PAST]
    assert rules.check_promise(bounds, 500_001, TODAY + timedelta(days=15)) == [
        rules.AMOUNT_TOO_LARGE, rules.DATE_TOO_FAR]
    assert rules.check_promise(bounds, 500_000, TODAY + timedelta(days=14)) == []


def _refusal(**facts):
    base = dict(overdue=50_000, plan_active=False, open_promise=False, broken_last_days=[],
                today=TODAY)
    return rules.refusal(POLICY, **{**base, **facts})


def test_why_a_promise_cannot_be_made_online_first_reason_first():
    assert _refusal() is None
    assert _refusal(plan_active=True, open_promise=True) == rules.PLAN_ACTIVE
    assert _refusal(open_promise=True, overdue=0) == rules.OPEN_PROMISE
    assert _refusal(overdue=0) == rules.NOTHING_OVERDUE


def test_two_promises_broken_in_the_window_refuse_until_the_older_leaves_it():
    broken = [TODAY - timedelta(days=10), TODAY - timedelta(days=30)]
    assert _refusal(broken_last_days=broken) == rules.TOO_MANY_BROKEN
    until = rules.refused_until(POLICY, broken, TODAY)
    assert until == TODAY - timedelta(days=30) + timedelta(days=91)
    assert _refusal(broken_last_days=broken, today=until) is None
    assert _refusal(broken_last_days=broken, today=until - timedelta(days=1)) == \
        rules.TOO_MANY_BROKEN
    assert _refusal(broken_last_days=broken[:1]) is None  # one broken is not enough


def test_with_three_broken_the_second_oldest_decides():
    broken = [TODAY - timedelta(days=d) for d in (5, 50, 80)]
    assert rules.refused_until(POLICY, broken, TODAY) == TODAY - timedelta(days=50) + \
        timedelta(days=91)


def test_the_last_day_adds_the_grace_days():
    assert rules.last_day(TODAY, 3) == date(2026, 12, 1)
