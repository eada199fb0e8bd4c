"""The one rule that says what a cardholder is told first (portal.domain.standing), and its
table of precedence in docs/features.md."""
import os
import re
from datetime import date

import pytest

from portal.domain.standing import PRECEDENCE, AccountFacts, legal_in_force, standing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_documented_table_lists_the_states_in_the_rules_order():
    with open(os.path.join(ROOT, "docs", "features.md"), encoding="utf-8") as fh:
        text = fh.read()
    section = text[text.index("## What the cardholder is told first"):]
    section = section[:section.index("\n## ", 4)]
    assert tuple(re.findall(r"^\| \d \| `(\w+)` \|", section, re.M)) == PRECEDENCE


def test_a_legal_step_leads_a_kept_plan_and_no_plan_is_offered():
    told = standing(AccountFacts(owed=True, plan_active=True, pause="plan",
                                 legal_steps=("formal_notice_sent", "claim_filed"),
                                 has_next_step=True))
    assert told.lead == "legal" and told.also == ("plan_kept",) and not told.offer_plan


def test_a_dispute_hold_leads_everything_recorded():
    told = standing(AccountFacts(owed=True, plan_active=True, pause="dispute",
                                 legal_steps=("claim_filed",), charged_off=True))
    assert told.lead == "dispute_hold"
    assert told.also == ("legal", "charge_off", "plan_kept")


def test_a_broken_plan_leads_and_the_resumed_next_step_follows():
    told = standing(AccountFacts(owed=True, plan_active=False,
                                 plan_broken_on=date(2026, 12, 16), has_next_step=True))
    assert (told.lead, told.also, told.offer_plan) == ("plan_broken", ("next_step",), True)


@pytest.mark.parametrize("proposal", ["in_review", "countered"])
def test_an_open_proposal_means_no_new_plan_is_urged(proposal):
    told = standing(AccountFacts(owed=True, plan_active=False, proposal=proposal,
                                 has_next_step=True))
    assert told.lead == "next_step" and not told.offer_plan


def test_a_withdrawn_referral_or_satisfied_judgment_ends_the_legal_state():
    assert legal_in_force(("claim_filed",))
    assert not legal_in_force(("claim_filed", "referral_withdrawn"))
    assert not legal_in_force(("judgment_entered", "judgment_satisfied"))
    told = standing(AccountFacts(owed=True, plan_active=False,
                                 legal_steps=("claim_filed", "referral_withdrawn")))
    assert told.lead is None and told.offer_plan


def test_nothing_owed_and_nothing_held_tells_nothing():
    told = standing(AccountFacts(owed=False, plan_active=False, charged_off=True))
    assert (told.lead, told.also, told.offer_plan) == (None, (), False)
