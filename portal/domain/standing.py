"""What a cardholder is told first when several states of an account apply at once. Pure.

One rule (`standing`) for the dashboard and the timeline, so the two never disagree and a
lower state's headline never sits above a higher one's (e.g. "escalation is paused while
your plan is kept" above "we filed a claim"). The table of precedence, with the reasons,
is in docs/features.md ("What the cardholder is told first"); keep the two in step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Highest first. "breathing_space": a breathing space or a need for extra support (portal.care).
PRECEDENCE = ("breathing_space", "dispute_hold", "legal", "charge_off", "plan_kept",
              "plan_broken", "next_step")

# Legal steps (portal.legal) that are still in force once recorded, and those that close
# the matter: after "judgment_satisfied" or "referral_withdrawn" nothing legal is pending.
LEGAL_OPEN = ("formal_notice_sent", "claim_filed", "hearing_scheduled", "judgment_entered")
LEGAL_CLOSED = ("judgment_satisfied", "referral_withdrawn")


@dataclass(frozen=True)
class AccountFacts:
    owed: bool  # anything is owed at all
    plan_active: bool  # an agreed plan is running (kept, or behind within its grace days)
    pause: str | None = None  # the escalation pause shown: "dispute", "plan", or None
    legal_steps: tuple[str, ...] = ()  # kinds of the legal steps recorded, oldest first
    charged_off: bool = False
    plan_broken_on: date | None = None  # the latest plan ended unpaid, and none since
    proposal: str | None = None  # an open proposal: "in_review" or "countered"
    has_next_step: bool = False  # an upcoming step is scheduled
    breathing_space: bool = False


@dataclass(frozen=True)
class Standing:
    lead: str | None  # the state told first (one of PRECEDENCE), None: nothing to tell
    also: tuple[str, ...]  # the other states that apply, told after it, highest first
    offer_plan: bool  # whether to urge "Agree a repayment plan"


def legal_in_force(steps: tuple[str, ...]) -> bool:
    """Whether the latest legal step recorded leaves a legal matter pending."""
    latest = next((s for s in reversed(steps) if s in LEGAL_OPEN + LEGAL_CLOSED), None)
    return latest in LEGAL_OPEN


def states(facts: AccountFacts) -> list[str]:
    """Every state of PRECEDENCE that applies, highest first."""
    applies = {
        "breathing_space": facts.breathing_space,
        "dispute_hold": facts.pause == "dispute",
        "legal": legal_in_force(facts.legal_steps),
        "charge_off": facts.charged_off,
        "plan_kept": facts.plan_active,
        "plan_broken": facts.plan_broken_on is not None and not facts.plan_active,
        "next_step": facts.has_next_step,
    }
    return [s for s in PRECEDENCE if applies[s]]


def standing(facts: AccountFacts) -> Standing:
    """The state to tell first, the others after it, and whether a plan is still to agree:
    only when something is owed and no plan is running or waiting (a proposal in review, a
    counter-offer to answer)."""
    found = states(facts) if facts.owed or facts.pause == "dispute" else []
    # The next scheduled step follows a higher state only while nothing pauses escalation
    # (a paused step will not happen, so it is not announced).
    also = tuple(s for s in found[1:] if s != "next_step" or facts.pause is None)
    offer = facts.owed and not facts.plan_active and facts.proposal is None
    return Standing(found[0] if found else None, also, offer)
