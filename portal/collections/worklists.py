"""The lists collections staff work from: delinquent accounts to assign, and each collector's
accounts. A fixed number of queries per page, however many rows it shows."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Date, Integer, and_, bindparam, func, literal_column, select, true
from sqlalchemy.orm import aliased

from portal.accounts.models import Account, AccountStatus, LedgerEntry
from portal.balances.services import Balance, balance_from, balances_for, page_balances
from portal.balances.sums import NOUGHT, as_sums, sums_beside
from portal.bulk import is_postgres
from portal.collections.models import AccountAssignment, ContactLog, PromiseToPay
from portal.core.pagination import NullsBeyond, Page, clamp_page, seek_page, written
from portal.collections.rules import BROKEN_PROMISE_DAYS, bucket_dates, priority_order
from portal.collections.services import paid_by
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment, PlanStatus
from portal.timeutil import as_aware

UNASSIGNED = "none"


@dataclass(frozen=True)
class DelinquentFilter:
    profile: str | None = None
    bucket: str | None = None
    collector: str | None = None  # "" any, "none" unassigned, or a collector's id
    page: int = 1


class ListedAccount(NamedTuple):
    """The columns of an account a worklist row shows and its balance needs (`balance_from`),
    read as columns instead of an Account entity."""
    id: int
    account_number: str
    currency: str
    minimum_due: int
    oldest_unpaid_due_date: date | None


LISTED_ACCOUNT = (Account.id, Account.account_number, Account.currency, Account.minimum_due,
                  Account.oldest_unpaid_due_date)


class AccountRow(NamedTuple):
    """A row of the worklist or the accounts to assign (a NamedTuple: immutable, and built
    50 times a page at a quarter of a frozen dataclass's cost)."""
    account: Account | ListedAccount  # the assign page's entity; the worklist's columns
    balance: Balance
    collector_id: int | None
    plan_status: str | None = None
    next_due: date | None = None
    next_amount: int | None = None
    last_contact: datetime | None = None
    broken_promises: int = 0


_DELINQUENT_KEYS = (Account.oldest_unpaid_due_date, Account.id)  # ix_account_oldest_unpaid_id


def delinquent(flt: DelinquentFilter, as_of: date, *, after: str | None = None,
               before: str | None = None) -> tuple[list[AccountRow], Page]:
    """Accounts with days late > 0 on `as_of`, most days late first, one page of them, with
    their current collector; and the page (`pagination.seek_page`: by key after or before
    the row a link names, which the index on the oldest unpaid due date and id serves, so a
    page far down costs what the first does; by number for a bookmark).

    Days late needs something overdue, and is counted from the oldest unpaid due date, so the
    due-date and bucket filters run in SQL and `balances_for` (one query) drops the accounts
    whose overdue amount has since been paid (such a page may hold fewer rows; the links go
    on from the last row read, shown or not)."""
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
    found = seek_page(query, _DELINQUENT_KEYS, flt.page, after=after, before=before,
                      scalars=False)
    balances = balances_for([account for account, _ in found.rows], as_of)
    return ([AccountRow(account, balances[account.id], collector_id)
             for account, collector_id in found.rows if balances[account.id].days_past_due > 0],
            found)


def _broken_count():
    """Per account (correlated to `Account`), the promises to pay whose date fell in the
    BROKEN_PROMISE_DAYS days before the "as_of" parameter (from "since" on) and that the
    payments by then did not cover (`services.paid_by`; broken, as `rules.promise_status`
    judges, and as `services.account_contacts` shows them): a column of the worklist's page
    statement, run for the page's rows only. Short aliases (here, and the page's own for
    its assignment and next instalment) keep that statement under psycopg's 4,096 bytes,
    its pages after a key included (`sums.NOUGHT`'s note)."""
    promise = aliased(PromiseToPay, name="p")
    entry, original = aliased(LedgerEntry, name="e"), aliased(LedgerEntry, name="o")
    paid, counted = paid_by(entry, original)
    covered = (select(func.coalesce(func.sum(paid), NOUGHT)).select_from(entry)
               .outerjoin(original, original.id == entry.reversal_of_id)
               .where(entry.account_id == promise.account_id, counted,
                      entry.effective_date >= promise.made_on,
                      entry.effective_date <= promise.last_day)
               .scalar_subquery())
    return (select(func.count()).select_from(promise)
            .where(promise.account_id == Account.id,
                   promise.last_day < bindparam("as_of", type_=Date),
                   promise.last_day >= bindparam("since", type_=Date),
                   covered < promise.amount)
            .correlate(Account).scalar_subquery())


@functools.cache
def _row_facts(postgres: bool):
    """Columns of one worklist row beside its account, each on that account (the database
    runs them for the page's rows only): the latest plan's status, the earliest unpaid
    instalment of its active plan (day and amount left: on PostgreSQL one LATERAL subquery
    for both, to join; SQLite has no LATERAL, so there the same subquery twice, once per
    column, and nothing to join), the last contact, the promises broken lately
    (`_broken_count`). Built once per process (statements are immutable; building one costs
    more Python than running it). The LIMITs and the states are written into the SQL
    (`_ONE`, `written`), so PostgreSQL keeps one plan for the prepared statement
    (`pagination`'s notes; with the plan's state as a parameter it could not use the index of
    active plans, and planned the page afresh on every request)."""
    def on_account(query):
        return query.correlate(Account).scalar_subquery()

    latest = on_account(select(Plan.status).where(Plan.account_id == Account.id)
                        .order_by(Plan.id.desc()).limit(_ONE))
    unpaid = (select(PlanInstalment.due_date.label("next_due"),
                     (PlanInstalment.amount - PlanInstalment.paid_amount).label("next_amount"))
              .join(Plan, PlanInstalment.plan_id == Plan.id)
              .where(Plan.account_id == Account.id,
                     Plan.status == written(PlanStatus.ACTIVE, Plan.status),
                     PlanInstalment.status != written(InstalmentStatus.PAID,
                                                       PlanInstalment.status))
              .order_by(PlanInstalment.due_date, PlanInstalment.id).limit(_ONE))
    last_contact = on_account(select(func.max(ContactLog.occurred_at))
                              .where(ContactLog.account_id == Account.id))
    if postgres:
        unpaid = unpaid.correlate(Account).lateral("ni")  # short: `_broken_count`'s note
        next_due, next_amount = unpaid.c.next_due, unpaid.c.next_amount
    else:
        next_due, next_amount = (on_account(unpaid.with_only_columns(column)).label(column.name)
                                 for column in unpaid.selected_columns)
        unpaid = None
    return (latest.label("plan_status"), next_due, next_amount,
            last_contact.label("last_contact"), _broken_count().label("broken")), unpaid


_ONE = literal_column("1", Integer)


# ix_account_oldest_unpaid_last; NullsBeyond, not NullsLast: one plan for a page after a key
_KEYS = (NullsBeyond(Account.oldest_unpaid_due_date, date.max), Account.id)


@functools.cache  # built once per process, its page statements too (`seek_page`'s `params`)
def _assigned_query(one_collector: bool, postgres: bool, with_sums: bool):
    """The accounts assigned now (the columns of `ListedAccount`), with their row facts;
    `one_collector`: to the collector given as the "collector_id" parameter; `with_sums`
    (PostgreSQL only): each row's five ledger sums as of the "as_of" parameter last."""
    facts, unpaid = _row_facts(postgres)
    sums = sums_beside() if with_sums else None
    held = aliased(AccountAssignment, name="aa")  # short: `_broken_count`'s note
    query = (select(*LISTED_ACCOUNT, held.collector_id, *facts,
                    *(() if sums is None else sums.c))
             .join(held, and_(held.account_id == Account.id, held.ended_at.is_(None))))
    if unpaid is not None:
        query = query.outerjoin(unpaid, true())
    if sums is not None:
        query = query.join(sums, true())
    if one_collector:
        query = query.where(held.collector_id == bindparam("collector_id"))
    return query


def assigned_accounts(collector_id: int | None, as_of: date, page: int = 1, *,
                      after: str | None = None, before: str | None = None) -> Page:
    """One page (pagination.PER_PAGE) of the accounts assigned now to `collector_id` (None:
    to anyone), with balance, days late, latest plan's status, next instalment, last contact
    and recently broken promises, in a fixed number of queries: on PostgreSQL one (the page
    with its plan, contact and promise facts and each row's ledger sums,
    `sums.sums_beside`), elsewhere, and for a page after the first asked by number alone,
    two (the balances by `page_balances`).

    Pages follow the oldest unpaid due date (most days late first, nothing unpaid last; by
    key after the last row shown, `pagination.seek_page`, which an index serves);
    each page is in worklist priority (`rules.priority_key`, through `priority_order`). A
    list of one page is thus in exact priority order; across pages, the overdue amount and
    broken promises (derived from the ledger and the payments) reorder only within a page."""
    # A page asked by number alone skips rows (OFFSET), and a LATERAL join would sum each
    # skipped row's ledger too: such a page reads its balances after it (`page_balances`).
    postgres = is_postgres()
    with_sums = postgres and (clamp_page(page) == 1 or bool(after or before))
    params = {"as_of": as_of, "since": as_of - timedelta(days=BROKEN_PROMISE_DAYS)}
    if collector_id is not None:
        params["collector_id"] = collector_id
    query = _assigned_query(collector_id is not None, postgres, with_sums)
    found = seek_page(query, _KEYS, page, after=after, before=before, scalars=False,
                      params=params)
    accounts = [ListedAccount(*row[:5]) for row in found.rows]
    if with_sums:  # the sums are the page rows' last five columns
        balances = {account.id: balance_from(account, as_of, as_sums(row[-5:]))
                    for account, row in zip(accounts, found.rows)}
    else:
        balances = page_balances(accounts, as_of)
    result = []
    for account, row in zip(accounts, found.rows):
        owner, status, due, amount, last_contact, broken = row[5:11]
        result.append(AccountRow(account, balances[account.id], owner,
                                 _PLAN_STATUSES[status] if status else None, due,
                                 None if due is None else int(amount), as_aware(last_contact),
                                 int(broken or 0)))
    return Page(sorted(result, key=lambda row: priority_order(
        row.balance.days_past_due, row.balance.overdue, row.broken_promises, row.last_contact,
        row.account.id)), found.page, found.has_next, found.next_cursor,
        found.previous_cursor)


# A plan status as read (text) -> its value, as `PlanStatus(status).value` gives it (an
# unknown one is an error either way); a dict lookup where the enum's call cost 1-2 us a row.
_PLAN_STATUSES = {status.value: status.value for status in PlanStatus}
