"""The lists collections staff work from: delinquent accounts to assign, and each collector's
accounts. A fixed number of queries per page, however many rows it shows."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (Date, Integer, and_, any_, bindparam, func, literal_column, select,
                        true)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from portal.accounts.models import Account, AccountStatus, LedgerEntry
from portal.accounts.versions import PageVersion
from portal.balances.services import Balance, balance_from, balances_for, page_balances
from portal.balances.sums import NOUGHT, as_sums, sums_beside
from portal.bulk import is_postgres
from portal.collections.models import AccountAssignment, ContactLog, PromiseToPay
from portal.core.pagination import NullsBeyond, Page, seek_page, written
from portal.collections.rules import BROKEN_PROMISE_DAYS, bucket_dates, priority_order
from portal.collections.services import paid_by
from portal.extensions import db
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
    judges, and as `services.account_contacts` shows them): a column of the worklist's facts
    statement, run for the accounts it is asked for. Short aliases (here, and the facts
    statement's own for the next instalment) keep that statement under psycopg's 4,096
    bytes (`sums.NOUGHT`'s note)."""
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


def _row_facts(postgres: bool):
    """Columns of one worklist row beside its account, each on that account (the database
    runs them for the rows asked for only): the latest plan's status, the earliest unpaid
    instalment of its active plan (day and amount left: on PostgreSQL one LATERAL subquery
    for both, to join; SQLite has no LATERAL, so there the same subquery twice, once per
    column, and nothing to join), the promises broken lately (`_broken_count`). Built once
    per process with `_facts_query`, its one caller (statements are immutable; building one
    costs more Python than running it).
    The LIMITs and the states are written into the SQL (`_ONE`, `written`), so PostgreSQL
    keeps one plan for the prepared statement (`pagination`'s notes; with the plan's state as
    a parameter it could not use the index of active plans, and planned it afresh each run)."""
    latest = _on_account(select(Plan.status).where(Plan.account_id == Account.id)
                         .order_by(Plan.id.desc()).limit(_ONE))
    unpaid = (select(PlanInstalment.due_date.label("next_due"),
                     (PlanInstalment.amount - PlanInstalment.paid_amount).label("next_amount"))
              .join(Plan, PlanInstalment.plan_id == Plan.id)
              .where(Plan.account_id == Account.id,
                     Plan.status == written(PlanStatus.ACTIVE, Plan.status),
                     PlanInstalment.status != written(InstalmentStatus.PAID,
                                                       PlanInstalment.status))
              .order_by(PlanInstalment.due_date, PlanInstalment.id).limit(_ONE))
    if postgres:
        unpaid = unpaid.correlate(Account).lateral("ni")  # short: `_broken_count`'s note
        next_due, next_amount = unpaid.c.next_due, unpaid.c.next_amount
    else:
        next_due, next_amount = (_on_account(unpaid.with_only_columns(column))
                                 .label(column.name) for column in unpaid.selected_columns)
        unpaid = None
    return (latest.label("plan_status"), next_due, next_amount,
            _broken_count().label("broken")), unpaid


def _on_account(query):
    return query.correlate(Account).scalar_subquery()


_ONE = literal_column("1", Integer)


# ix_account_oldest_unpaid_last; NullsBeyond, not NullsLast: one plan for a page after a key
_KEYS = (NullsBeyond(Account.oldest_unpaid_due_date, date.max), Account.id)


@functools.cache  # built once per process, its page statements too (`seek_page`'s `params`)
def _assigned_query(one_collector: bool):
    """The accounts assigned now (the columns of `ListedAccount`), each with its collector,
    its last contact and its page-version token (None: it has none yet); `one_collector`: to
    the collector given as the "collector_id" parameter."""
    held = aliased(AccountAssignment, name="aa")
    last_contact = _on_account(select(func.max(ContactLog.occurred_at))
                               .where(ContactLog.account_id == Account.id))
    query = (select(*LISTED_ACCOUNT, held.collector_id, last_contact.label("last_contact"),
                    PageVersion.token)
             .join(held, and_(held.account_id == Account.id, held.ended_at.is_(None)))
             .outerjoin(PageVersion, PageVersion.account_id == Account.id))
    if one_collector:
        query = query.where(held.collector_id == bindparam("collector_id"))
    return query


@functools.cache
def _facts_query(postgres: bool):
    """Each account's row facts (`_row_facts`), for the ids given as the "ids" parameter: on
    PostgreSQL one array (one statement, prepared once, whatever the ids) and each account's
    five ledger sums as of "as_of" last (`sums.sums_beside`); elsewhere an expanding IN."""
    facts, unpaid = _row_facts(postgres)
    if not postgres:
        return (select(Account.id, *facts)
                .where(Account.id.in_(bindparam("ids", expanding=True))))
    sums = sums_beside()
    return (select(Account.id, *facts, *sums.c)
            .select_from(Account.__table__.outerjoin(unpaid, true()).join(sums, true()))
            .where(Account.id == any_(bindparam("ids", type_=ARRAY(Integer)))))


