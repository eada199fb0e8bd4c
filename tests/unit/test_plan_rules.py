"""The "plans" policy section: parsing, stage overrides, envelope and validation."""
import copy
import json
import os
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.plans.choices import offers_for
from portal.plans.offers import Owed
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


def _interest(section, part, mode, rate=None):
    part = section.setdefault(part, {})
    part["interest"] = mode
    part.pop("interest_rate_percent", None)
    if rate is not None:
        part["interest_rate_percent"] = rate


def test_envelope_with_a_lower_reduced_rate_than_the_limits_is_refused():
    section = copy.deepcopy(SECTIONS["cn"])
    _interest(section, "limits", "reduced", "5")
    _interest(section, "auto_approval", "reduced", "2")
    errors = validate_plans_section(section)
    assert ("plans.auto_approval.interest_rate_percent", "envelope_wider") in errors
    assert {p.rsplit(".", 1)[1] for p, _ in errors} == {"interest_rate_percent"}  # stages too


def test_envelope_freezing_interest_the_limits_only_reduce_is_refused():
    section = copy.deepcopy(SECTIONS["cn"])
    _interest(section, "limits", "reduced", "5")
    _interest(section, "auto_approval", "frozen")
    errors = validate_plans_section(section)
    assert ("plans.auto_approval.interest", "envelope_wider") in errors
    assert {p.rsplit(".", 1)[1] for p, _ in errors} == {"interest"}


def test_stage_limits_reducing_interest_hold_the_envelope_to_their_rate():
    section = copy.deepcopy(SECTIONS["cn"])
    _interest(section, "auto_approval", "reduced", "2")  # fine while the limits freeze interest
    assert validate_plans_section(section) == []
    section["stages"]["m3"]["limits"].update(interest="reduced", interest_rate_percent="5")
    assert validate_plans_section(section) == [
        ("plans.stages.m3.auto_approval.interest_rate_percent", "envelope_wider")]


@pytest.mark.parametrize("limits,envelope", [
    (("frozen", None), ("frozen", None)),
    (("frozen", None), ("reduced", "2")),
    (("reduced", "5"), ("reduced", "5")),
    (("reduced", "5"), ("reduced", "7.5")),
    (("reduced", "5"), (None, None)),  # the envelope inherits the limits' interest
    (("reduced", "0"), ("frozen", None)),  # reduced to nothing is a freeze
])
def test_envelope_interest_within_the_limits_is_accepted(limits, envelope):
    section = copy.deepcopy(SECTIONS["cn"])
    _interest(section, "limits", *limits)
    if envelope[0]:
        _interest(section, "auto_approval", *envelope)
    assert validate_plans_section(section) == []


MODES = st.sampled_from([("frozen", None), ("reduced", "0"), ("reduced", "2"), ("reduced", "5"),
                         ("reduced", "7.5")])


@given(limits=MODES, envelope=MODES)
@settings(max_examples=40, deadline=None)
def test_a_section_validates_exactly_when_its_envelope_keeps_instalment_offers(limits, envelope):
    """Whatever interest the two sets name: a section that validates keeps its instalment
    offers, and one that is refused would have lost them all."""
    section = copy.deepcopy(SECTIONS["cn"])
    _interest(section, "limits", *limits)
    _interest(section, "auto_approval", *envelope)
    valid = validate_plans_section(section) == []
    _interest(section, "auto_approval", *limits)  # parseable; then the envelope as named
    policy = parse_plans_section(section)
    mode, rate = envelope
    policy = replace(policy, envelope=replace(
        policy.envelope, interest=mode, interest_rate_percent=Decimal(rate) if rate else None))
    offers = offers_for(Owed("CNY", 500_000, 20_000, 15_000), policy, date(2026, 11, 28))
    assert any(o.terms.spec.kind == "instalment" for o in offers) == valid
