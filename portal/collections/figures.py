"""Figures for managers over a period and one policy profile: roll rates between stages,
cure and self-cure, right-party contact, plan break rate by how the plan was set up, promise
kept rate and the share of payments made without contact with staff.

Each figure is a numerator and a denominator (rules.Ratio), counted by five grouped queries
whatever the number of accounts (tests/integration/test_collections_figures.py counts them);
the definitions are in docs/features.md ("Figures for managers") and in the docstrings below.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal_column, or_, select

from portal.accounts.models import Account, Cardholder
from portal.collections.models import ContactDirection, ContactLog, ContactOutcome, PromiseToPay
from portal.collections.reports import Period, candidate_days, missed_plans, utc_day
from portal.collections.rules import (BEHIND, BROKEN, CURRENT, KEPT, Ratio, StageFigures,
                                      plan_outcome, stage_figures)
from portal.collections.services import promise_paid_query
from portal.consequences.models import StageChange
from portal.domain.dates import local_date
from portal.extensions import db
from portal.payments.models import Payment
from portal.payments.states import PaymentStatus
from portal.plans.models import Plan

# Outcomes that mean the cardholder was reached (a right-party contact).
RIGHT_PARTY = (ContactOutcome.REACHED, ContactOutcome.PROMISED, ContactOutcome.CALLBACK,
               ContactOutcome.REFUSED, ContactOutcome.DISPUTED)
# A payment counts as made without staff when no contact was logged this many days before it.
NO_CONTACT_DAYS = 14
SETUPS = ("self_service", "counter_offer", "collector")


@dataclass(frozen=True)
class PlanBreaks:
    setup: str
    broken: int
    judged: int  # kept + behind + broken (cancelled plans left out)
    cancelled: int

    @property
    def ratio(self) -> Ratio:
        return Ratio(self.broken, self.judged)


@dataclass(frozen=True)
class Figures:
    stages: StageFigures
    right_party: Ratio
    plan_breaks: tuple[PlanBreaks, ...]
    promises_kept: Ratio
    promises_pending: int
    no_contact_payments: Ratio


def days_before(column, days: int):
    """The date `days` before a DATE column, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column - literal_column(str(int(days)))
    return func.date(column, literal_column(f"'-{int(days)} days'"))


def _stage_on(day: date):
    """(account_id, stage) from the last stage move on or before `day`; an account without
    one is `current`."""
    last = (select(StageChange.account_id, func.max(StageChange.changed_on).label("on"))
            .where(StageChange.changed_on <= day).group_by(StageChange.account_id).subquery())
    return (select(StageChange.account_id, StageChange.to_stage.label("stage"))
            .join(last, and_(last.c.account_id == StageChange.account_id,
                             last.c.on == StageChange.changed_on)).subquery())


def _helped(period: Period):
    """SQL truth: a plan ran in the period, or a promise was made or a contact logged in it."""
    plan_end = func.coalesce(Plan.completed_on, Plan.broken_on, Plan.cancelled_on)
    return or_(
        exists().where(Plan.account_id == Account.id, Plan.started_on.is_not(None),
                       Plan.started_on <= period.end,
                       or_(plan_end.is_(None), plan_end >= period.start)),
        exists().where(PromiseToPay.account_id == Account.id,
                       PromiseToPay.made_on >= period.start, PromiseToPay.made_on <= period.end),
        exists().where(ContactLog.account_id == Account.id,
                       ContactLog.occurred_at >= period.start_at,
                       ContactLog.occurred_at < period.end_before))


def stage_moves(profile: str, period: Period) -> dict[tuple[str, str, bool], int]:
    """Accounts of the profile that existed before the period, counted by (stage on the day
    before it, stage on its last day, helped in it). One query."""
    before, after = _stage_on(period.start - timedelta(days=1)), _stage_on(period.end)
    # Per account first, then grouped: PostgreSQL groups by plain columns, not by an EXISTS.
    each = (select(before.c.stage.label("start"), after.c.stage.label("end"),
                   _helped(period).label("helped")).select_from(Account)
            .outerjoin(before, before.c.account_id == Account.id)
            .outerjoin(after, after.c.account_id == Account.id)
            .where(Account.policy_profile == profile, Account.created_at < period.start_at)
            .subquery())
    rows = db.session.execute(select(each.c.start, each.c.end, each.c.helped, func.count())
                              .group_by(each.c.start, each.c.end, each.c.helped))
    moves: dict[tuple[str, str, bool], int] = {}
    for start, end, helped, n in rows:
        key = (start or CURRENT, end or CURRENT, bool(helped))
        moves[key] = moves.get(key, 0) + int(n)
    return moves


