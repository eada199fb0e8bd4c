"""Policy documents: the shipped profiles parse, and each kind of mistake has its error code."""
import copy
import json
import os
from datetime import date
from decimal import Decimal

import pytest

from portal.policy.rules import PolicyInvalid, parse_policy, validate_document

PROFILES = os.path.join(os.path.dirname(__file__), "..", "..", "portal", "policy", "profiles")


def _doc(name="cn"):
    with open(os.path.join(PROFILES, f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)


def _codes(doc):
    return {(e.code, e.path) for e in validate_document(doc)}


@pytest.mark.parametrize("name", ["cn", "us"])
def test_shipped_profiles_are_valid_and_cite_a_rule_in_both_languages(name):
    policy = parse_policy(_doc(name), profile=name, version=1, effective_from=date(2000, 1, 1))
    assert [c.kind for c in policy.consequences][-1] == "charge_off"
    for consequence in policy.consequences:
        assert consequence.rule and set(consequence.explanation) >= {"en", "zh_Hans"}
    assert policy.stage_for(0) == "current" and policy.stage_for(180) == "charge_off"


def test_shipped_texts_never_mention_criminal_malicious_overdraft():
    for name in ("cn", "us"):
        text = json.dumps(_doc(name), ensure_ascii=False).lower()
        assert "malicious" not in text and "恶意透支" not in text and "criminal" not in text


def test_cn_states_the_five_year_credit_report_rule_and_us_the_180_day_charge_off():
    cn = parse_policy(_doc("cn"), profile="cn", version=1, effective_from=date(2000, 1, 1))
    us = parse_policy(_doc("us"), profile="us", version=1, effective_from=date(2000, 1, 1))
    assert "five years from the day the overdue amount is repaid" in \
        cn.consequence("credit_report").explanation["en"]
    assert "art. 16" in cn.consequence("credit_report").rule
    assert "180 days past due" in us.consequence("charge_off").explanation["en"]
    assert cn.section("contact")["verified"] is False


def test_thresholds_that_do_not_increase_are_refused():
    doc = _doc()
    doc["stages"][3]["min_dpd"] = 30
    assert ("thresholds_not_increasing", "stages") in _codes(doc)


@pytest.mark.parametrize("rate", ["100.01", "-1", "abc"])
def test_rates_outside_0_to_100_are_refused(rate):
    doc = _doc()
    doc["penalty_interest"]["annual_rate"] = rate
    codes = {c for c, _ in _codes(doc)}
    assert codes & {"rate_out_of_range", "invalid"}


def test_days_must_be_positive_and_day_count_360_or_365():
    doc = _doc()
    doc["consequences"]["card_block"]["dpd"] = 0
    doc["penalty_interest"]["day_count"] = 364
    assert _codes(doc) >= {("day_not_positive", "consequences.card_block.dpd"),
                           ("day_count_invalid", "penalty_interest.day_count")}


def test_a_missing_text_in_one_language_is_refused():
    doc = _doc()
    doc["consequences"]["charge_off"]["explanation"]["zh_Hans"] = "  "
    assert _codes(doc) == {("missing_text", "consequences.charge_off.explanation.zh_Hans")}


def test_unknown_kind_and_fee_bounds_are_refused():
    doc = _doc()
    doc["consequences"]["jail"] = copy.deepcopy(doc["consequences"]["card_block"])
    doc["late_fee"]["min"], doc["late_fee"]["max"] = 5000, 1000
    assert _codes(doc) >= {("unknown_kind", "consequences.jail"),
                           ("fee_min_above_max", "late_fee.max")}


def test_parse_refuses_with_every_error_listed():
    doc = _doc()
    doc["stages"][2]["min_dpd"] = 0
    doc["penalty_interest"]["annual_rate"] = "120"
    with pytest.raises(PolicyInvalid) as exc:
        parse_policy(doc, profile="cn", version=2, effective_from=date(2027, 1, 1))
    assert {e.code for e in exc.value.errors} == {"thresholds_not_increasing",
                                                  "rate_out_of_range"}


def test_unknown_sections_are_kept_for_other_features():
    doc = _doc()
    doc["plans"] = {"max_instalments": 60}
    policy = parse_policy(doc, profile="cn", version=2, effective_from=date(2027, 1, 1))
    assert policy.section("plans") == {"max_instalments": 60}


@pytest.mark.parametrize("minimum_due, fee", [(50_000, 2_500), (10_000, 1_000), (600, 600),
                                              (10_001, 1_000), (30_010, 1_501)])
def test_cn_late_fee_is_five_percent_of_minimum_due_at_least_ten_yuan_capped_at_minimum(
        minimum_due, fee):
    policy = parse_policy(_doc("cn"), profile="cn", version=1, effective_from=date(2000, 1, 1))
    assert policy.late_fee.amount(minimum_due) == fee
    assert policy.penalty_interest.annual_rate == Decimal("18.25")
