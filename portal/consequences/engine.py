"""One account, one day: what the nightly run posts and records. Pure: plain data in and out.

The DB loop (portal/jobs/nightly.py) loads an `AccountDay` per account, feeds it each day's
ledger movements from other sources (`apply`), calls `run_day`, and writes the outcome.

Order within a day: days past due (DPD) from the ledger as of the day, then the stage, then
the consequences whose DPD day is reached (late fee posted, status changes, a formal notice),
then the day's penalty interest on the principal.

Rules:
- A consequence is recorded once per delinquency cycle (the oldest unpaid due date). Those
  whose DPD day was already passed when the issuer's statement was fed in (`baseline_dpd`)
  are not recorded: the issuer's own system applied them before the portal took over.
- While escalation is paused no fee, consequence or notice is produced; a consequence whose
  day passed during the pause is produced on the first day after it, except a late fee whose
  day falls in a pause that waives fees (a breathing space whose profile freezes fees,
  `Pause.waives_fees_from`): it is recorded as waived (`Event.waived`) and never charged. Stage moves are facts
  and are still recorded. Penalty interest stops too if the policy says `freeze_while_paused`.
- Penalty interest accrues from the `penalty_interest` DPD day, daily on the principal,
  exactly: whole minor units are posted and the fraction carried (`interest_carry`, kept by
  the nightly state between runs), so postings never exceed the disclosed rate; none after
  charge-off or on a zero principal.
- Status only escalates: open -> blocked (card_block) -> charged_off (charge_off).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.domain.balance import overdue_amount
from portal.domain.dates import days_past_due
from portal.domain.interest import accrue_day
from portal.policy.rules import Policy

OPEN, BLOCKED, CHARGED_OFF = "open", "blocked", "charged_off"


@dataclass
class AccountDay:
    """An account's running figures as the nightly run walks forward day by day."""
    account_id: int
    currency: str
    minimum_due: int
    cycle: date | None  # oldest unpaid due date from the issuer's feed
    feed_as_of: date | None
    principal: int = 0
    interest: int = 0
    fees: int = 0
    fees_after_feed: int = 0
    payments_after_feed: int = 0
    stage: str = "current"
    status: str = OPEN
    recorded: set[str] = field(default_factory=set)  # kinds already recorded this cycle
    interest_carry: int = 0  # penalty interest accrued but not yet posted (CARRY_SCALE units)
    day: date | None = None  # the last day `run_day` walked through

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees

    def overdue_on(self, day: date) -> int:
        """What is past due on `day` (0 while the due date has not passed)."""
        return overdue_amount(self.total, self.minimum_due, self.fees_after_feed,
                              self.payments_after_feed, due_date=self.cycle, as_of=day)

    @property
    def overdue(self) -> int:
        """What is past due on the last day walked (0 before the first)."""
        return self.overdue_on(self.day) if self.day is not None else 0

    def dpd(self, day: date) -> int:
        return days_past_due(self.cycle, day) if self.overdue_on(day) > 0 else 0

    @property
    def baseline_dpd(self) -> int:
        if self.cycle is None or self.feed_as_of is None or self.minimum_due <= 0:
            return 0
        return days_past_due(self.cycle, self.feed_as_of)

    def apply(self, principal=0, interest=0, fees=0, fees_after_feed=0, payments_after_feed=0):
        """Add ledger movements (from payments, adjustments, this run's postings)."""
        self.principal += principal
        self.interest += interest
        self.fees += fees
        self.fees_after_feed += fees_after_feed
        self.payments_after_feed += payments_after_feed


@dataclass(frozen=True)
class Posting:
    kind: str  # ledger EntryKind value: "interest" | "fee"
    component: str
    amount: int
    source_ref: str


@dataclass(frozen=True)
class Event:
    kind: str
    days_late: int
    amount: int | None = None
    waived: bool = False  # a late fee not charged, ever (its day fell in a care freeze)


@dataclass(frozen=True)
class NoticeDue:
    kind: str
    amount: int
    pay_by: date
    days_late: int


@dataclass
class DayOutcome:
    day: date
    dpd: int
    postings: list[Posting] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    stage_move: tuple[str, str] | None = None
    status_change: tuple[str, str] | None = None
    notice: NoticeDue | None = None


