"""Issue 16: the pure rules of changing an agreed plan's schedule (portal.plans.servicing_rules)."""
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from portal.plans.servicing_rules import (
    DEFAULTS, Counts, Row, ServicingPolicy, ServicingRefused, allowed_kinds, change_date, delay,
    skip, unusable_keys,
)

POLICY = ServicingPolicy.from_section(DEFAULTS)
TODAY = date(2026, 11, 28)
STARTED = date(2026, 11, 1)


def rows(count=6, first=date(2026, 12, 5), amount=10_000, paid=0):
    """A monthly schedule whose first `paid` instalments are paid."""
    return [Row(key=100 + i, seq=i + 1, due_date=date(first.year + (first.month + i - 1) // 12,
                                                      (first.month + i - 1) % 12 + 1, first.day),
                amount=amount, paid_amount=amount if i < paid else 0, paid=i < paid)
            for i in range(count)]


def test_a_date_change_moves_every_payment_to_come_and_keeps_the_day_of_month():
    new = change_date(rows(), date(2026, 12, 15), frequency="monthly", today=TODAY,
                      started=STARTED, policy=POLICY, counts=Counts())
    assert [r.due_date for r in new][:3] == [date(2026, 12, 15), date(2027, 1, 15),
                                             date(2027, 2, 15)]
    assert [r.amount for r in new] == [r.amount for r in rows()]


@pytest.mark.parametrize("new_first, code", [
    (date(2026, 12, 21), "date_too_far"),   # 16 days from 5 December
    (date(2026, 11, 27), "date_past"),
    (date(2026, 12, 5), "date_unchanged"),
])
def test_a_date_change_outside_the_policy_is_refused(new_first, code):
    with pytest.raises(ServicingRefused) as refused:
        change_date(rows(), new_first, frequency="monthly", today=TODAY, started=STARTED,
                    policy=POLICY, counts=Counts())
    assert refused.value.code == code


def test_the_limits_are_counted_from_what_was_recorded():
    used = Counts(date_changes=2, skips=1)
    assert allowed_kinds(POLICY, used) == {"date_change": "limit_reached", "delay": None,
                                           "skip": "limit_reached"}
    off = replace(POLICY, date_change_allowed=False, delay_max_days=0, skips_per_plan=0)
    assert set(allowed_kinds(off, Counts()).values()) == {"not_allowed"}
    with pytest.raises(ServicingRefused, match="limit_reached"):
        skip(rows(), 2, frequency="monthly", started=STARTED, policy=POLICY, counts=used)


def test_a_delay_is_once_per_instalment_within_the_days_and_before_the_next_payment():
    schedule = rows()
    new = delay(schedule, 1, date(2026, 12, 19), today=TODAY, started=STARTED, policy=POLICY,
                counts=Counts())
    assert new[0].due_date == date(2026, 12, 19) and new[1:] == schedule[1:]
    for when, counts, code in [
            (date(2026, 12, 20), Counts(), "delay_too_far"),
            (date(2026, 12, 10), Counts(delayed_keys=frozenset({100})), "already_delayed"),
            (date(2026, 12, 4), Counts(), "date_past")]:
        with pytest.raises(ServicingRefused, match=code):
            delay(schedule, 1, when, today=TODAY, started=STARTED, policy=POLICY, counts=counts)
    weekly = [replace(r, due_date=date(2026, 12, 5) + timedelta(days=7 * i))
              for i, r in enumerate(schedule)]
    with pytest.raises(ServicingRefused, match="date_after_next"):
        delay(weekly, 1, date(2026, 12, 12), today=TODAY, started=STARTED, policy=POLICY,
              counts=Counts())


def test_a_missed_instalment_delayed_is_due_again_and_a_paid_one_cannot_change():
    schedule = [replace(rows()[0], due_date=date(2026, 11, 20), missed=True)] + rows()[1:]
    new = delay(schedule, 1, date(2026, 12, 1), today=TODAY, started=STARTED, policy=POLICY,
                counts=Counts())
    assert new[0].status == "due" and new[0].due_date == date(2026, 12, 1)
    with pytest.raises(ServicingRefused, match="already_paid"):
        skip(rows(paid=1), 1, frequency="monthly", started=STARTED, policy=POLICY,
             counts=Counts())


def test_a_skipped_instalment_goes_to_the_end_and_the_plan_lasts_one_period_longer():
    new = skip(rows(count=3), 2, frequency="monthly", started=STARTED, policy=POLICY,
               counts=Counts())
    assert [(r.key, r.seq, r.due_date) for r in new] == [
        (100, 1, date(2026, 12, 5)), (102, 2, date(2027, 2, 5)), (101, 3, date(2027, 3, 5))]


def test_no_change_may_go_beyond_the_longest_term():
    short = replace(POLICY, max_term_months=3)
    with pytest.raises(ServicingRefused, match="beyond_term"):
        skip(rows(count=3), 1, frequency="monthly", started=STARTED, policy=short,
             counts=Counts())


