"""Dispute state machine, routing rules, least-loaded choice and resolution limits."""
import pytest

from portal.disputes.rules import (ACTIVE, DISPUTE_MACHINE, TERMINAL, Agent, DisputeStatus as S,
                                   IllegalTransition, ResolutionRefused, Rule, check_resolution,
                                   choose_agent, is_contesting, match_rule, needs_approval,
                                   split_credit, transition)

ALLOWED = {
    (S.OPEN, S.ACKNOWLEDGED), (S.OPEN, S.AWAITING_CUSTOMER), (S.OPEN, S.ESCALATED),
    (S.OPEN, S.WITHDRAWN), (S.OPEN, S.PENDING_APPROVAL), (S.OPEN, S.RESOLVED_UPHELD),
    (S.OPEN, S.RESOLVED_PARTLY), (S.OPEN, S.REJECTED),
}
for source in (S.ACKNOWLEDGED, S.AWAITING_CUSTOMER, S.ESCALATED):
    ALLOWED |= {(source, t) for t in (S.AWAITING_CUSTOMER, S.ESCALATED, S.WITHDRAWN,
                                      S.PENDING_APPROVAL, S.RESOLVED_UPHELD, S.RESOLVED_PARTLY,
                                      S.REJECTED, S.ACKNOWLEDGED) if t != source}
ALLOWED |= {(S.PENDING_APPROVAL, t) for t in (S.RESOLVED_UPHELD, S.RESOLVED_PARTLY,
                                              S.ACKNOWLEDGED, S.WITHDRAWN)}


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_transition_is_allowed_exactly_when_listed(source, target):
    if (source, target) in ALLOWED:
        assert transition(source, target) is target
    else:
        with pytest.raises(IllegalTransition) as excinfo:
            transition(source, target)
        assert excinfo.value.machine == "dispute"


def test_closed_disputes_are_terminal():
    for state in TERMINAL:
        assert DISPUTE_MACHINE.allowed_from(state) == frozenset()
    assert ACTIVE | TERMINAL == set(S)


def test_contesting_categories_are_the_four_that_dispute_the_debt():
    assert [c for c in ("wrong_amount", "not_my_debt", "already_paid",
                        "unauthorised_transaction", "conduct_complaint", "hardship_other")
            if is_contesting(c)] == ["wrong_amount", "not_my_debt", "already_paid",
                                     "unauthorised_transaction"]


RULES = [
    Rule(1, 50, None, None, None, None, "catch_all"),
    Rule(2, 10, "wrong_amount", None, 100_000, None, "big_billing"),
    Rule(3, 20, "wrong_amount", None, None, None, "billing"),
    Rule(4, 10, "wrong_amount", "zh_Hans", None, 99_999, "billing_zh"),
    Rule(5, 10, "conduct_complaint", None, None, None, "conduct"),
]


@pytest.mark.parametrize("category,language,amount,queue", [
    ("wrong_amount", "en", 150_000, "big_billing"),
    ("wrong_amount", "en", 100_000, "big_billing"),  # bounds are inclusive
    ("wrong_amount", "en", 99_999, "billing"),
    ("wrong_amount", "zh_Hans", 5_000, "billing_zh"),
    ("wrong_amount", "zh_Hans", 200_000, "big_billing"),
    ("wrong_amount", "en", None, "billing"),  # no amount never meets an amount bound
    ("conduct_complaint", "en", None, "conduct"),
    ("hardship_other", "en", None, "catch_all"),
])
def test_first_matching_rule_by_priority_picks_the_queue(category, language, amount, queue):
    assert match_rule(RULES, category, language, amount).queue == queue


def test_equal_priority_ties_go_to_the_older_rule():
    rules = [Rule(9, 1, None, None, None, None, "b"), Rule(3, 1, None, None, None, None, "a")]
    assert match_rule(rules, "wrong_amount", "en", None).queue == "a"


