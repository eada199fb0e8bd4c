"""What the timeline service hands to pages: plain data, no text.

Templates turn `kind` and the numbers into whole translated sentences; the policy's own
explanation of a consequence comes in both languages (`explanation[locale]`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from portal.consequences.pauses import Pause

# What freezes each upcoming step: a late fee is a fee, penalty interest is interest, every
# other step (and the stage it follows) is escalation.
FROZEN_BY = {"late_fee": "fees", "penalty_interest": "interest"}



@dataclass(frozen=True)
class TimelineItem:
    # a policy consequence (portal.policy.rules.KINDS), a legal step (portal.legal),
    # "correction_payment" / "correction_credit" / "correction_feed" for charges taken back
    # (portal.jobs.correction_timeline), "plan_date_change" / "plan_delay" / "plan_skip" for
    # changes to an agreed plan (portal.plans.timeline), or
    # "stage" for "your account is now N days late"
    kind: str
    on: date
    past: bool
    days_late: int  # the days-past-due figure at which it happens / happened
    amount: int | None = None  # minor units, when the consequence has one (a fee)
    currency: str | None = None
    explanation: dict[str, str] = field(default_factory=dict)  # locale -> policy text
    reference: str | None = None  # e.g. a notice id for a link
    rule: str | None = None  # the rule the policy cites for this consequence
    stage: str | None = None  # kind "stage": the internal stage code (never shown to cardholders)
    annual_rate: Decimal | None = None  # penalty_interest: the annual rate in percent
    daily_amount: int | None = None  # penalty_interest: one day's interest on today's principal
    cycle: date | None = None  # the oldest unpaid due date the consequence belongs to
    detail: str | None = None  # legal steps: the court and case reference, as recorded
    hearing_on: date | None = None  # legal "hearing_scheduled": the day of the hearing
    since: date | None = None  # corrections: the first day whose charges were taken back
    seq: int | None = None  # plan changes: the payment delayed or skipped
    new_date: date | None = None  # plan changes: the new date (a date change, a delay)


@dataclass(frozen=True)
class Timeline:
    account_id: int
    as_of: date
    currency: str
    days_late: int
    overdue: int
    pay_by: date | None  # pay the overdue amount by this date to prevent the next item
    past: list[TimelineItem]
    upcoming: list[TimelineItem]
    pause: Pause | None  # escalation paused (kept plan, dispute hold), else None
    stage: str = "current"  # internal stage code, for staff pages only
    policy_profile: str | None = None
    policy_version: int | None = None
    # Not yet overdue: the minimum payment still to pay and its due date (what the upcoming
    # steps would follow if it stayed unpaid); 0 / None once it is overdue.
    next_due: int = 0
    due_on: date | None = None
    # What the pause freezes on `as_of` ("escalation", "fees", "interest"), as the nightly
    # run applies it (portal.consequences.engine.frozen_by); empty without a pause.
    frozen: frozenset = frozenset()

    def paused(self, item: TimelineItem) -> bool:
        """Whether the pause stops this upcoming step (a partial pause may stop only some)."""
        return FROZEN_BY.get(item.kind, "escalation") in self.frozen
