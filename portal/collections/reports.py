"""KPI reports on collectors and plans.

A fixed number of aggregate queries (grouped by collector, never one per collector), then pure
assembly. Attribution rules (also in the README):
- accounts held: distinct accounts whose assignment overlaps the period;
- contacts and promises: counted for the staff member who logged them, by the contact's time
  (promises: by the cardholder's date the promise was made); a promise is judged on the
  cardholder's own date at `now` (due "today" in Shanghai is not yet broken at 01:00 there,
  whatever the UTC date);
- plan decisions: by `Plan.decided_by_id` and `decided_at`; rejected when the plan is rejected,
  countered when the decision carried a reason and the plan was not rejected (a counter-offer
  always has one, an approval never), approved otherwise;
- agreed plans, money collected and conduct complaints count for the collector who held the
  account on the plan's start date, the payment's date or when the complaint was raised.
Days are UTC days (staff pages show UTC, `portal.core.today`), except ledger, plan and
promise dates, which are the cardholder's calendar dates.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction

from sqlalchemy import and_, case, distinct, func, literal_column, or_, select

from portal.accounts.models import Account, Cardholder
from portal.collections.models import AccountAssignment, ContactLog, PromiseToPay
from portal.collections.rules import BEHIND, BROKEN, CANCELLED, KEPT, kept_rate, plan_outcome
from portal.collections.services import payments_posted, promise_paid_query
from portal.core.today import staff_today
from portal.disputes.models import Dispute
from portal.domain.dates import local_date
from portal.extensions import db
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment, PlanStatus
from portal.staff.models import Role, StaffRole, StaffUser

AA = AccountAssignment
CONDUCT = "conduct_complaint"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=timezone.utc)

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=timezone.utc)


@dataclass
class CollectorKpi:
    staff_id: int | None  # None: the team row
    name: str
    active: bool = True
    accounts_held: int = 0
    contacts: int = 0
    promises_made: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    approved: int = 0
    countered: int = 0
    rejected: int = 0
    plans_kept: int = 0
    plans_behind: int = 0
    plans_broken: int = 0
    plans_cancelled: int = 0
    collected: dict = field(default_factory=dict)  # currency -> minor units
    complaints: int = 0

    @property
    def promises_pending(self) -> int:
        return self.promises_made - self.promises_kept - self.promises_broken

    @property
    def plans_agreed(self) -> int:
        return self.plans_kept + self.plans_behind + self.plans_broken + self.plans_cancelled

    @property
    def plans_kept_rate(self) -> Fraction | None:
        return kept_rate(self.plans_kept, self.plans_behind, self.plans_broken)


ADDITIVE = ("contacts", "promises_made", "promises_kept", "promises_broken", "approved",
            "countered", "rejected", "plans_kept", "plans_behind", "plans_broken",
            "plans_cancelled", "complaints")


def utc_day(column):
    """The UTC calendar day of a stored moment, in SQL (PostgreSQL: whatever its TimeZone).
    The zone is a literal, not a parameter, so the same expression can be grouped by."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.date(column)


def _held_on(day_column):
    """Join condition: the assignment held the account on that calendar day."""
    return and_(utc_day(AA.assigned_at) <= day_column,
                or_(AA.ended_at.is_(None), utc_day(AA.ended_at) > day_column))


def missed_plans():
    return (select(PlanInstalment.plan_id).where(PlanInstalment.status == InstalmentStatus.MISSED)
            .distinct().subquery())


def _decision(status, has_reason: bool) -> str:
    if status == PlanStatus.REJECTED:
        return "rejected"
    return "countered" if has_reason else "approved"


def candidate_days(now: datetime) -> tuple[date, ...]:
    """Every calendar date it can be somewhere at `now`: every time zone is within a day of
    UTC, so a cardholder's today is one of these three."""
    utc_day = staff_today(now)
    return tuple(utc_day + timedelta(days=n) for n in (-1, 0, 1))


