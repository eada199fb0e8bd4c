"""Promises to pay, whoever made them: the policy in force, the promises of an account judged
by the ledger, a promise made online by the cardholder, and the escalation pause an open
promise gives (registered in portal.wiring).

One model (`PromiseToPay`) for both sources: a collector's promise is logged with a contact
(portal.collections.services.log_contact), a cardholder's here. Both are judged, paused on
and reminded of the same way. Services add and flush; the route commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, and_, bindparam, func, select, text

from portal.accounts.models import Account, Cardholder
from portal.audit.services import record
from portal.balances.services import balance_of
from portal.collections import promise_rules as rules
from portal.collections.models import PromiseSource, PromiseToPay
from portal.collections.rules import BROKEN, PENDING, promise_status
from portal.collections.services import payments_posted, promise_paid_query, promises_policy
from portal.consequences.pauses import Pause
from portal.extensions import db
from portal.plans.models import Plan, PlanStatus
from portal.staff.models import StaffUser
from portal.timeutil import utcnow


class PromiseRefused(Exception):
    """The promise cannot be made: `codes` are promise_rules' refusal or problem codes."""

    def __init__(self, *codes: str):
        super().__init__(", ".join(codes))
        self.codes = codes


@dataclass(frozen=True)
class PromiseView:
    promise: PromiseToPay
    paid: int  # paid towards it so far (payments less reversals, made_on to last_day)
    status: str  # kept | broken | pending (open)


def account_promises(account: Account, today: date) -> list[PromiseView]:
    """Every promise on the account, both sources, newest first, judged as of `today`
    (three queries whatever their number)."""
    promises = list(db.session.scalars(select(PromiseToPay).where(
        PromiseToPay.account_id == account.id).order_by(PromiseToPay.made_on.desc(),
                                                        PromiseToPay.id.desc())))
    if not promises:
        return []
    paid = {pid: int(v) for pid, v in db.session.execute(
        promise_paid_query().where(PromiseToPay.account_id == account.id))}
    staff_ids = {p.staff_id for p in promises if p.staff_id}
    if staff_ids:  # names in one query rather than one per promise
        db.session.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids))).all()
    return [PromiseView(p, paid.get(p.id, 0),
                        promise_status(p.amount, paid.get(p.id, 0), p.last_day, today))
            for p in promises]


@dataclass(frozen=True)
class Eligibility:
    """Whether the cardholder may make a promise online today, and within which bounds."""
    refusal: str | None  # a promise_rules refusal code, None: they may
    limits: rules.Limits
    policy: rules.PromisePolicy
    open_promise: PromiseView | None
    refused_until: date | None  # for "too_many_broken": the first day they may again
    overdue: int = 0  # minor units, today
    owed: int = 0


def eligibility(account: Account, today: date, views: list[PromiseView] | None = None,
                ) -> Eligibility:
    """The refusal (plan running, a promise open, nothing overdue, too many broken) or the
    limits a promise made today must keep."""
    policy = promises_policy(account.policy_profile, today)
    balance = balance_of(account, today)
    views = account_promises(account, today) if views is None else views
    open_view = next((v for v in views if v.status == PENDING), None)
    broken = [v.promise.last_day for v in views if v.status == BROKEN]
    plan_active = db.session.scalar(select(Plan.id).where(
        Plan.account_id == account.id, Plan.status == PlanStatus.ACTIVE).limit(1)) is not None
    refusal = rules.refusal(policy, overdue=balance.overdue, plan_active=plan_active,
                            open_promise=open_view is not None, broken_last_days=broken,
                            today=today)
    until = rules.refused_until(policy, broken, today) \
        if refusal == rules.TOO_MANY_BROKEN else None
    bounds = rules.limits(policy, account.currency, balance.overdue, balance.total, today)
    return Eligibility(refusal, bounds, policy, open_view, until, balance.overdue, balance.total)


_PROMISES_LOCK = 0x50524F4D  # "PROM": the advisory-lock space of online promises