def test_no_rule_matches_gives_none():
    assert match_rule(RULES[1:2], "hardship_other", "en", None) is None


def test_least_loaded_agent_speaking_the_language_is_chosen():
    agents = [Agent(1, frozenset({"en"}), 0), Agent(2, frozenset({"zh_Hans", "en"}), 3),
              Agent(3, frozenset({"zh_Hans"}), 1)]
    assert choose_agent(agents, "zh_Hans") == 3
    assert choose_agent(agents, "en") == 1


def test_tie_on_open_items_goes_to_the_lowest_id():
    agents = [Agent(7, frozenset({"en"}), 2), Agent(4, frozenset({"en"}), 2)]
    assert choose_agent(agents, "en") == 4


def test_nobody_speaks_the_language_leaves_it_unassigned():
    assert choose_agent([Agent(1, frozenset({"en"}), 0)], "zh_Hans") is None
    assert choose_agent([], "en") is None


def test_collectors_are_never_chosen_for_conduct_complaints():
    agents = [Agent(1, frozenset({"en"}), 0, is_collector=True), Agent(2, frozenset({"en"}), 9)]
    assert choose_agent(agents, "en", exclude_collectors=True) == 2
    assert choose_agent(agents[:1], "en", exclude_collectors=True) is None


def test_upheld_defaults_to_the_whole_contested_amount():
    assert check_resolution("upheld", None, 12_000) == 12_000
    assert check_resolution("upheld", 12_000, 12_000) == 12_000


@pytest.mark.parametrize("outcome,amount,contested,code", [
    ("upheld", 12_001, 12_000, "above_contested"),
    ("partly", 12_001, 12_000, "above_contested"),
    ("partly", 12_000, 12_000, "not_partial"),
    ("partly", None, 12_000, "amount_required"),
    ("partly", 0, 12_000, "not_positive"),
    ("upheld", -5, 12_000, "not_positive"),
    ("rejected", 100, 12_000, "amount_with_rejection"),
    ("partly", 100, None, "nothing_contested"),
    ("upheld", 100, None, "above_contested"),
    ("maybe", None, 100, "unknown_outcome"),
])
def test_resolution_amounts_outside_the_contested_amount_are_refused(outcome, amount,
                                                                     contested, code):
    with pytest.raises(ResolutionRefused) as excinfo:
        check_resolution(outcome, amount, contested)
    assert excinfo.value.code == code


def test_partly_upheld_and_rejected_amounts():
    assert check_resolution("partly", 5_000, 12_000) == 5_000
    assert check_resolution("rejected", None, 12_000) == 0
    assert check_resolution("upheld", None, None) == 0


def test_approval_is_needed_only_above_the_threshold():
    assert not needs_approval(100_000, 100_000)
    assert needs_approval(100_001, 100_000)


def test_credit_is_spread_over_contested_entries_then_principal():
    parts = [("fee", 3_000), ("interest", 2_000)]
    assert split_credit(4_000, parts) == [("fee", 3_000), ("interest", 1_000)]
    assert split_credit(6_000, parts) == [("fee", 3_000), ("interest", 2_000),
                                          ("principal", 1_000)]
    assert split_credit(500, []) == [("principal", 500)]


def test_a_rule_with_a_currency_matches_only_disputes_in_that_currency():
    rules = [Rule(1, 10, "wrong_amount", None, 100_000, None, "big_cny", "CNY"),
             Rule(2, 10, "wrong_amount", None, 100_000, None, "big_jpy", "JPY"),
             Rule(3, 50, None, None, None, None, "billing")]
    assert match_rule(rules, "wrong_amount", "en", 150_000, "CNY").queue == "big_cny"
    assert match_rule(rules, "wrong_amount", "en", 150_000, "JPY").queue == "big_jpy"
    assert match_rule(rules, "wrong_amount", "en", 150_000, "USD").queue == "billing"
    assert match_rule(rules, "wrong_amount", "en", 99_999, "JPY").queue == "billing"