def collector_report(period: Period, now: datetime) -> tuple[list[CollectorKpi], CollectorKpi]:
    """One row per collector (switched-off ones included) and the team row, in nine queries
    whatever the number of collectors. Promises are judged kept or broken on each
    cardholder's own date at `now` (aware)."""
    start, end, at0, at1 = period.start, period.end, period.start_at, period.end_before
    people = db.session.execute(
        select(StaffUser.id, StaffUser.name, StaffUser.active).join(StaffRole)
        .where(StaffRole.role == Role.COLLECTOR).order_by(StaffUser.name, StaffUser.id)).all()
    rows = {sid: CollectorKpi(sid, name, bool(active)) for sid, name, active in people}

    def put(sid, attr, value):
        if sid in rows:
            setattr(rows[sid], attr, getattr(rows[sid], attr) + int(value or 0))

    overlaps = and_(AA.assigned_at < at1, or_(AA.ended_at.is_(None), AA.ended_at >= at0))
    for sid, n in db.session.execute(select(AA.collector_id, func.count(distinct(AA.account_id)))
                                     .where(overlaps).group_by(AA.collector_id)):
        put(sid, "accounts_held", n)
    team_held = db.session.scalar(select(func.count(distinct(AA.account_id))).join(
        StaffRole, and_(StaffRole.staff_id == AA.collector_id, StaffRole.role == Role.COLLECTOR))
        .where(overlaps)) or 0

    for sid, n in db.session.execute(
            select(ContactLog.staff_id, func.count()).where(
                ContactLog.occurred_at >= at0, ContactLog.occurred_at < at1)
            .group_by(ContactLog.staff_id)):
        put(sid, "contacts", n)

    # Broken: unpaid and due before the cardholder's today. Counted in SQL for each day their
    # today can be, per collector and time zone; the zone then says which count applies.
    paid = promise_paid_query().subquery()
    kept = paid.c.paid >= PromiseToPay.amount
    days = candidate_days(now)
    for sid, zone, made, n_kept, *broken_if in db.session.execute(
            select(PromiseToPay.staff_id, Cardholder.timezone, func.count(),
                   func.sum(case((kept, 1), else_=0)),
                   *[func.sum(case((and_(~kept, PromiseToPay.last_day < day), 1), else_=0))
                     for day in days])
            .join(paid, paid.c.promise_id == PromiseToPay.id)
            .join(Account, Account.id == PromiseToPay.account_id)
            .join(Cardholder, Cardholder.id == Account.cardholder_id)
            .where(PromiseToPay.made_on >= start, PromiseToPay.made_on <= end)
            .group_by(PromiseToPay.staff_id, Cardholder.timezone)):
        put(sid, "promises_made", made)
        put(sid, "promises_kept", n_kept)
        put(sid, "promises_broken", broken_if[days.index(local_date(now, zone))])

    has_reason = Plan.decision_reason.is_not(None)
    for sid, status, reason, n in db.session.execute(
            select(Plan.decided_by_id, Plan.status, has_reason, func.count())
            .where(Plan.decided_by_id.is_not(None), Plan.decided_at >= at0, Plan.decided_at < at1)
            .group_by(Plan.decided_by_id, Plan.status, has_reason)):
        put(sid, _decision(status, bool(reason)), n)

    missed = missed_plans()
    no_miss = missed.c.plan_id.is_(None)
    outcome_attr = {KEPT: "plans_kept", BEHIND: "plans_behind", BROKEN: "plans_broken",
                    CANCELLED: "plans_cancelled"}
    for sid, status, clean, n in db.session.execute(
            select(AA.collector_id, Plan.status, no_miss, func.count())
            .select_from(Plan)
            .join(AA, and_(AA.account_id == Plan.account_id, _held_on(Plan.started_on)))
            .outerjoin(missed, missed.c.plan_id == Plan.id)
            .where(Plan.started_on >= start, Plan.started_on <= end)
            .group_by(AA.collector_id, Plan.status, no_miss)):
        attr = outcome_attr.get(plan_outcome(str(status), not clean))
        if attr:
            put(sid, attr, n)

    money = payments_posted()
    for sid, currency, amount in db.session.execute(
            select(AA.collector_id, Account.currency, func.sum(money.c.paid))
            .select_from(money)
            .join(Account, Account.id == money.c.account_id)
            .join(AA, and_(AA.account_id == money.c.account_id, _held_on(money.c.effective_date)))
            .where(money.c.effective_date >= start, money.c.effective_date <= end)
            .group_by(AA.collector_id, Account.currency)):
        if sid in rows and int(amount or 0):
            rows[sid].collected[currency] = rows[sid].collected.get(currency, 0) + int(amount)

    for sid, n in db.session.execute(
            select(AA.collector_id, func.count(distinct(Dispute.id))).select_from(Dispute)
            .join(AA, and_(AA.account_id == Dispute.account_id, AA.assigned_at <= Dispute.created_at,
                           or_(AA.ended_at.is_(None), AA.ended_at > Dispute.created_at)))
            .where(Dispute.category == CONDUCT, Dispute.created_at >= at0,
                   Dispute.created_at < at1)
            .group_by(AA.collector_id)):
        put(sid, "complaints", n)

    collectors = list(rows.values())
    return collectors, team_total(collectors, team_held)


