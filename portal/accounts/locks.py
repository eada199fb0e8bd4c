"""The account's row lock taken by every path that changes money on it (docs/money.md,
"Lock order")."""
from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, select, text

from portal.accounts.models import Account
from portal.bulk import is_postgres
from portal.extensions import db


def lock_account_money(account_id: int) -> None:
    """Take the account's row lock for a posting, reversal, reinstatement, dispute credit or
    plan being agreed (PostgreSQL; FOR NO KEY UPDATE, so the ledger's foreign-key checks still
    pass; `lock_loaded_account` where the account is loaded already): what one of
    them judges from the account's payments and balance (what went to the minimum, what a
    reversal takes beyond it, how a payment is split) must see every other one that committed
    before. Two payments of one account posted at once each judged the minimum without the
    other, and their shares of it added up to more than it. Taken after the payment's lock,
    as the fast path takes both (`payments.fast_posting`), and before any plan, nightly state
    or audit head; the nightly run and the feed import take the account's row before anything
    too, so the order is the same everywhere."""
    lock_accounts_money([account_id])


def lock_loaded_account(account: Account) -> None:
    """`lock_account_money` for an account this transaction loaded before the lock (with the
    payment, say): the lock's statement reads the account's columns again, so what a feed
    committed while this waited (a new minimum due, oldest unpaid date) is what the path
    judges from, not what it read a moment before. Postings, reversals and reinstatements
    (the account came with the payment) and a plan being agreed (`plans.lifecycle.submit`,
    `plans.decisions`: priced from the balance under this lock) take it so."""
    if is_postgres():
        db.session.scalars(_loaded_account_lock(), {"id": account.id}).one()  # loaded: refreshed


@cache
def _loaded_account_lock():
    """`lock_loaded_account`'s statement, built once (FOR NO KEY UPDATE is `key_share`)."""
    return (select(Account).where(Account.id == bindparam("id"))
            .with_for_update(key_share=True).execution_options(populate_existing=True))


def lock_accounts_money(ids) -> None:
    """`lock_account_money` for several accounts at once, in id order: the order in which the
    nightly run claims them (`ORDER BY id ... FOR UPDATE`), so a batch writing many accounts
    (a feed chunk) never holds a later account while it waits for an earlier one the nightly
    run holds, which then waits for the later one."""
    if ids and is_postgres():
        # One array parameter, however many accounts (an IN list is compiled per call).
        db.session.execute(_ACCOUNTS_LOCK, {"ids": sorted(ids)})


_ACCOUNTS_LOCK = text("SELECT id FROM account WHERE id = ANY(:ids) ORDER BY id "
                      "FOR NO KEY UPDATE")


def share_account(account_id: int) -> None:
    """Take the account's row as a ledger entry's foreign-key check takes it (FOR KEY SHARE,
    PostgreSQL), ahead of the entry: a path that holds no other lock on the account and will
    post after its audit event (the plan checks) waits here for a nightly claim before it holds
    the account's audit head. Free under a posting's NO KEY UPDATE."""
    if is_postgres():
        db.session.execute(_SHARE, {"account_id": account_id})


_SHARE = text("SELECT id FROM account WHERE id = :account_id FOR KEY SHARE")
