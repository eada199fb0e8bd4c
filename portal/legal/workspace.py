"""What the legal workspace reads: the list of accounts with legal and one account's context."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from portal.accounts.models import Account
from portal.balances.services import Balance, balances_for
from portal.consequences.models import ConsequenceEvent
from portal.core.pagination import clamp_page
from portal.extensions import db
from portal.legal.models import LegalAction
from portal.legal.services import effective_steps
from portal.staff.account_context import account_context as shared_account_context

PER_PAGE = 25


@dataclass(frozen=True)
class ReferredAccount:
    account: Account  # with its cardholder loaded
    balance: Balance
    referred_on: date  # the nightly referral (latest), else the first legal step
    last_step: LegalAction | None  # the newest step that counts


@dataclass(frozen=True)
class ReferredPage:
    rows: list[ReferredAccount]
    page: int
    has_previous: bool
    has_next: bool
    as_of: date


def referred_page(as_of: date, profile: str | None = None, page: int = 1,
                  per_page: int = PER_PAGE) -> ReferredPage:
    """One page of accounts referred to legal (a legal_referral recorded by the nightly run,
    or any legal action on record), newest referral first, with cardholder, balance as of
    `as_of` and last step. Three queries whatever the page size: the page, the balances,
    the legal actions of the page's accounts."""
    page = clamp_page(page)
    referral = (select(ConsequenceEvent.account_id.label("account_id"),
                       func.max(ConsequenceEvent.occurred_on).label("referred_on"))
                .where(ConsequenceEvent.kind == "legal_referral")
                .group_by(ConsequenceEvent.account_id).subquery())
    first_step = (select(LegalAction.account_id.label("account_id"),
                         func.min(LegalAction.occurred_on).label("first_on"))
                  .group_by(LegalAction.account_id).subquery())
    referred_on = func.coalesce(referral.c.referred_on, first_step.c.first_on)
    query = (select(Account, referred_on.label("referred_on"))
             .join(Account.cardholder).options(contains_eager(Account.cardholder))
             .outerjoin(referral, referral.c.account_id == Account.id)
             .outerjoin(first_step, first_step.c.account_id == Account.id)
             .where(referred_on.is_not(None)))
    if profile:
        query = query.where(Account.policy_profile == profile)
    query = (query.order_by(referred_on.desc(), Account.id.desc())
             .offset((page - 1) * per_page).limit(per_page + 1))
    found = db.session.execute(query).all()
    shown = found[:per_page]
    accounts = [row[0] for row in shown]
    balances = balances_for(accounts, as_of)
    steps = last_steps_for([a.id for a in accounts])
    rows = [ReferredAccount(account, balances[account.id], on, steps.get(account.id))
            for account, on in shown]
    return ReferredPage(rows, page, page > 1, len(found) > per_page, as_of)


def last_steps_for(account_ids: list[int]) -> dict[int, LegalAction]:
    """The newest step that counts per account (one query)."""
    if not account_ids:
        return {}
    grouped: dict[int, list[LegalAction]] = {}
    for row in db.session.scalars(select(LegalAction)
                                  .where(LegalAction.account_id.in_(account_ids))):
        grouped.setdefault(row.account_id, []).append(row)
    result = {}
    for account_id, rows in grouped.items():
        steps = effective_steps(rows)
        if steps:
            result[account_id] = steps[-1]
    return result


def account_context(account, as_of: date) -> dict:
    """Everything legal reads about the account, with its referral dates; read-only."""
    referrals = list(db.session.scalars(
        select(ConsequenceEvent).where(ConsequenceEvent.account_id == account.id,
                                       ConsequenceEvent.kind == "legal_referral")
        .order_by(ConsequenceEvent.occurred_on.desc())))
    return {**shared_account_context(account, as_of), "referrals": referrals}
