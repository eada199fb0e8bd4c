"""The lists collections staff work from: delinquent accounts to assign, and each collector's
accounts. A fixed number of queries per page, however many rows it shows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select

from portal.accounts.models import Account, AccountStatus
from portal.balances.services import Balance, balances_for
from portal.collections.models import AccountAssignment, ContactLog, PromiseToPay
from portal.core.pagination import NullsLast, Page, clamp_page, seek_page
from portal.collections.rules import (BROKEN_PROMISE_DAYS, PriorityFacts, bucket_dates,
                                      priority_key)
from portal.collections.services import promise_paid_query
from portal.extensions import db
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment, PlanStatus
from portal.timeutil import as_aware

PER_PAGE = 50
UNASSIGNED = "none"


@dataclass(frozen=True)
class DelinquentFilter:
    profile: str | None = None
    bucket: str | None = None
    collector: str | None = None  # "" any, "none" unassigned, or a collector's id
    page: int = 1


@dataclass(frozen=True)
class AccountRow:
    account: Account
    balance: Balance
    collector_id: int | None
    plan_status: str | None = None
    next_due: date | None = None
    next_amount: int | None = None
    last_contact: datetime | None = None
    broken_promises: int = 0


def delinquent(flt: DelinquentFilter, as_of: date) -> tuple[list[AccountRow], bool]:
    """Accounts with days late > 0 on `as_of`, most days late first, one page of them, with
    their current collector; and whether another page follows.

    Days late needs something overdue, and is counted from the oldest unpaid due date, so the
    due-date and bucket filters run in SQL and `balances_for` (one query) drops the accounts
    whose overdue amount has since been paid (such a page may hold fewer rows)."""
    current = and_(AccountAssignment.account_id == Account.id, AccountAssignment.ended_at.is_(None))
    query = (select(Account, AccountAssignment.collector_id).outerjoin(AccountAssignment, current)
             .where(Account.oldest_unpaid_due_date < as_of, Account.status != AccountStatus.CLOSED))
    if flt.profile:
        query = query.where(Account.policy_profile == flt.profile)
    if flt.bucket:
        earliest, latest = bucket_dates(flt.bucket, as_of)
        query = query.where(Account.oldest_unpaid_due_date <= latest)
        if earliest is not None:
            query = query.where(Account.oldest_unpaid_due_date >= earliest)
    if flt.collector == UNASSIGNED:
        query = query.where(AccountAssignment.id.is_(None))
    elif flt.collector:
        query = query.where(AccountAssignment.collector_id == int(flt.collector))
    page = clamp_page(flt.page)
    rows = db.session.execute(query.order_by(Account.oldest_unpaid_due_date, Account.id)
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    has_next = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    balances = balances_for([account for account, _ in rows], as_of)
    return ([AccountRow(account, balances[account.id], collector_id)
             for account, collector_id in rows if balances[account.id].days_past_due > 0],
            has_next)


def broken_promises(account_ids, as_of: date) -> dict[int, int]:
    """Per account, the promises to pay whose date fell in the BROKEN_PROMISE_DAYS days before
    `as_of` and that the payments did not cover (broken, as `rules.promise_status` judges)."""
    paid = promise_paid_query().subquery()
    rows = db.session.execute(
        select(PromiseToPay.account_id, func.count())
        .join(paid, paid.c.promise_id == PromiseToPay.id)
        .where(PromiseToPay.account_id.in_(list(account_ids)),
               PromiseToPay.last_day < as_of,
               PromiseToPay.last_day >= as_of - timedelta(days=BROKEN_PROMISE_DAYS),
               paid.c.paid < PromiseToPay.amount)
        .group_by(PromiseToPay.account_id))
    return {account_id: int(n) for account_id, n in rows}


def assigned_accounts(collector_id: int | None, as_of: date, page: int = 1, *,
                      after: str | None = None, before: str | None = None) -> Page:
    """One page (pagination.PER_PAGE) of the accounts assigned now to `collector_id` (None:
    to anyone), with balance, days late, latest plan's status, next instalment, last contact
    and recently broken promises, in a fixed number of queries.

    Pages follow the oldest unpaid due date (most days late first, nothing unpaid last; by
    key after the last row shown, `pagination.seek_page`, which an index serves);
    each page is in worklist priority (`rules.priority_key`). A list of one page is thus in
    exact priority order; across pages, the overdue amount and broken promises (derived
    from the ledger and the payments) reorder only within a page."""
    query = (select(Account, AccountAssignment.collector_id)
             .join(AccountAssignment, and_(AccountAssignment.account_id == Account.id,
                                           AccountAssignment.ended_at.is_(None))))
    if collector_id is not None:
        query = query.where(AccountAssignment.collector_id == collector_id)
    found = seek_page(query, (NullsLast(Account.oldest_unpaid_due_date), Account.id), page,
                      after=after, before=before, scalars=False)
    rows = found.rows
    ids = [account.id for account, _ in rows] or [0]
    balances = balances_for([account for account, _ in rows], as_of)
    latest = select(func.max(Plan.id)).where(Plan.account_id.in_(ids)).group_by(Plan.account_id)
    plan_status = dict(db.session.execute(
        select(Plan.account_id, Plan.status).where(Plan.id.in_(latest))).all())
    next_due: dict[int, tuple[date, int]] = {}
    for account_id, due, amount in db.session.execute(
            select(Plan.account_id, PlanInstalment.due_date,
                   PlanInstalment.amount - PlanInstalment.paid_amount)
            .join(PlanInstalment, PlanInstalment.plan_id == Plan.id)
            .where(Plan.account_id.in_(ids), Plan.status == PlanStatus.ACTIVE,
                   PlanInstalment.status != InstalmentStatus.PAID)
            .order_by(PlanInstalment.due_date.desc())):
        next_due[account_id] = (due, int(amount))  # descending: the earliest is written last
    last_contact = dict(db.session.execute(
        select(ContactLog.account_id, func.max(ContactLog.occurred_at))
        .where(ContactLog.account_id.in_(ids)).group_by(ContactLog.account_id)).all())
    broken = broken_promises(ids, as_of)
    result = []
    for account, owner in rows:
        due, amount = next_due.get(account.id, (None, None))
        status = plan_status.get(account.id)
        result.append(AccountRow(account, balances[account.id], owner,
                                 status.value if status else None, due, amount,
                                 as_aware(last_contact.get(account.id)),
                                 broken.get(account.id, 0)))
    return Page(sorted(result, key=lambda row: priority_key(PriorityFacts(
        row.balance.days_past_due, row.balance.overdue, row.broken_promises, row.last_contact,
        row.account.id))), found.page, found.has_next, found.next_cursor,
        found.previous_cursor)


def profiles() -> list[str]:
    """The policy profiles accounts use, for the filter."""
    return list(db.session.scalars(select(Account.policy_profile).distinct()
                                   .order_by(Account.policy_profile)))