def consequences_due(policy: Policy, dpd: int, baseline_dpd: int, recorded: set[str]):
    """The policy's consequences reached at `dpd` and not yet recorded this cycle."""
    return [c for c in policy.consequences
            if baseline_dpd < c.dpd <= dpd and c.kind not in recorded]


def _frozen(paused, policy: Policy) -> tuple[bool, bool, bool]:
    """(escalation, fees, interest) frozen on the day: `paused` is the day's Pause (or None),
    or a bool for a full pause (portal.consequences.pauses.Pause.frozen)."""
    rule = policy.penalty_interest
    when_full = bool(rule is not None and rule.freeze_while_paused)
    if paused is None or paused is False:
        return False, False, False
    if paused is True:
        return True, True, when_full
    return paused.frozen(when_full)


def frozen_by(paused, policy: Policy) -> frozenset:
    """What the day's pause freezes under `policy`, by name ("escalation", "fees",
    "interest"): the same answer `run_day` acts on, for pages that say what is paused."""
    return frozenset(name for name, frozen in zip(("escalation", "fees", "interest"),
                                                  _frozen(paused, policy)) if frozen)


def run_day(state: AccountDay, policy: Policy, day: date, paused) -> DayOutcome:
    """Advance `state` through `day` under `policy`; returns what to write. Mutates `state`.

    `paused`: the day's escalation pause (a Pause, which says what it freezes), None, or a
    bool (True: a full pause)."""
    state.day = day
    dpd = state.dpd(day)
    out = DayOutcome(day=day, dpd=dpd)
    stage = policy.stage_for(dpd)
    if stage != state.stage:
        out.stage_move = (state.stage, stage)
        state.stage = stage
    escalation, fees, interest = _frozen(paused, policy)
    if state.cycle is not None and dpd > 0:
        for consequence in consequences_due(policy, dpd, state.baseline_dpd, state.recorded):
            if consequence.kind == "late_fee" and fees:
                if _waives(paused, day - timedelta(days=dpd - consequence.dpd)):
                    _waive_fee(state, policy, dpd, out)
                continue
            if consequence.kind != "late_fee" and escalation:
                continue
            _apply_consequence(state, policy, consequence.kind, day, dpd, out)
    if not interest:
        _accrue(state, policy, day, dpd, out)
    return out


def _waives(paused, fee_day: date) -> bool:
    """Whether the late fee due on `fee_day` is waived, not deferred, by the day's pause."""
    since = getattr(paused, "waives_fees_from", None)
    return since is not None and fee_day >= since


def _waive_fee(state, policy, dpd, out):
    amount = None
    if policy.late_fee is not None and state.currency == policy.currency:
        amount = policy.late_fee.amount(state.minimum_due) or None
    out.events.append(Event("late_fee", dpd, amount, waived=True))
    state.recorded.add("late_fee")


def _apply_consequence(state, policy, kind, day, dpd, out):
    amount = None
    if kind == "late_fee" and policy.late_fee is not None:
        if state.currency == policy.currency:
            amount = policy.late_fee.amount(state.minimum_due)
        if amount:
            out.postings.append(Posting("fee", "fee", amount, f"nightly:{day}:late_fee"))
            state.apply(fees=amount, fees_after_feed=amount)
    elif kind == "card_block" and state.status == OPEN:
        out.status_change = (state.status, BLOCKED)
        state.status = BLOCKED
    elif kind == "charge_off" and state.status in (OPEN, BLOCKED):
        out.status_change = (out.status_change[0] if out.status_change else state.status,
                             CHARGED_OFF)
        state.status = CHARGED_OFF
    elif kind == "formal_notice":
        out.notice = NoticeDue(kind, state.overdue_on(day),
                               day + timedelta(days=policy.notice_pay_by_days), dpd)
    out.events.append(Event(kind, dpd, amount or None))
    state.recorded.add(kind)


def _accrue(state, policy, day, dpd, out):
    rule = policy.penalty_interest
    start = policy.consequence("penalty_interest")
    if rule is None or start is None or dpd < start.dpd or state.status == CHARGED_OFF:
        return
    amount, state.interest_carry = accrue_day(state.principal, rule.annual_rate, rule.day_count,
                                              state.interest_carry)
    if amount:
        out.postings.append(Posting("interest", "interest", amount, f"nightly:{day}:interest"))
        state.apply(interest=amount)