def test_a_partly_paid_instalment_cannot_be_skipped():
    schedule = [replace(rows()[0], paid_amount=1)] + rows()[1:]
    with pytest.raises(ServicingRefused, match="partly_paid"):
        skip(schedule, 1, frequency="monthly", started=STARTED, policy=POLICY, counts=Counts())


def test_a_section_the_code_cannot_read_is_named_and_its_keys_fall_back():
    bad = {"date_change_allowed": "yes", "delay_max_days": 61, "skips_per_plan": -1,
           "max_term_months": True}
    assert sorted(unusable_keys(bad)) == ["date_change_allowed", "delay_max_days",
                                          "max_term_months", "skips_per_plan"]
    assert unusable_keys([]) == [""]
    assert ServicingPolicy.from_section(bad) == POLICY


@st.composite
def plans(draw):
    count = draw(st.integers(1, 24))
    amounts = draw(st.lists(st.integers(1, 10**9), min_size=count, max_size=count))
    paid = draw(st.integers(0, count - 1))
    partial = draw(st.integers(0, amounts[paid] - 1))
    frequency = draw(st.sampled_from(["weekly", "fortnightly", "monthly"]))
    step = {"weekly": 7, "fortnightly": 14, "monthly": 31}[frequency]
    first = TODAY + timedelta(days=draw(st.integers(-step * paid, 20)))
    schedule = [Row(key=i + 1, seq=i + 1, due_date=first + timedelta(days=step * i),
                    amount=a, paid_amount=a if i < paid else (partial if i == paid else 0),
                    paid=i < paid, missed=i >= paid and first + timedelta(days=step * i) < TODAY)
                for i, a in enumerate(amounts)]
    return schedule, frequency


@given(plans(), st.sampled_from(["date_change", "delay", "skip"]), st.integers(1, 24),
       st.integers(-20, 20))
def test_every_change_keeps_the_schedule_summing_to_what_is_left_to_pay(plan, kind, seq, days):
    schedule, frequency = plan
    policy = replace(POLICY, max_term_months=120)
    upcoming = [r for r in schedule if not r.paid and r.due_date >= TODAY]
    try:
        if kind == "date_change":
            base = upcoming[0].due_date if upcoming else TODAY
            new = change_date(schedule, base + timedelta(days=days), frequency=frequency,
                              today=TODAY, started=STARTED, policy=policy, counts=Counts())
        elif kind == "delay":
            target = next((r for r in schedule if r.seq == seq), schedule[0])
            new = delay(schedule, seq, target.due_date + timedelta(days=abs(days)), today=TODAY,
                        started=STARTED, policy=policy, counts=Counts())
        else:
            new = skip(schedule, seq, frequency=frequency, started=STARTED, policy=policy,
                       counts=Counts())
    except ServicingRefused:
        return
    assert sum(r.amount for r in new) == sum(r.amount for r in schedule)
    assert sum(r.still_due for r in new if not r.paid) == \
        sum(r.still_due for r in schedule if not r.paid)
    assert sorted(r.seq for r in new) == list(range(1, len(schedule) + 1))
    before = {r.key: r for r in schedule}
    assert all(r == before[r.key] for r in new if r.paid)  # paid instalments never move
    assert {r.key: (r.amount, r.paid_amount) for r in new} == \
        {r.key: (r.amount, r.paid_amount) for r in schedule}
    ordered = sorted(new, key=lambda r: r.seq)
    assert all(a.due_date <= b.due_date for a, b in zip(ordered, ordered[1:]))


def test_a_date_change_never_moves_a_payment_to_come_past_one_paid_ahead():
    # Found by the money machine: 4 monthly payments from 9 November; paying ahead paid the
    # first and the last and part of the third; the second was skipped to the end (9 March).
    # Moving the payments to come 14 days earlier put that last payment (26 January) before
    # the one paid ahead (9 February), which never moves: the schedule lost its order.
    paid, due = dict(paid=True, paid_amount=107_500), dict(paid_amount=0)
    schedule = [Row(1, 1, date(2026, 11, 9), 107_500, **paid),
                Row(3, 2, date(2027, 1, 9), 107_500, paid_amount=49_445),
                Row(4, 3, date(2027, 2, 9), 107_500, **paid),
                Row(2, 4, date(2027, 3, 9), 107_500, **due)]
    change = dict(frequency="monthly", today=date(2026, 11, 4), started=date(2026, 11, 2),
                  policy=POLICY, counts=Counts())
    with pytest.raises(ServicingRefused) as refused:
        change_date(schedule, date(2026, 12, 26), **change)
    assert refused.value.code == "date_after_next"
    later = change_date(schedule, date(2027, 1, 20), **change)
    assert [r.due_date for r in later] == [date(2026, 11, 9), date(2027, 1, 20),
                                           date(2027, 2, 9), date(2027, 2, 20)]