def _lock_promises(account: Account) -> None:
    """Serialise online promises per account until the transaction ends (PostgreSQL; SQLite
    runs one writer at a time)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": _PROMISES_LOCK, "key": account.id})


def make_promise(account: Account, cardholder: Cardholder, amount: int, promised_on: date,
                 today: date, ip_address: str | None = None) -> PromiseToPay:
    """Record the cardholder's own promise to pay `amount` by `promised_on`, made online on
    their `today`; audited as `collections.promise_made`. Raises PromiseRefused with the
    refusal code, or with every problem of the amount and date (promise_rules codes)."""
    if account.cardholder_id != cardholder.id:
        raise PromiseRefused("not_yours")
    _lock_promises(account)  # two tabs submitting at once: the second sees the first's promise
    found = eligibility(account, today)
    if found.refusal:
        raise PromiseRefused(found.refusal)
    problems = rules.check_promise(found.limits, amount, promised_on)
    if problems:
        raise PromiseRefused(*problems)
    grace = found.policy.grace_days
    promise = PromiseToPay(made_by=PromiseSource.CARDHOLDER, account_id=account.id,
                           cardholder_id=cardholder.id, ip_address=(ip_address or None),
                           amount=amount, currency=account.currency, made_on=today,
                           promised_on=promised_on, grace_days=grace,
                           last_day=rules.last_day(promised_on, grace), created_at=utcnow())
    db.session.add(promise)
    db.session.flush()
    record("collections.promise_made", subject=promise, after={
        "made_by": "cardholder", "account_id": account.id, "amount": amount,
        "currency": account.currency, "promised_on": promised_on.isoformat(),
        "last_day": promise.last_day.isoformat(), "grace_days": grace})
    return promise


# ---- the escalation pause ------------------------------------------------------------------

def accounts_with_promises(account_ids: list) -> set[int]:
    """Accounts that have ever had a promise to pay: the only ones this provider can pause."""
    if not account_ids:
        return set()
    return set(db.session.scalars(select(PromiseToPay.account_id).distinct().where(
        PromiseToPay.account_id.in_(account_ids))))


def _open_on_query():
    ids, as_of = bindparam("ids", expanding=True), bindparam("as_of", type_=Date)
    paid = payments_posted()
    total = func.coalesce(func.sum(paid.c.paid), 0)
    return (select(PromiseToPay)
            .outerjoin(paid, and_(paid.c.account_id == PromiseToPay.account_id,
                                  paid.c.effective_date >= PromiseToPay.made_on,
                                  paid.c.effective_date <= as_of))
            .where(PromiseToPay.account_id.in_(ids), PromiseToPay.made_on <= as_of,
                   PromiseToPay.last_day >= as_of)
            .group_by(PromiseToPay.id).having(total < PromiseToPay.amount))


_OPEN_ON = _open_on_query()  # built once: only the ids and the day change (issue 15)


def _open_on(account_ids, as_of: date):
    """(account id, promise) for each promise open on `as_of`: made by then, its last day
    not passed, and the payments dated from its day to `as_of` short of the amount."""
    return db.session.execute(_OPEN_ON, {"ids": list(account_ids), "as_of": as_of}).scalars()


def _pause(promise: PromiseToPay) -> Pause:
    return Pause(reason="promise", since=promise.made_on, until=promise.last_day,
                 reference=str(promise.id))


def promise_pauses(accounts, as_of: date) -> dict[int, Pause]:
    """`promise_pause` for many accounts in one query (the open promise lasting longest)."""
    found: dict[int, PromiseToPay] = {}
    for promise in _open_on([a.id for a in accounts], as_of):
        held = found.get(promise.account_id)
        if held is None or (promise.last_day, promise.id) > (held.last_day, held.id):
            found[promise.account_id] = promise
    return {account_id: _pause(p) for account_id, p in found.items()}


def promise_pause(account, as_of: date) -> Pause | None:
    """Escalation is paused on `as_of` while a promise to pay (either source) is open: from
    the day it was made to its last day (promised date + grace), unless the ledger shows it
    kept by then. A broken promise gives no pause: the steps it held back apply again."""
    return promise_pauses([account], as_of).get(account.id)
