"""One account, one day: the nightly run's pure logic."""
import json
import os
from datetime import date

from portal.consequences.engine import AccountDay, run_day
from portal.consequences.pauses import Pause
from portal.policy.rules import parse_policy

PROFILES = os.path.join(os.path.dirname(__file__), "..", "..", "portal", "policy", "profiles")


def _policy(name="cn", **penalty_changes):
    with open(os.path.join(PROFILES, f"{name}.json"), encoding="utf-8") as fh:
        document = json.load(fh)
    document["penalty_interest"].update(penalty_changes)
    return parse_policy(document, profile=name, version=1, effective_from=date(2000, 1, 1))


def _account(**kw):
    values = dict(account_id=1, currency="CNY", minimum_due=50_000, cycle=date(2026, 1, 31),
                  feed_as_of=date(2026, 1, 31), principal=500_000)
    values.update(kw)
    return AccountDay(**values)


def test_first_day_late_posts_fee_interest_and_moves_to_early_stage():
    state = _account()
    out = run_day(state, _policy(), date(2026, 2, 1), paused=False)
    assert out.dpd == 1 and out.stage_move == ("current", "early")
    assert [(p.kind, p.amount, p.source_ref) for p in out.postings] == [
        ("fee", 2_500, "nightly:2026-02-01:late_fee"),
        ("interest", 250, "nightly:2026-02-01:interest")]
    assert state.overdue == 52_500 and state.interest == 250


def test_days_past_due_crosses_the_short_february_month_end():
    state = _account(recorded={"late_fee", "penalty_interest"}, stage="early")
    out = run_day(state, _policy(), date(2026, 3, 2), paused=False)  # 30 days after 31 Jan
    assert out.dpd == 30 and out.stage_move == ("early", "m1")
    assert [e.kind for e in out.events] == ["credit_report"]


def test_each_consequence_is_produced_once_per_cycle():
    state = _account()
    policy = _policy()
    run_day(state, policy, date(2026, 2, 1), paused=False)
    again = run_day(state, policy, date(2026, 2, 2), paused=False)
    assert again.events == [] and [p.kind for p in again.postings] == ["interest"]


def test_consequences_passed_before_the_statement_was_fed_are_not_recorded():
    state = _account(feed_as_of=date(2026, 3, 15))  # 43 days late when fed in
    out = run_day(state, _policy(), date(2026, 3, 16), paused=False)
    assert out.events == []
    assert [p.kind for p in out.postings] == ["interest"]


def test_paused_day_records_stage_but_no_fee_consequence_or_cn_interest():
    state = _account()
    out = run_day(state, _policy(), date(2026, 2, 1), paused=True)
    assert out.stage_move == ("current", "early")
    assert out.postings == [] and out.events == []


def test_interest_continues_during_a_pause_when_the_policy_does_not_freeze_it():
    state = _account(currency="USD", minimum_due=5_000, cycle=date(2026, 1, 1),
                     feed_as_of=date(2026, 3, 1), principal=100_000)
    policy = _policy("us", freeze_while_paused=False)
    out = run_day(state, policy, date(2026, 3, 2), paused=True)  # 60 days late
    assert [p.kind for p in out.postings] == ["interest"] and out.events == []


def test_charge_off_stops_interest_and_block_then_charge_off_statuses():
    state = _account(recorded={"late_fee", "penalty_interest", "credit_report",
                               "formal_notice", "legal_referral"}, stage="m3")
    out = run_day(state, _policy(), date(2026, 7, 30), paused=False)  # 180 days
    assert out.status_change == ("open", "charged_off")
    assert {e.kind for e in out.events} == {"card_block", "charge_off"}
    assert out.postings == []


def test_formal_notice_states_overdue_amount_and_pay_by_date():
    state = _account(recorded={"late_fee", "penalty_interest", "credit_report", "card_block"},
                     fees_after_feed=2_500, fees=2_500)
    out = run_day(state, _policy(), date(2026, 4, 1), paused=False)  # 60 days
    assert out.notice.amount == 52_500 and out.notice.pay_by == date(2026, 4, 15)


def test_nothing_overdue_means_no_escalation_and_no_interest():
    state = _account(minimum_due=0)
    out = run_day(state, _policy(), date(2026, 2, 1), paused=False)
    assert out.dpd == 0 and out.postings == [] and out.events == [] and out.stage_move is None


def test_a_partial_pause_charges_the_late_fee_but_takes_no_other_step():
    state = _account()
    support = Pause("vulnerability", full=False, freezes=frozenset({"escalation"}))
    out = run_day(state, _policy(), date(2026, 3, 2), paused=support)  # 30 days late
    kinds = {e.kind for e in out.events}
    assert "late_fee" in kinds and kinds <= {"late_fee", "penalty_interest"}
    assert any(p.kind == "interest" for p in out.postings)


def test_a_pause_freezing_interest_and_fees_posts_nothing_that_day():
    state = _account()
    space = Pause("breathing_space", full=False,
                  freezes=frozenset({"interest", "fees", "escalation"}))
    out = run_day(state, _policy(), date(2026, 3, 2), paused=space)
    assert out.postings == [] and out.events == []


def test_a_fee_whose_day_falls_in_a_pause_that_waives_fees_is_waived_never_charged():
    state = _account()
    space = Pause("breathing_space", full=False, since=date(2026, 1, 31),
                  freezes=frozenset({"interest", "fees", "escalation"}),
                  waives_fees_from=date(2026, 1, 31))
    out = run_day(state, _policy(), date(2026, 2, 1), paused=space)  # the fee's day
    assert out.postings == []
    assert [(e.kind, e.amount, e.waived) for e in out.events] == [("late_fee", 2_500, True)]
    after = run_day(state, _policy(), date(2026, 2, 2), paused=None)  # the period is over
    assert [p.kind for p in after.postings] == ["interest"]  # no fee, ever, in this cycle
    assert "late_fee" not in {e.kind for e in after.events}


def test_a_fee_due_before_a_waiving_pause_began_is_deferred_not_waived():
    state = _account()
    space = Pause("breathing_space", full=False, since=date(2026, 2, 5),
                  freezes=frozenset({"fees"}), waives_fees_from=date(2026, 2, 5))
    # the fee fell due on 1 February (a plan kept it back); the breathing space began later
    out = run_day(state, _policy(), date(2026, 2, 6), paused=space)
    assert "late_fee" not in {e.kind for e in out.events}
    after = run_day(state, _policy(), date(2026, 2, 7), paused=None)
    assert [(e.kind, e.waived) for e in after.events if e.kind == "late_fee"] == [
        ("late_fee", False)]
    assert any(p.kind == "fee" for p in after.postings)


def test_a_plan_or_dispute_pause_defers_the_fee_as_before():
    state = _account()
    run_day(state, _policy(), date(2026, 2, 1), paused=True)
    out = run_day(state, _policy(), date(2026, 2, 2), paused=None)
    assert [(e.kind, e.waived) for e in out.events if e.kind == "late_fee"] == [
        ("late_fee", False)]
