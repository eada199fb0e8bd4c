"""Each account's page figures (balance and consequence timeline), kept per web process while
nothing they are derived from has changed (issue 15).

Building an account's figures is 9 of the dashboard's 12 statements and about half of its
Python. They are a function of the account row, the tables the migration
0029_page_version watches, the policies, the cardholder's time zone and the day: the
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

from portal.account_pages.models import POLICIES, PageVersion
from portal.accounts.models import Account
from portal.balances.services import Balance, balances_for
from portal.consequences.services import timelines_for
from portal.consequences.types import Timeline
from portal.extensions import db

# The registered timeline sources and pause providers whose tables the triggers cover
# (function names; tests/integration/test_page_figures.py compares them with the registries).
WATCHED_PROVIDERS = frozenset({
    "legal_items_for", "correction_items_for", "plan_change_items_for",
    "hold_pause", "plan_pause", "promise_pause", "care_pause",
    "hold_pauses", "plan_pauses", "promise_pauses", "care_pauses",
})
MAX_ACCOUNTS = 20_000  # per process: a few kB an account, well under the 200 MB a worker

_TOKENS = select(PageVersion.account_id, PageVersion.token).where(
    PageVersion.account_id.in_(bindparam("ids", expanding=True)))


def _kept() -> OrderedDict[int, tuple[tuple, Balance, Timeline | None]]:
    """This app's kept figures (per app: two apps in one process may use two databases)."""
    return current_app.extensions.setdefault("page_figures", OrderedDict())


def _facts(account: Account) -> tuple:
    """What the figures read from the account and cardholder rows (the account's token changes
    with the account row too; the time zone decides the day of a plan change)."""
    return (account.cardholder_id, account.currency, account.policy_profile,
            account.minimum_due, account.oldest_unpaid_due_date, account.feed_as_of,
            account.cardholder.timezone)


def build(accounts: list[Account], as_of: date) -> tuple[dict[int, Balance], dict]:
    """Balances and timelines as built from the database (no keeping)."""
    balances = balances_for(accounts, as_of)
    return balances, timelines_for(accounts, as_of, balances)


def figures_for(accounts: list[Account], as_of: date) -> tuple[dict[int, Balance], dict]:
    """Balances and timelines of the accounts on `as_of`, by account id: those kept for an
    unchanged key, the others built (then kept). Equal to `build` in every case."""
    if not accounts or not current_app.config.get("PAGE_FIGURES_KEPT", True):
        return build(accounts, as_of)
    tokens = {account_id: token for account_id, token in db.session.execute(
        _TOKENS, {"ids": [a.id for a in accounts] + [POLICIES]})}
    kept_figures = _kept()
    balances, timelines, missing = {}, {}, []
    for account in accounts:
        token = tokens.get(account.id)
        key = (token, tokens.get(POLICIES), as_of, _facts(account))
        kept = kept_figures.get(account.id)
        if token is not None and kept is not None and kept[0] == key:
            kept_figures.move_to_end(account.id)
            balances[account.id], timelines[account.id] = kept[1], kept[2]
        else:
            missing.append((account, key))
    if missing:
        built_balances, built_timelines = build([a for a, _ in missing], as_of)
        for account, key in missing:
            balance, timeline = built_balances[account.id], built_timelines.get(account.id)
            balances[account.id], timelines[account.id] = balance, timeline
            if key[0] is not None:
                kept_figures[account.id] = (key, balance, timeline)
                kept_figures.move_to_end(account.id)
        while len(kept_figures) > MAX_ACCOUNTS:
            kept_figures.popitem(last=False)
    return balances, timelines


def forget() -> None:
    """Drop this app's kept figures (tests; never needed for correctness)."""
    _kept().clear()
