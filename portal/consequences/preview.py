"""What publishing a policy document would change, counted against current balances.

The policy editor (portal.policy.routes) shows it; portal.wiring registers it there."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import Account, AccountStatus
from portal.balances.services import balances_for
from portal.consequences.engine import AccountDay
from portal.consequences.services import recorded_kinds
from portal.extensions import db
from portal.policy.rules import Policy

BATCH = 1000


@dataclass(frozen=True)
class Preview:
    accounts: int  # active accounts on the profile
    stage_changes: int  # would be in another stage today
    new_dates: int  # would get a different date (or none) for an upcoming consequence


def _upcoming_dates(policy: Policy, account, dpd: int, recorded: set[str], as_of: date):
    if dpd <= 0 or account.oldest_unpaid_due_date is None:
        return {}
    baseline = AccountDay(account.id, account.currency, account.minimum_due,
                          account.oldest_unpaid_due_date, account.feed_as_of).baseline_dpd
    return {c.kind: as_of + timedelta(days=max(0, c.dpd - dpd)) for c in policy.consequences
            if c.kind not in recorded and c.dpd > baseline}


def preview_change(profile: str, current: Policy, proposed: Policy, as_of: date) -> Preview:
    """Counts of accounts whose stage or upcoming consequence dates would differ.

    Reads accounts in batches of 1,000 with three queries per batch (accounts, balances,
    recorded consequences); writes nothing.
    """
    accounts = stage_changes = new_dates = 0
    last_id = 0
    while True:
        batch = db.session.scalars(
            select(Account).where(Account.policy_profile == profile, Account.id > last_id,
                                  Account.status.in_((AccountStatus.OPEN, AccountStatus.BLOCKED)))
            .order_by(Account.id).limit(BATCH)).all()
        if not batch:
            break
        last_id = batch[-1].id
        balances = balances_for(batch, as_of)
        recorded = recorded_kinds(batch)
        for account in batch:
            dpd = balances[account.id].days_past_due
            accounts += 1
            if current.stage_for(dpd) != proposed.stage_for(dpd):
                stage_changes += 1
            kinds = recorded[account.id]
            if _upcoming_dates(current, account, dpd, kinds, as_of) != \
                    _upcoming_dates(proposed, account, dpd, kinds, as_of):
                new_dates += 1
        db.session.expire_all()
    return Preview(accounts, stage_changes, new_dates)
