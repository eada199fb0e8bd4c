"""Each account's page figures (balance and consequence timeline), kept per web process while
nothing they are derived from has changed (issue 15).

Building an account's figures is 9 of the dashboard's 12 statements and about half of its
Python. They are a function of the account row, the tables the migration
0030_page_version watches, the policies, the cardholder's time zone and the day: the
triggers renew the account's token (and row 0's, for the policies) with every write to
those tables, in the write's transaction. So the figures of one (token, policies token,
day, account facts) are the same whenever they are built, and a page reads the tokens (one
statement) and rebuilds only the accounts whose key changed. A hit is what a miss would
build: `tests/integration/test_page_figures.py` checks it after sequences of money events,
on SQLite and PostgreSQL.

The tokens are read before the figures, in the same transaction: figures built from a newer
state than the tokens read are stored under the older key, which the newer token then
replaces; never the other way round. Tokens are never reused (see the model). Only committed
or own-transaction state is read, and a rolled-back write leaves a token nobody will read
again.

A feature that adds a timeline source or a pause provider reading another table must add
that table to the migration's triggers: `WATCHED_PROVIDERS` names the registered ones this
module was checked against, and a test fails when the registries differ.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import date

from flask import current_app
from sqlalchemy import bindparam, select

from portal.accounts.versions import POLICIES, PageVersion
from portal.accounts.models import Account
from portal.balances.services import Balance, balances_for
from portal.consequences.services import timelines_for
from portal.extensions import db

# The registered timeline sources and pause providers whose tables the triggers cover
# (function names; tests/integration/test_page_figures.py compares them with the registries).
WATCHED_PROVIDERS = frozenset({
    "legal_items_for", "correction_items_for", "plan_change_items_for",
    "hold_pause", "plan_pause", "promise_pause", "care_pause",
    "hold_pauses", "plan_pauses", "promise_pauses", "care_pauses",
})
MAX_KEPT = 20_000  # per process (figures and page parts): a few kB each, well under 200 MB

_TOKENS = select(PageVersion.account_id, PageVersion.token).where(
    PageVersion.account_id.in_(bindparam("ids", expanding=True)))


def _kept() -> OrderedDict:
    """This app's kept figures (per app: two apps in one process may use two databases)."""
    return current_app.extensions.setdefault("page_figures", OrderedDict())


def _facts(account: Account) -> tuple:
    """What the figures read from the account and cardholder rows (the account's token changes
    with the account row too; the time zone decides the day of a plan change)."""
    return (account.cardholder_id, account.currency, account.policy_profile,
            account.minimum_due, account.oldest_unpaid_due_date, account.feed_as_of,
            account.cardholder.timezone)


def build(accounts: list[Account], as_of: date,
          timelines=timelines_for) -> tuple[dict[int, Balance], dict]:
    """Balances and timelines as built from the database (no keeping)."""
    balances = balances_for(accounts, as_of)
    return balances, timelines(accounts, as_of, balances)


def keys_for(accounts: list[Account], as_of: date) -> dict[int, tuple | None]:
    """Each account's key on `as_of` (one statement), None for an account without a token.
    Read on the session's connection (its transaction, if any) as a Core statement: the rows
    are two integers, and the ORM's execution around them cost more than the statement."""
    tokens = {account_id: token for account_id, token in db.session.connection().execute(
        _TOKENS, {"ids": [a.id for a in accounts] + [POLICIES]})}
    return {a.id: (tokens[a.id], tokens.get(POLICIES), as_of, _facts(a))
            if tokens.get(a.id) is not None else None for a in accounts}


def keeping() -> bool:
    return current_app.config.get("PAGE_FIGURES_KEPT", True)


def figures_for(accounts: list[Account], as_of: date, keys: dict[int, tuple | None] | None = None,
                timelines_of=timelines_for) -> tuple[dict[int, Balance], dict]:
    """Balances and timelines of the accounts on `as_of`, by account id: kept ones when every
    account's key is unchanged, else all built (then kept). Equal to `build` in every case.
    `keys`: from `keys_for`, read before anything else of this page; `timelines_of`: how to
    build the timelines (`timelines_for`, or a page's test stand-in)."""
    if not accounts or not keeping():
        return build(accounts, as_of, timelines_of)
    keys = keys if keys is not None else keys_for(accounts, as_of)
    kept_figures = _kept()
    kept = [kept_figures.get(a.id) for a in accounts]
    if all(k is not None and keys[a.id] is not None and k[0] == keys[a.id]
           for a, k in zip(accounts, kept)):
        for account in accounts:
            kept_figures.move_to_end(account.id)
        return ({a.id: k[1] for a, k in zip(accounts, kept)},
                {a.id: k[2] for a, k in zip(accounts, kept)})
    # One account changed: all are built, so the page's reads are the same statements whatever
    # was kept (the plans behind the plan pause and the plan facts stay one shared read).
    balances, timelines = build(accounts, as_of, timelines_of)
    for account in accounts:
        _keep(account.id, keys[account.id], (balances[account.id], timelines.get(account.id)))
    return balances, timelines


def kept_html(part: str, account_id: int, key: tuple | None):
    """The HTML `part` of an account's page kept for `key` (see `keep_html`), else None."""
    kept = _kept().get((part, account_id)) if key is not None and keeping() else None
    return kept[1] if kept is not None and kept[0] == key else None


def keep_html(part: str, account_id: int, key: tuple | None, html) -> None:
    """Keep a part of a page rendered from nothing but the account's figures, plans and care
    records (all behind its token), the day and what `key` adds (the reader's locale, the
    script root): no form, no nonce, nothing of the signed-in session."""
    if keeping():
        _keep((part, account_id), key, html)


def _keep(slot, key: tuple | None, value) -> None:
    if key is None:
        return
    kept = _kept()
    kept[slot] = (key, *value) if isinstance(value, tuple) else (key, value)
    kept.move_to_end(slot)
    while len(kept) > MAX_KEPT:
        kept.popitem(last=False)


def forget() -> None:
    """Drop this app's kept figures (tests; never needed for correctness)."""
    _kept().clear()
