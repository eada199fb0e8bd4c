"""Arms drawn by keyed hash: sticky, roughly in the share asked for, different per salt; and
what a definition may say."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.experiments.rules import Definition, arm_for, check, parse_counts, running

TODAY = date(2026, 11, 28)


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=64), st.integers(1, 2**31 - 1), st.integers(1, 99))
def test_an_account_always_draws_the_same_arm(salt, account_id, percent):
    assert arm_for(salt, account_id, percent) == arm_for(salt, account_id, percent)


@pytest.mark.parametrize("percent", [10, 50, 80])
def test_arms_are_roughly_in_the_share_asked_for(percent):
    n = 10_000
    b = sum(arm_for("salt-x", i, percent) == "b" for i in range(1, n + 1))
    # 4.5 standard deviations of a binomial draw: fails by chance about once in 150,000 runs
    sd = (n * percent / 100 * (1 - percent / 100)) ** 0.5
    assert abs(b - n * percent / 100) < 4.5 * sd


def test_another_salt_draws_other_arms():
    first = [arm_for("one", i, 50) for i in range(1, 201)]
    second = [arm_for("two", i, 50) for i in range(1, 201)]
    assert first != second


@settings(max_examples=100)
@given(st.integers(1, 2**31 - 1), st.integers(1, 98))
def test_a_larger_challenger_share_never_moves_an_account_back_to_the_champion(account_id, p):
    if arm_for("s", account_id, p) == "b":
        assert arm_for("s", account_id, p + 1) == "b"


def defn(**changes):
    base = dict(name="Four payments", kind="offers", profile="cn", starts_on=TODAY,
                ends_on=date(2027, 1, 31), challenger_percent=50,
                arm_names={"a": "Champion", "b": "Challenger"},
                settings={"a": {"counts": [3, 6, 12], "first_due_days": 7},
                          "b": {"counts": [4], "first_due_days": 14}})
    base.update(changes)
    return Definition(**base)


def test_a_sound_definition_passes():
    assert check(defn(), TODAY, ["cn", "us"]) == []


@pytest.mark.parametrize("changes, code", [
    ({"name": " "}, "name"), ({"name": "x" * 61}, "name"), ({"kind": "price"}, "kind"),
    ({"profile": "uk"}, "profile"), ({"starts_on": date(2026, 11, 27)}, "start_past"),
    ({"ends_on": date(2026, 11, 27)}, "end_before_start"), ({"challenger_percent": 0}, "split"),
    ({"starts_on": date(2028, 1, 1), "ends_on": date(2028, 2, 1)}, "too_far"),
    ({"ends_on": date(2028, 1, 1)}, "too_far"),
    ({"challenger_percent": 100}, "split"),
    ({"settings": {"a": {"counts": [3], "first_due_days": 7},
                   "b": {"counts": None, "first_due_days": 7}}}, "counts"),
    ({"settings": {"a": {"counts": [3], "first_due_days": 61},
                   "b": {"counts": [4], "first_due_days": 7}}}, "first_due_days"),
    ({"settings": {"a": {"counts": [3], "first_due_days": 7},
                   "b": {"counts": [3], "first_due_days": 7}}}, "same_arms"),
    ({"kind": "reminder", "settings": {"a": {"template": "standard"},
                                       "b": {"template": "shout"}}}, "template"),
])
def test_a_bad_definition_is_refused_with_its_reason(changes, code):
    assert code in {c for _, c in check(defn(**changes), TODAY, ["cn", "us"])}


@pytest.mark.parametrize("text, counts", [
    ("3, 6, 12", [3, 6, 12]), ("12,3,3", [3, 12]), ("4，8", [4, 8]), ("", None), ("0", None),
    ("121", None), ("3, x", None), ("٣", None), ("+3", None), (",".join(["1"] * 13), None)])
def test_counts_typed_by_risk(text, counts):
    assert parse_counts(text) == counts


def test_an_experiment_runs_from_its_start_to_its_end_or_the_day_before_its_stop():
    start, end = date(2026, 12, 1), date(2026, 12, 31)
    assert not running(start, end, None, date(2026, 11, 30))
    assert running(start, end, None, start) and running(start, end, None, end)
    assert not running(start, end, None, date(2027, 1, 1))
    assert running(start, end, date(2026, 12, 10), date(2026, 12, 9))
    assert not running(start, end, date(2026, 12, 10), date(2026, 12, 10))
    assert not running(start, end, start, start)
