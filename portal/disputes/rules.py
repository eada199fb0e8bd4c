"""Pure dispute rules: states and transitions, routing, least-loaded choice, SLA clock,
resolution limits. No Flask, no SQLAlchemy: unit-tested on their own."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.disputes import data
from portal.domain.statemachine import IllegalTransition, StateMachine

__all__ = ["IllegalTransition"]


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_CUSTOMER = "awaiting_customer"
    ESCALATED = "escalated"
    PENDING_APPROVAL = "pending_approval"
    RESOLVED_UPHELD = "resolved_upheld"
    RESOLVED_PARTLY = "resolved_partly"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


S = DisputeStatus
_DECIDE = (S.PENDING_APPROVAL, S.RESOLVED_UPHELD, S.RESOLVED_PARTLY, S.REJECTED)
DISPUTE_MACHINE = StateMachine("dispute", {
    S.OPEN: (S.ACKNOWLEDGED, S.AWAITING_CUSTOMER, S.ESCALATED, S.WITHDRAWN, *_DECIDE),
    S.ACKNOWLEDGED: (S.AWAITING_CUSTOMER, S.ESCALATED, S.WITHDRAWN, *_DECIDE),
    # the cardholder's answer (or the agent) takes it back to work
    S.AWAITING_CUSTOMER: (S.ACKNOWLEDGED, S.ESCALATED, S.WITHDRAWN, *_DECIDE),
    S.ESCALATED: (S.ACKNOWLEDGED, S.AWAITING_CUSTOMER, S.WITHDRAWN, *_DECIDE),
    # a manager approves (resolved) or refuses (back to the agent)
    S.PENDING_APPROVAL: (S.RESOLVED_UPHELD, S.RESOLVED_PARTLY, S.ACKNOWLEDGED, S.WITHDRAWN),
})
TERMINAL = frozenset({S.RESOLVED_UPHELD, S.RESOLVED_PARTLY, S.REJECTED, S.WITHDRAWN})
ACTIVE = frozenset(S) - TERMINAL


def transition(current: DisputeStatus, target: DisputeStatus) -> DisputeStatus:
    """`target` when the table allows current -> target; else IllegalTransition."""
    return DISPUTE_MACHINE.check(current, target)


def is_contesting(category: str) -> bool:
    """Whether the category disputes the debt itself (and so puts the amount on hold)."""
    return category in data.CONTESTING


# --- routing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    id: int
    priority: int
    category: str | None  # None matches any
    language: str | None
    min_amount: int | None  # inclusive bounds in minor units of `currency`; None = unbounded
    max_amount: int | None
    queue: str
    # The bounds are in this currency's minor units, so the rule matches only disputes in it
    # (1000.00 CNY is 100000 fen, 1000 JPY is 1000 yen). None: any currency.
    currency: str | None = None


def rule_matches(rule: Rule, category: str, language: str, amount: int | None,
                 currency: str | None = None) -> bool:
    if rule.category is not None and rule.category != category:
        return False
    if rule.language is not None and rule.language != language:
        return False
    if rule.currency is not None and rule.currency != currency:
        return False
    if rule.min_amount is not None and (amount is None or amount < rule.min_amount):
        return False
    if rule.max_amount is not None and (amount is None or amount > rule.max_amount):
        return False
    return True


def match_rule(rules, category: str, language: str, amount: int | None,
               currency: str | None = None) -> Rule | None:
    """The first matching rule by (priority, id): lower numbers are tried first. A rule with
    a currency matches only a dispute in that currency."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if rule_matches(rule, category, language, amount, currency):
            return rule
    return None


@dataclass(frozen=True)
class Agent:
    id: int
    languages: frozenset
    open_items: int
    is_collector: bool = False


def choose_agent(agents, language: str, *, exclude_collectors: bool = False) -> int | None:
    """The agent speaking `language` with the fewest open items (tie: lowest id), or None."""
    fit = [a for a in agents if language in a.languages
           and not (exclude_collectors and a.is_collector)]
    if not fit:
        return None
    return min(fit, key=lambda a: (a.open_items, a.id)).id


# --- SLA over business hours ---------------------------------------------------------------

@dataclass(frozen=True)
class BusinessCalendar:
    tz: str
    opens: time
    closes: time
    holidays: frozenset = frozenset()
    extra_workdays: frozenset = frozenset()

    def is_business_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day.weekday() < 5 or day in self.extra_workdays

    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=ZoneInfo(self.tz))

    def next_opening(self, local: datetime) -> datetime:
        """`local` if the office is open then, else the next time it opens."""
        day = local.date()
        if self.is_business_day(day) and local < self._at(day, self.closes):
            return max(local, self._at(day, self.opens))
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return self._at(day, self.opens)


