"""The `care` section of a policy profile: what a breathing space or a vulnerability flag
freezes, and how long a standard breathing space lasts. Pure.

Modelled on the Breathing Space scheme of England and Wales (COMPLIANCE.md: 60 days in which
contact and enforcement stop and interest and charges freeze; payments may still be taken).
"""
from __future__ import annotations

from dataclasses import dataclass

CONTACT, INTEREST, FEES, ESCALATION = "contact", "interest", "fees", "escalation"
FREEZABLE = (CONTACT, INTEREST, FEES, ESCALATION)
BREATHING_SPACE, VULNERABILITY = "breathing_space", "vulnerability"
KINDS = (BREATHING_SPACE, VULNERABILITY)
# Why a record is made. Breathing space: a standard one after debt advice, or a mental-health
# crisis one (which lasts as long as the crisis care, so it may have no set end). Vulnerability:
# the drivers of FCA FG21/1.
REASONS = {
    BREATHING_SPACE: ("standard", "mental_health_crisis"),
    VULNERABILITY: ("health", "life_event", "resilience", "capability"),
}
OPEN_ENDED = {"mental_health_crisis"} | set(REASONS[VULNERABILITY])
MAX_DAYS = 366


@dataclass(frozen=True)
class CareRules:
    breathing_space_days: int
    freezes: dict  # kind -> frozenset of FREEZABLE

    def freezes_for(self, kind: str) -> frozenset:
        return self.freezes.get(kind, frozenset())


NOTHING = CareRules(60, {})


def unusable_keys(section) -> list[str]:
    """The keys of a `care` section that cannot be used ("" for the section itself)."""
    if not isinstance(section, dict):
        return [""]
    bad = []
    days = section.get("breathing_space_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        bad.append("breathing_space_days")
    freezes = section.get("freezes")
    if not isinstance(freezes, dict) or set(freezes) - set(KINDS):
        bad.append("freezes")
    else:
        for kind, names in freezes.items():
            if not isinstance(names, list) or any(n not in FREEZABLE for n in names) \
                    or len(set(names)) != len(names):
                bad.append(f"freezes.{kind}")
    return bad


def care_rules(section) -> CareRules:
    """The rules of a checked `care` section; NOTHING (nothing freezes) when there is none."""
    if not section or unusable_keys(section):
        return NOTHING
    return CareRules(section["breathing_space_days"],
                     {kind: frozenset(names) for kind, names in section["freezes"].items()})