def team_total(collectors: list[CollectorKpi], accounts_held: int) -> CollectorKpi:
    """The team row: the collectors' counts and money added up; accounts counted once each."""
    team = CollectorKpi(None, "", accounts_held=accounts_held)
    for row in collectors:
        for attr in ADDITIVE:
            setattr(team, attr, getattr(team, attr) + getattr(row, attr))
        for currency, amount in row.collected.items():
            team.collected[currency] = team.collected.get(currency, 0) + amount
    return team


@dataclass
class PlanGroup:
    key: str
    count: int = 0
    amounts: dict = field(default_factory=dict)  # currency -> total of the plans
    kept: int = 0
    behind: int = 0
    broken: int = 0

    @property
    def kept_rate(self) -> Fraction | None:
        return kept_rate(self.kept, self.behind, self.broken)


def plans_report(period: Period) -> dict[str, list[PlanGroup]]:
    """Plans created in the period, by status, by plan type and by profile: counts, totals
    per currency and the kept rate (kept / (kept + behind + broken)). One query."""
    missed = missed_plans()
    no_miss = missed.c.plan_id.is_(None)
    facts = db.session.execute(
        select(Plan.status, Plan.kind, Plan.policy_profile, Plan.currency, no_miss,
               func.count(), func.sum(Plan.total))
        .outerjoin(missed, missed.c.plan_id == Plan.id)
        .where(Plan.created_at >= period.start_at, Plan.created_at < period.end_before)
        .group_by(Plan.status, Plan.kind, Plan.policy_profile, Plan.currency, no_miss)).all()
    return group_plans([(str(s), k, p, c, not clean, int(n), int(t or 0))
                        for s, k, p, c, clean, n, t in facts])


def group_plans(facts) -> dict[str, list[PlanGroup]]:
    """Pure: (status, kind, profile, currency, has_missed, count, total) rows into groups."""
    groups: dict[str, dict[str, PlanGroup]] = {"status": {}, "kind": {}, "profile": {}}
    for status, kind, profile, currency, has_missed, count, total in facts:
        outcome = plan_outcome(status, has_missed)
        for dimension, key in (("status", status), ("kind", kind), ("profile", profile)):
            group = groups[dimension].setdefault(key, PlanGroup(key))
            group.count += count
            group.amounts[currency] = group.amounts.get(currency, 0) + total
            if outcome in (KEPT, BEHIND, BROKEN):
                setattr(group, outcome, getattr(group, outcome) + count)
    return {dimension: [by_key[k] for k in sorted(by_key)] for dimension, by_key in groups.items()}


def overall(groups: list[PlanGroup]) -> PlanGroup:
    """All groups of one dimension added up."""
    total = PlanGroup("all")
    amounts = defaultdict(int)
    for group in groups:
        total.count += group.count
        total.kept += group.kept
        total.behind += group.behind
        total.broken += group.broken
        for currency, amount in group.amounts.items():
            amounts[currency] += amount
    total.amounts = dict(amounts)
    return total
