"""The profile's `care` section and what a partial pause freezes in the nightly engine."""
from datetime import date

from portal.care.rules import NOTHING, care_rules, unusable_keys
from portal.consequences.pauses import Pause, combined
from portal.policy.services import shipped_document


def test_shipped_profiles_freeze_everything_in_a_breathing_space_and_escalation_for_support():
    for profile in ("cn", "us"):
        section = shipped_document(profile)["care"]
        assert unusable_keys(section) == []
        rules = care_rules(section)
        assert rules.breathing_space_days == 60
        assert rules.freezes_for("breathing_space") == {"contact", "interest", "fees",
                                                        "escalation"}
        assert rules.freezes_for("vulnerability") == {"escalation"}


def test_unusable_sections_are_named_and_freeze_nothing():
    assert unusable_keys([]) == [""]
    bad = {"breathing_space_days": 0, "freezes": {"breathing_space": ["sleep"],
                                                   "vulnerability": ["fees", "fees"]}}
    assert unusable_keys(bad) == ["breathing_space_days", "freezes.breathing_space",
                                  "freezes.vulnerability"]
    assert unusable_keys({"breathing_space_days": True, "freezes": {"other": []}}) == [
        "breathing_space_days", "freezes"]
    assert care_rules(bad) is NOTHING and care_rules(None) is NOTHING


def test_a_full_pause_freezes_interest_only_where_the_profile_says():
    assert Pause("plan").frozen(True) == (True, True, True)
    assert Pause("plan").frozen(False) == (True, True, False)


def test_a_partial_pause_freezes_only_what_it_names_and_pauses_add_up():
    support = Pause("vulnerability", full=False, freezes=frozenset({"escalation"}))
    assert support.frozen(True) == (True, False, False)
    space = Pause("breathing_space", since=date(2026, 11, 1), full=False,
                  freezes=frozenset({"interest", "fees", "escalation"}))
    assert space.frozen(False) == (True, True, True)
    both = combined([Pause("plan"), support])
    assert both.reason == "plan" and both.frozen(False) == (True, True, False)
    assert combined([support, space]).freezes == {"interest", "fees", "escalation"}
    assert combined([]) is None and combined([support]) is support