def calendar_for(profile: str) -> BusinessCalendar:
    tz, opens, closes, holidays, extra = data.CALENDARS.get(
        profile, data.CALENDARS[data.DEFAULT_PROFILE])
    return BusinessCalendar(tz, opens, closes, holidays, extra)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("SLA arithmetic needs timezone-aware datetimes")
    return moment


def add_business_hours(cal: BusinessCalendar, start: datetime, hours: int) -> datetime:
    """The moment `hours` of open office time after `start` (weekends and holidays skipped)."""
    return _add_open_time(cal, start, timedelta(hours=hours))


def _add_open_time(cal: BusinessCalendar, start: datetime, remaining: timedelta) -> datetime:
    current = cal.next_opening(_aware(start).astimezone(ZoneInfo(cal.tz)))
    while True:
        closing = cal._at(current.date(), cal.closes)
        if remaining <= closing - current:
            return current + remaining
        remaining -= closing - current
        current = cal.next_opening(closing)


def add_business_days(cal: BusinessCalendar, start: datetime, days: int) -> datetime:
    """Closing time on the `days`-th business day after the local day of `start`."""
    day = _aware(start).astimezone(ZoneInfo(cal.tz)).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if cal.is_business_day(day):
            counted += 1
    return cal._at(day, cal.closes)


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Open office time from `start` to `end` (zero when `end` is not after `start`)."""
    zone = ZoneInfo(cal.tz)
    end = _aware(end).astimezone(zone)
    current = cal.next_opening(_aware(start).astimezone(zone))
    total = timedelta()
    while current < end:
        closing = cal._at(current.date(), cal.closes)
        total += min(closing, end) - current
        current = cal.next_opening(closing)
    return total


def add_business_time(cal: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """`start` moved later by `amount` of open office time; unchanged when `amount` is zero
    (so a deadline at closing time stays at closing time)."""
    if amount <= timedelta():
        return _aware(start)
    return _add_open_time(cal, start, amount)


def extend_for_pause(cal: BusinessCalendar, due: datetime, paused_from: datetime,
                     paused_until: datetime) -> datetime:
    """The SLA clock stops while the dispute waits for the cardholder: `due` moves later by the
    open office time between `paused_from` and `paused_until`. Time outside office hours in
    the pause adds nothing, since the clock would not have run then anyway."""
    return add_business_time(cal, due, business_time_between(cal, paused_from, paused_until))


@dataclass(frozen=True)
class SlaDeadlines:
    acknowledge_by: datetime
    resolve_by: datetime


def sla_deadlines(profile: str, category: str, raised_at: datetime) -> SlaDeadlines:
    """Acknowledge and resolve deadlines for a dispute raised at `raised_at` (aware)."""
    table = data.SLAS.get(profile, data.SLAS[data.DEFAULT_PROFILE])
    ack_hours, resolve_days = table[category]
    cal = calendar_for(profile)
    return SlaDeadlines(add_business_hours(cal, raised_at, ack_hours),
                        add_business_days(cal, raised_at, resolve_days))


def time_left(due: datetime, now: datetime) -> timedelta:
    """Negative when overdue."""
    return _aware(due) - _aware(now)


# --- resolution ----------------------------------------------------------------------------

class ResolutionRefused(ValueError):
    """A resolution's amount does not fit its outcome; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


OUTCOMES = ("upheld", "partly", "rejected")


def check_resolution(outcome: str, amount: int | None, contested: int | None) -> int:
    """The amount to credit for an outcome; never above what is contested.

    upheld: default the whole contested amount, never above it (0 when nothing was contested);
    partly: strictly between 0 and the contested amount; rejected: nothing.
    """
    if outcome not in OUTCOMES:
        raise ResolutionRefused("unknown_outcome")
    if outcome == "rejected":
        if amount:
            raise ResolutionRefused("amount_with_rejection")
        return 0
    if contested is None:
        if outcome == "partly":
            raise ResolutionRefused("nothing_contested")
        if amount:
            raise ResolutionRefused("above_contested")
        return 0
    if amount is None:
        if outcome == "partly":
            raise ResolutionRefused("amount_required")
        return contested
    if amount <= 0:
        raise ResolutionRefused("not_positive")
    if amount > contested:
        raise ResolutionRefused("above_contested")
    if outcome == "partly" and amount == contested:
        raise ResolutionRefused("not_partial")
    return amount


def needs_approval(amount: int, threshold: int) -> bool:
    """A credit above the threshold waits for a collections manager."""
    return amount > threshold


def split_credit(amount: int, contested_parts) -> list[tuple[str, int]]:
    """Spread a credit over the contested (component, amount) parts in order, each at most its
    own amount; what is left reduces principal. Returns (component, positive amount) pairs."""
    left = amount
    totals: dict[str, int] = {}
    for component, part in contested_parts:
        if left <= 0:
            break
        take = min(left, max(part, 0))
        if take:
            totals[component] = totals.get(component, 0) + take
            left -= take
    if left > 0:
        totals["principal"] = totals.get("principal", 0) + left
    return list(totals.items())