class RowFacts(NamedTuple):
    """What a worklist row shows that the account's page-version token covers."""
    balance: Balance
    plan_status: str | None
    next_due: date | None
    next_amount: int | None
    broken_promises: int


# Each row's facts kept per process (per app) under the account's page-version token and the
# day (issue 15: the ledger sums and plan facts were most of the page's database time).
# Everything they are derived from renews the token in the writing transaction (the account
# row, its ledger entries, snapshots and acknowledgements, plans and instalments, promises:
# `portal.accounts.versions`), so facts kept under the token a page reads are the facts as
# built from the state that token names. The token is read with the page's rows, before any
# facts are built: facts built later than it are kept under it, and a newer token replaces
# them at the next read, never the other way round. Not covered, so read with every page:
# the collector and the last contact.
KEPT_FACTS = 20_000  # rows kept per process before starting afresh (a few hundred bytes each)
FACTS_KEPT = True  # False: every row's facts built afresh (tests compare the two)


def _row_facts_for(accounts: list[ListedAccount], tokens: list[int | None],
                   as_of: date) -> list[RowFacts]:
    """Each account's `RowFacts` on `as_of`: kept ones under an unchanged token, the others
    built in one statement (on SQLite three: then the balances, `page_balances`) and kept."""
    store = current_app.extensions.setdefault("worklist_facts", {})
    keys = [(token, as_of) if token is not None else None for token in tokens]
    found = [None] * len(accounts)
    if FACTS_KEPT:
        for i, (account, key) in enumerate(zip(accounts, keys)):
            kept = store.get(account.id) if key is not None else None
            if kept is not None and kept[0] == key:
                found[i] = kept[1]
    missing = [i for i, facts in enumerate(found) if facts is None]
    if missing:
        built = _build_facts([accounts[i] for i in missing], as_of)
        for i in missing:
            found[i] = built[accounts[i].id]
            if FACTS_KEPT and keys[i] is not None:
                if len(store) >= KEPT_FACTS:
                    store.clear()
                store[accounts[i].id] = (keys[i], found[i])
    return found


def _build_facts(accounts: list[ListedAccount], as_of: date) -> dict[int, RowFacts]:
    postgres = is_postgres()
    rows = db.session.connection().execute(_facts_query(postgres), {
        "ids": [a.id for a in accounts], "as_of": as_of,
        "since": as_of - timedelta(days=BROKEN_PROMISE_DAYS)}).all()
    by_id = {a.id: a for a in accounts}
    if postgres:  # the sums are the rows' last five columns
        balances = {row[0]: balance_from(by_id[row[0]], as_of, as_sums(row[-5:]))
                    for row in rows}
    else:
        balances = page_balances(accounts, as_of)
    return {account_id: RowFacts(balances[account_id],
                                 _PLAN_STATUSES[status] if status else None, due,
                                 None if due is None else int(amount), int(broken or 0))
            for account_id, status, due, amount, broken, *_ in rows}


def assigned_accounts(collector_id: int | None, as_of: date, page: int = 1, *,
                      after: str | None = None, before: str | None = None) -> Page:
    """One page (pagination.PER_PAGE) of the accounts assigned now to `collector_id` (None:
    to anyone), with balance, days late, latest plan's status, next instalment, last contact
    and recently broken promises, in a fixed number of queries: one for the page (with each
    row's collector, last contact and page-version token) and, when any row's facts are not
    kept under its token (`_row_facts_for`), one more for theirs (on SQLite three).

    Pages follow the oldest unpaid due date (most days late first, nothing unpaid last; by
    key after the last row shown, `pagination.seek_page`, which an index serves);
    each page is in worklist priority (`rules.priority_key`, through `priority_order`). A
    list of one page is thus in exact priority order; across pages, the overdue amount and
    broken promises (derived from the ledger and the payments) reorder only within a page."""
    params = {} if collector_id is None else {"collector_id": collector_id}
    found = seek_page(_assigned_query(collector_id is not None), _KEYS, page, after=after,
                      before=before, scalars=False, params=params)
    accounts = [ListedAccount(*row[:5]) for row in found.rows]
    facts = _row_facts_for(accounts, [row[7] for row in found.rows], as_of)
    result = [AccountRow(account, fact.balance, row[5], fact.plan_status, fact.next_due,
                         fact.next_amount, as_aware(row[6]), fact.broken_promises)
              for account, row, fact in zip(accounts, found.rows, facts)]
    return Page(sorted(result, key=lambda row: priority_order(
        row.balance.days_past_due, row.balance.overdue, row.broken_promises, row.last_contact,
        row.account.id)), found.page, found.has_next, found.next_cursor,
        found.previous_cursor)


# A plan status as read (text) -> its value, as `PlanStatus(status).value` gives it (an
# unknown one is an error either way); a dict lookup where the enum's call cost 1-2 us a row.
_PLAN_STATUSES = {status.value: status.value for status in PlanStatus}
