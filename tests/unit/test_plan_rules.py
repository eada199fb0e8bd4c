"""The "plans" policy section: parsing, stage overrides, envelope and validation."""
import copy
import json
import os
from decimal import Decimal

import pytest

from portal.plans.rules import PlanPolicyInvalid, parse_plans_section, validate_plans_section

HERE = os.path.dirname(__file__)
SECTIONS = {p: json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "portal", "policy",
                                         "profiles", f"{p}.json")))["plans"] for p in ("cn", "us")}


@pytest.mark.parametrize("profile", ["cn", "us"])
def test_shipped_sections_are_valid(profile):
    assert validate_plans_section(SECTIONS[profile]) == []


def test_cn_allows_sixty_monthly_instalments_five_years():
    policy = parse_plans_section(SECTIONS["cn"])
    assert policy.limits.max_instalments == 60
    assert "monthly" in policy.limits.frequencies


def test_envelope_inherits_limits_it_does_not_tighten():
    policy = parse_plans_section(SECTIONS["cn"])
    assert policy.envelope.max_instalments == 12
    assert policy.envelope.min_instalment == policy.limits.min_instalment
    assert policy.envelope.grace_days == policy.limits.grace_days


def test_stage_override_applies_only_to_that_stage():
    m3 = parse_plans_section(SECTIONS["cn"], stage="m3")
    early = parse_plans_section(SECTIONS["cn"], stage="early")
    assert m3.limits.min_down_payment_percent == Decimal("5")
    assert m3.envelope.max_instalments == 24
    assert early.limits.min_down_payment_percent == Decimal("0")
    assert early.envelope.max_instalments == 12


def test_envelope_wider_than_limits_is_refused():
    section = copy.deepcopy(SECTIONS["us"])
    section["auto_approval"]["max_instalments"] = 48
    assert ("plans.auto_approval.max_instalments", "envelope_wider") in validate_plans_section(section)


@pytest.mark.parametrize("key,value,code", [
    ("max_instalments", "sixty", "invalid"),
    ("min_instalments", -1, "negative"),
    ("settlement_discount_percent", "120", "percent_out_of_range"),
    ("frequencies", ["daily"], "unknown_frequency"),
    ("plan_types", ["loan"], "unknown_type"),
    ("grace_days", None, "missing"),
])
def test_bad_limit_values_are_named(key, value, code):
    section = copy.deepcopy(SECTIONS["cn"])
    section["limits"][key] = value
    assert (f"plans.limits.{key}", code) in validate_plans_section(section)


def test_min_above_max_is_refused():
    section = copy.deepcopy(SECTIONS["cn"])
    section["limits"]["min_instalments"] = 61
    assert ("plans.limits.max_instalments", "min_above_max") in validate_plans_section(section)


def test_missing_authority_is_refused():
    section = copy.deepcopy(SECTIONS["cn"])
    del section["authority"]
    with pytest.raises(PlanPolicyInvalid):
        parse_plans_section(section)


def test_floats_are_not_money_or_percentages():
    section = copy.deepcopy(SECTIONS["cn"])
    section["limits"]["min_down_payment_percent"] = 5.5
    assert ("plans.limits.min_down_payment_percent", "invalid") in validate_plans_section(section)
