"""The consequence timeline and the notices of an account, read from what the nightly recorded.

`timeline_for` is a fixed handful of queries whatever the history length: the balance, the
policy in force, events, notices and stage moves (one statement), plus the pause providers
and the other features' items.
`timelines_for` does the same for many accounts with the same number of queries.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Callable, NamedTuple

from sqlalchemy import (
    BigInteger, Boolean, Date, Integer, String, bindparam, literal, null, select, union_all,
)

from portal.balances.services import balances_for, today_for
from portal.consequences.engine import AccountDay, frozen_by
from portal.consequences.models import ConsequenceEvent, Notice, StageChange
from portal.consequences.pauses import pauses_for
from portal.consequences.types import Timeline, TimelineItem
from portal.domain.interest import daily_interest
from portal.extensions import db
from portal.policy.rules import Policy
from portal.policy.services import UnknownProfile, policies_for, policy_version
from portal.staff.account_context import latest


# Other features' items on an account's timeline (legal steps), each a function answering for
# many accounts at once: (account ids, as_of) -> {account id: items}. Registered by
# portal.wiring, so consequences imports none of those features.
ItemSource = Callable[[list[int], date], dict[int, list[TimelineItem]]]
_ITEM_SOURCES: list[ItemSource] = []


def register_item_source(source: ItemSource) -> None:
    """Show what `source` returns on the timelines (in the order sources were registered)."""
    if source not in _ITEM_SOURCES:
        _ITEM_SOURCES.append(source)


def _other_items(ids: list[int], as_of: date) -> dict[int, list[TimelineItem]]:
    found: dict[int, list[TimelineItem]] = {}
    for source in _ITEM_SOURCES:
        for account_id, items in source(ids, as_of).items():
            found.setdefault(account_id, []).extend(items)
    return found


def _explanations(current: Policy, cache: dict):
    """Explanation lookup; `cache` (profile, version) -> Policy is shared across accounts."""
    cache.setdefault((current.profile, current.version), current)

    def text(event) -> tuple[dict, str | None]:
        key = (event.policy_profile, event.policy_version)
        if key not in cache:
            try:
                cache[key] = policy_version(*key)
            except UnknownProfile:
                cache[key] = current
        consequence = cache[key].consequence(event.kind) or current.consequence(event.kind)
        return (dict(consequence.explanation), consequence.rule) if consequence else ({}, None)
    return text


def _past(account, policy, events, notices, stage_changes, cache,
          legal=()) -> list[TimelineItem]:
    by_event = {n.consequence_event_id: n for n in notices if n.consequence_event_id}
    text = _explanations(policy, cache)
    items = []
    for e in events:
        # A waived fee is its own sentence (not charged, ever), without the fee's explanation.
        explanation, rule = ({}, None) if e.waived else text(e)
        notice = by_event.get(e.id)
        items.append(TimelineItem(
            kind=f"{e.kind}_waived" if e.waived else e.kind, on=e.occurred_on, past=True,
            days_late=e.days_late, amount=e.amount,
            currency=e.currency or account.currency, explanation=explanation, rule=rule,
            reference=str(notice.id) if notice else None, cycle=e.cycle))
    linked = set(by_event.values())
    for n in notices:
        if n not in linked:
            items.append(TimelineItem(kind=n.kind, on=n.issued_on, past=True,
                                      days_late=n.days_late, amount=n.amount,
                                      currency=n.currency, reference=str(n.id)))
    for s in stage_changes:
        if s.days_late > 0:
            items.append(TimelineItem(kind="stage", on=s.changed_on, past=True,
                                      days_late=s.days_late, stage=s.to_stage))
    items.extend(legal)  # recorded legal steps (portal.legal), already past items
    return sorted(items, key=lambda i: (i.on, i.days_late, i.kind != "stage"))


def _upcoming(account, policy, balance, recorded, as_of) -> list[TimelineItem]:
    """What the policy does next if what is owed stays unpaid: while something is overdue,
    or while a minimum payment is due but not yet late (then dated from its due date)."""
    due = account.oldest_unpaid_due_date
    if due is None or (balance.overdue <= 0 and balance.next_due <= 0):
        return []
    dpd = balance.days_past_due if balance.overdue > 0 else (as_of - due).days
    baseline = AccountDay(account.id, account.currency, account.minimum_due,
                          account.oldest_unpaid_due_date, account.feed_as_of).baseline_dpd
    items = []
    for c in policy.consequences:
        if c.kind in recorded or c.dpd <= baseline:
            continue
        amount = rate = daily = None
        if c.kind == "late_fee" and policy.late_fee and policy.currency == account.currency:
            amount = policy.late_fee.amount(account.minimum_due) or None
        if c.kind == "penalty_interest" and policy.penalty_interest:
            rate = policy.penalty_interest.annual_rate
            daily = daily_interest(balance.principal, rate, policy.penalty_interest.day_count)
        items.append(TimelineItem(
            kind=c.kind, on=as_of + timedelta(days=max(0, c.dpd - dpd)), past=False,
            days_late=max(c.dpd, dpd), amount=amount, currency=account.currency,
            explanation=dict(c.explanation), rule=c.rule, annual_rate=rate, daily_amount=daily,
            cycle=account.oldest_unpaid_due_date))
    for threshold in policy.stages:
        if threshold.min_dpd > max(dpd, 0):
            items.append(TimelineItem(kind="stage", on=as_of + timedelta(threshold.min_dpd - dpd),
                                      past=False, days_late=threshold.min_dpd,
                                      stage=threshold.code))
    return sorted(items, key=lambda i: (i.on, i.days_late, i.kind != "stage"))


def timeline_for(account, as_of: date | None = None) -> Timeline:
    """What has happened because the account is late, and what happens next and when.

    Past: recorded consequences (with their notice id as `reference`), notices not tied to a
    consequence, and stage moves into lateness. Upcoming (only while something is overdue):
    each consequence not yet recorded this cycle, on `as_of + (its day - days late)` if nothing
    is paid (today when already due but not yet recorded), plus the next stage moves. `pay_by`
    is the day before the next upcoming consequence (never before `as_of`). `pause` says
    escalation is paused; the dates then hold only once the pause ends.
    """
    as_of = as_of or today_for(account)
    return timelines_for([account], as_of)[account.id]


def _grouped(rows) -> dict[int, list]:
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row.account_id, []).append(row)
    return found


class _Event(NamedTuple):
    id: int
    account_id: int
    kind: str
    cycle: date
    occurred_on: date
    days_late: int
    amount: int | None
    currency: str | None
    policy_profile: str
    policy_version: int
    waived: bool = False


class _Notice(NamedTuple):
    id: int
    account_id: int
    kind: str
    issued_on: date
    days_late: int
    amount: int
    currency: str
    consequence_event_id: int | None


class _Stage(NamedTuple):
    id: int
    account_id: int
    changed_on: date
    to_stage: str
    days_late: int


_EVENT, _NOTICE, _STAGE = 1, 2, 3


def _recorded_query():
    def cols(source, id_, account, kind, day, days_late, amount=None, currency=None,
             cycle=None, profile=None, version=None, event_id=None, waived=None):
        none = [null().cast(t) for t in (BigInteger, String, Date, String, Integer, Integer,
                                         Boolean)]
        values = [amount, currency, cycle, profile, version, event_id, waived]
        return [literal(source, Integer).label("source"), id_.label("id"),
                account.label("account_id"), kind.label("kind"), day.label("day"),
                days_late.label("days_late"),
                *[(v if v is not None else n).label(name) for v, n, name in zip(
                    values, none, ("amount", "currency", "cycle", "profile", "version",
                                   "event_id", "waived"))]]
    e, n, s = ConsequenceEvent, Notice, StageChange
    ids, as_of = bindparam("ids", expanding=True), bindparam("as_of", type_=Date)
    return union_all(
        select(*cols(_EVENT, e.id, e.account_id, e.kind, e.occurred_on, e.days_late, e.amount,
                     e.currency, e.cycle, e.policy_profile, e.policy_version,
                     waived=e.waived))
        .where(e.account_id.in_(ids), e.occurred_on <= as_of),
        select(*cols(_NOTICE, n.id, n.account_id, n.kind, n.issued_on, n.days_late, n.amount,
                     n.currency, event_id=n.consequence_event_id))
        .where(n.account_id.in_(ids), n.issued_on <= as_of),
        select(*cols(_STAGE, s.id, s.account_id, s.to_stage, s.changed_on, s.days_late))
        .where(s.account_id.in_(ids), s.changed_on <= as_of))


_RECORDED = _recorded_query()  # built once: only the ids and the day change


def _recorded(ids: list[int], as_of: date) -> tuple[dict, dict, dict]:
    """Consequence events (oldest first), notices (newest first) and stage moves (oldest
    first) of the accounts up to `as_of`, grouped by account id, in one statement: the three
    reads of a timeline are one round trip to the database, not three."""
    rows = db.session.execute(_RECORDED, {"ids": list(ids), "as_of": as_of})
    events, notices, stages = [], [], []
    for row in rows:
        if row.source == _EVENT:
            events.append(_Event(row.id, row.account_id, row.kind, row.cycle, row.day,
                                 row.days_late, row.amount, row.currency, row.profile,
                                 row.version, bool(row.waived)))
        elif row.source == _NOTICE:
            notices.append(_Notice(row.id, row.account_id, row.kind, row.day, row.days_late,
                                   row.amount, row.currency, row.event_id))
        else:
            stages.append(_Stage(row.id, row.account_id, row.day, row.kind, row.days_late))
    # The orders the three queries gave before they were one.
    events.sort(key=lambda r: (r.occurred_on, r.id))
    notices.sort(key=lambda r: (r.issued_on, r.id), reverse=True)
    stages.sort(key=lambda r: (r.changed_on, r.id))
    return _grouped(events), _grouped(notices), _grouped(stages)


def timelines_for(accounts, as_of: date, balances: dict | None = None) -> dict[int, Timeline]:
    """`timeline_for` for several accounts on one day, keyed by account id.

    The number of queries does not grow with the number of accounts: balances, policies in
    force and recorded legal steps are one query each, events, notices and stage moves one
    between them, and the pause providers answer in batch (see `portal.consequences.pauses.pauses_for`). A caller
    that already has `balances_for(accounts, as_of)` passes it instead of a second query.
    """
    accounts = list(accounts)
    if not accounts:
        return {}
    ids = [a.id for a in accounts]
    if balances is None:
        balances = balances_for(accounts, as_of)
    policies = policies_for({a.policy_profile for a in accounts}, as_of)
    events, notices, stage_changes = _recorded(ids, as_of)
    pauses = pauses_for(accounts, as_of)
    legal = _other_items(ids, as_of)
    cache: dict = {}
    return {a.id: _timeline(a, as_of, balances[a.id], policies[a.policy_profile],
                            events.get(a.id, []), notices.get(a.id, []),
                            stage_changes.get(a.id, []), pauses.get(a.id), cache,
                            legal.get(a.id, []))
            for a in accounts}


def _timeline(account, as_of, balance, policy, events, notices, stage_changes,
              pause, cache, legal=()) -> Timeline:
    recorded = {e.kind for e in events if e.cycle == account.oldest_unpaid_due_date}
    upcoming = _upcoming(account, policy, balance, recorded, as_of)
    next_consequence = next((i for i in upcoming if i.kind != "stage"), None)
    pay_by = None
    if next_consequence is not None:
        pay_by = max(as_of, next_consequence.on - timedelta(days=1))
    return Timeline(
        account_id=account.id, as_of=as_of, currency=account.currency,
        days_late=balance.days_past_due, overdue=balance.overdue, pay_by=pay_by,
        past=_past(account, policy, events, notices, stage_changes, cache, legal),
        upcoming=upcoming,
        pause=pause, stage=policy.stage_for(balance.days_past_due),
        policy_profile=policy.profile, policy_version=policy.version,
        next_due=balance.next_due, due_on=balance.next_due_on,
        frozen=frozen_by(pause, policy) if pause else frozenset())


def notices_for(account, as_of: date | None = None) -> list[Notice]:
    """The account's notices, newest first (issued on or before `as_of` when given)."""
    query = select(Notice).where(Notice.account_id == account.id)
    if as_of is not None:
        query = query.where(Notice.issued_on <= as_of)
    return list(db.session.scalars(query.order_by(Notice.issued_on.desc(), Notice.id.desc())))


def notice_for(account, notice_id: int) -> Notice | None:
    """One notice of this account; None for an unknown id or another account's notice."""
    return db.session.scalar(select(Notice).where(Notice.id == notice_id,
                                                  Notice.account_id == account.id))


def staff_context_section(account) -> dict:
    """The letters sent, consequences' part of the staff account context
    (portal.staff.account_context)."""
    return {"notices": latest(Notice, account.id, Notice.issued_on.desc(), Notice.id.desc())}


def recorded_kinds(accounts) -> dict[int, set[str]]:
    """Consequence kinds already recorded in each account's current delinquency cycle."""
    cycles = {a.id: a.oldest_unpaid_due_date for a in accounts if a.oldest_unpaid_due_date}
    result: dict[int, set[str]] = defaultdict(set)
    if not cycles:
        return result
    for account_id, kind, cycle in db.session.execute(
            select(ConsequenceEvent.account_id, ConsequenceEvent.kind, ConsequenceEvent.cycle)
            .where(ConsequenceEvent.account_id.in_(list(cycles)))):
        if cycles.get(account_id) == cycle:
            result[account_id].add(kind)
    return result