def right_party(profile: str, period: Period) -> Ratio:
    """Outbound contacts logged in the period that reached the cardholder / outbound contacts
    logged in it (every channel)."""
    reached = case((ContactLog.outcome.in_(RIGHT_PARTY), 1), else_=0)
    attempts, hits = db.session.execute(
        select(func.count(), func.coalesce(func.sum(reached), 0)).select_from(ContactLog)
        .join(Account, Account.id == ContactLog.account_id)
        .where(Account.policy_profile == profile,
               ContactLog.direction == ContactDirection.OUTBOUND,
               ContactLog.occurred_at >= period.start_at,
               ContactLog.occurred_at < period.end_before)).one()
    return Ratio(int(hits), int(attempts))


def setup_of():
    """How a plan was set up, in SQL: no staff decision = self-service (agreed on the spot);
    a staff decision with a reason = a counter-offer the cardholder accepted; a staff
    decision without one = approved by a collector or manager."""
    # Literal columns, not parameters, so that PostgreSQL can group by the same expression.
    return case((Plan.decided_by_id.is_(None), literal_column("'self_service'")),
                (Plan.decision_reason.is_not(None), literal_column("'counter_offer'")),
                else_=literal_column("'collector'"))


def plan_breaks(profile: str, period: Period) -> tuple[PlanBreaks, ...]:
    """Plans of the profile started in the period, by setup: broken / (kept + behind +
    broken) as they stand now. One query."""
    missed = missed_plans()
    has_missed = missed.c.plan_id.is_not(None)
    setup = setup_of()
    counts = {s: {KEPT: 0, BEHIND: 0, BROKEN: 0, "cancelled": 0} for s in SETUPS}
    for kind, status, late, n in db.session.execute(
            select(setup, Plan.status, has_missed, func.count())
            .outerjoin(missed, missed.c.plan_id == Plan.id)
            .where(Plan.policy_profile == profile, Plan.started_on >= period.start,
                   Plan.started_on <= period.end)
            .group_by(setup, Plan.status, has_missed)):
        outcome = plan_outcome(str(status), bool(late))
        if outcome in counts[kind]:
            counts[kind][outcome] += int(n)
    return tuple(PlanBreaks(s, c[BROKEN], c[KEPT] + c[BEHIND] + c[BROKEN], c["cancelled"])
                 for s, c in counts.items())


def promises(profile: str, period: Period, now: datetime) -> tuple[Ratio, int]:
    """Promises to pay (every source) falling due in the period: kept / (kept + broken),
    judged from the ledger on each cardholder's own date at `now`; and how many are not yet
    due. One query, grouped by time zone."""
    paid = promise_paid_query().subquery()
    kept = paid.c.paid >= PromiseToPay.amount
    days = candidate_days(now)
    n_kept = n_broken = n_all = 0
    for zone, total, k, *broken_if in db.session.execute(
            select(Cardholder.timezone, func.count(), func.sum(case((kept, 1), else_=0)),
                   *[func.sum(case((and_(~kept, PromiseToPay.promised_on < day), 1), else_=0))
                     for day in days])
            .join(paid, paid.c.promise_id == PromiseToPay.id)
            .join(Account, Account.id == PromiseToPay.account_id)
            .join(Cardholder, Cardholder.id == Account.cardholder_id)
            .where(Account.policy_profile == profile, PromiseToPay.promised_on >= period.start,
                   PromiseToPay.promised_on <= period.end)
            .group_by(Cardholder.timezone)):
        n_all += int(total)
        n_kept += int(k or 0)
        n_broken += int(broken_if[days.index(local_date(now, zone))] or 0)
    return Ratio(n_kept, n_kept + n_broken), n_all - n_kept - n_broken


def no_contact_payments(profile: str, period: Period) -> Ratio:
    """Successful portal payments (the cardholder online, or autopay they set up) dated in the
    period with no contact logged by staff on the payment's day or the NO_CONTACT_DAYS days
    before it / successful portal payments dated in the period. One query."""
    contact_day = utc_day(ContactLog.occurred_at)
    alone = ~exists().where(ContactLog.account_id == Payment.account_id,
                            contact_day <= Payment.paid_on,
                            contact_day >= days_before(Payment.paid_on, NO_CONTACT_DAYS))
    total, without = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((alone, 1), else_=0)), 0))
        .select_from(Payment).join(Account, Account.id == Payment.account_id)
        .where(Account.policy_profile == profile, Payment.status == PaymentStatus.SUCCEEDED,
               Payment.paid_on >= period.start, Payment.paid_on <= period.end)).one()
    return Ratio(int(without), int(total))


def figures(profile: str, stage_order: list[str], period: Period, now: datetime) -> Figures:
    """Every figure for the profile and period (five queries)."""
    kept, pending = promises(profile, period, now)
    return Figures(stage_figures(stage_moves(profile, period), stage_order),
                   right_party(profile, period), plan_breaks(profile, period), kept, pending,
                   no_contact_payments(profile, period))
